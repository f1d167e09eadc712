"""The C++ side of the encoder's IR layers: each layer's config struct and its function call.

The functions and config bases are in templates/hls, one header a layer as hls4ml's nnet_utils (nnet_seq_dense.h:
``nnet::token_embed``, ``dense_seq``; nnet_seq_layernorm.h: ``layernorm_seq``; nnet_gelu_lut.h: ``gelu_lut``;
nnet_token_pool.h: ``token_pool``; nnet_had_encoder.h includes them all; with nnet_attention_common.h and
nnet_attention_stages.h, :data:`HEADERS`), each with an io_stream form (``_stream``: one token a stream word, the
whole-model projects) and an io_parallel form. :func:`config_lines` writes a layer's config struct from its
attributes, its :class:`~had_hls.hls.encoder_layers.EncoderHW` types and (Linear layers) its ProjectionPlan;
:func:`template_classes` makes the hls4ml LayerConfigTemplate / FunctionCallTemplate of every layer of
:data:`~had_hls.hls.encoder_ir.LAYERS`.
"""

from __future__ import annotations

import math

from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.layers import Layer

from had_hls.hls.encoder_ir import LAYERS
from had_hls.hls.encoder_layers import EncoderHW
from had_hls.hls.projection_plan import ceil_div

HEADERS = ("nnet_attention_common.h", "nnet_attention_stages.h", "nnet_seq_dense.h", "nnet_seq_layernorm.h",
           "nnet_gelu_lut.h", "nnet_token_pool.h", "nnet_had_encoder.h")


def _accum(hw: EncoderHW) -> str:
    return hw.accum.cpp()


def _inv_n_type(n: int) -> str:
    return "ap_ufixed<32,1>" if n > 1 else "ap_ufixed<2,1>"


def config_lines(node: Layer) -> list[str]:
    """The static consts and typedefs of ``node``'s config struct (it derives from nnet::<base>, _BASES)."""
    hw: EncoderHW = node.get_attr("hw")
    cls = node.class_name
    if cls in ("HADTokenEmbed", "HADDenseSeq"):
        lines = [
            f"    static const unsigned seq_len = {node.get_attr('seq_len')};",
            *node.get_attr("plan").config_lines(),
            f"    typedef {node.get_weights('weight').type.name} weight_t;",
            f"    typedef {hw.bias.cpp()} bias_t;",
            f"    typedef {_accum(hw)} accum_t;",
        ]
        if cls == "HADTokenEmbed":
            lines += [
                f"    static const unsigned seq_in = {node.get_attr('seq_in')};",
                f"    static const bool cls = {'true' if node.get_attr('cls') else 'false'};",
            ]
        return lines
    if cls == "HADLayerNorm":
        return [
            f"    static const unsigned seq_len = {node.get_attr('seq_len')};",
            f"    static const unsigned n_in = {node.get_attr('n_in')};",
            f"    static const unsigned table_bits = {hw.ln_table_bits};",
            f"    static const unsigned var_width = {hw.ln_var.width};",
            f"    static const unsigned var_frac = {hw.ln_var.frac};",
            f"    typedef {_accum(hw)} accum_t;",
            f"    typedef {hw.ln_var.cpp()} var_t;",
            f"    typedef {_inv_n_type(node.get_attr('n_in'))} inv_n_t;",
            f"    typedef {hw.ln_table.cpp()} table_t;",
            f"    typedef {hw.ln_inv_std.cpp()} inv_std_t;",
            f"    typedef {_accum(hw)} norm_t;",
            f"    typedef {hw.ln_scale.cpp()} scale_t;",
            f"    typedef {hw.bias.cpp()} bias_t;",
        ]
    if cls == "HADGELU":
        shape = node.get_attr("shape")
        token = int(shape[-1])
        lanes = ceil_div(token, max(1, min(int(node.get_attr("reuse_factor")), token)))
        return [
            f"    static const unsigned n_in = {math.prod(shape)};",
            f"    static const unsigned n_token = {token};",
            f"    static const unsigned n_tokens = {math.prod(shape) // token};",
            f"    static const unsigned lanes = {lanes};",
            f"    static const unsigned cycles = {ceil_div(token, lanes)};",
            f"    static const unsigned table_bits = {hw.gelu_table_bits};",
            f"    static const int range_bits = {hw.gelu_range_bits};",
            f"    typedef {hw.gelu_table.cpp()} table_t;",
        ]
    if cls == "HADTokenPool":
        return [
            f"    static const unsigned seq_len = {node.get_attr('seq_len')};",
            f"    static const unsigned n_in = {node.get_attr('n_in')};",
            f"    static const bool cls = {'true' if node.get_attr('mode') == 'cls' else 'false'};",
            f"    typedef {_accum(hw)} accum_t;",
            f"    typedef {_inv_n_type(node.get_attr('seq_len'))} inv_n_t;",
        ]
    raise ValueError(f"no config for {cls}")


_BASES = {
    "HADTokenEmbed": ("token_embed_config", "token_embed", ("weight", "bias2d")),
    "HADDenseSeq": ("dense_seq_config", "dense_seq", ("weight", "bias")),
    "HADLayerNorm": ("layernorm_seq_config", "layernorm_seq", ("scale", "bias", "epsilon", "rsqrt_table")),
    "HADGELU": ("gelu_lut_config", "gelu_lut", ("table",)),
    "HADTokenPool": ("token_pool_config", "token_pool", ()),
}


def template_classes() -> list[type]:
    """One config template and one function-call template per IR layer of :data:`LAYERS`."""
    out: list[type] = []
    for ir_name, layer_cls in LAYERS.items():
        base, function, weights = _BASES[ir_name]

        def make(layer_cls=layer_cls, base=base, function=function, weights=weights):
            class ConfigTemplate(LayerConfigTemplate):
                def __init__(self) -> None:
                    super().__init__(layer_cls)

                def format(self, node: Layer) -> str:
                    body = "\n".join(config_lines(node))
                    return f"struct config{node.index} : nnet::{base} {{\n{body}\n}};\n"

            class FunctionTemplate(FunctionCallTemplate):
                def __init__(self) -> None:
                    super().__init__(layer_cls, include_header=[f"nnet_utils/{h}" for h in HEADERS])

                def format(self, node: Layer) -> str:
                    p = self._default_function_params(node)
                    args = [p["input"], p["output"], *(node.get_weights(w).name for w in weights)]
                    stream = "_stream" if node.model.config.get_config_value("IOType") == "io_stream" else ""
                    return (
                        f"nnet::{function}{stream}<{p['input_t']}, {p['output_t']}, {p['config']}>({', '.join(args)});"
                    )

            ConfigTemplate.__name__ = f"{layer_cls.__name__}ConfigTemplate"
            FunctionTemplate.__name__ = f"{layer_cls.__name__}FunctionTemplate"
            return [ConfigTemplate, FunctionTemplate]

        out += make()
    return out



__all__ = ["HEADERS", "config_lines", "template_classes"]
