"""hls4ml layers for the non-attention parts of a HAD encoder on ``[seq, feature]`` data (io_stream and io_parallel).

hls4ml 1.3.0's PyTorch front end covers Linear, ReLU and residual ``add`` on ``(L, E)`` (with
:mod:`had_hls.hls.frontend_fixes`), but not the rest of a ViT encoder:

- ``LayerNorm``: hls4ml converts it, but its 1/sqrt table is indexed linearly over var in [0, 1] and clamps above
  (``table_range_power2`` is unsigned), so a residual stream with var > 1 gets a wrong scale (pinned by
  tests/test_model_convert_layers.py). :class:`SeqLayerNorm` -> ``HADLayerNorm``: 1/sqrt from a (parity, mantissa)
  table, exact to the table's resolution for any variance.
- ``GELU``: no handler. :class:`LUTGELU` -> ``HADGELU``: a table over [-2^RB, 2^RB), identity above, 0 below.
- ``mean(dim=1)`` / ``x[:, 0]`` (pooling over tokens): no handler. :class:`TokenPool` -> ``HADTokenPool``.
- positional table (an ``nn.Parameter`` added to the tokens) and CLS token: no handler for ``get_attr``.
  :class:`TokenEmbedding` -> ``HADTokenEmbed``: patch/token Linear + positional table (+ CLS row), one layer.
- Linear on ``(L, E)``: :class:`SeqLinear` -> ``HADDenseSeq`` (the same Linear per token, weights (out, in) as
  torch stores them): hls4ml's own route (Dense -> pointwise Conv1D) works with the front-end fix but g++ takes
  much longer on its unrolled code; see model_convert's ``dense`` option.

Each torch module is an ``HLS4MLModule`` leaf with the float semantics of the layer it replaces; its hardware
knobs travel as the module attribute ``hw`` (a :class:`EncoderHW`). The C++ is templates/hls/nnet_had_encoder.h:
each layer has an io_stream form (one token a stream word; the whole-model projects) and an io_parallel form. The
Linear layers honour hls4ml's ReuseFactor and Strategy (a :class:`had_hls.hls.projection_plan.ProjectionPlan`: weights
emitted cycle-major); HADGELU's ReuseFactor is its cycles a token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import hls4ml
import hls4ml.utils.torch
import numpy as np
import torch
import torch.nn.functional as F
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.attributes import ConfigurableAttribute
from hls4ml.model.layers import Layer
from hls4ml.model.types import FixedPrecisionType
from torch import nn

from had_hls.fixed import FixedType
from had_hls.hls.attention_layers import BACKENDS, HLS_TEMPLATE_DIR, hls_precision
from had_hls.hls.projection_plan import ProjectionPlan, ceil_div, strategy_name

HEADERS = ("nnet_attention_common.h", "nnet_attention_stages.h", "nnet_had_encoder.h")


@dataclass(frozen=True)
class EncoderHW:
    """Internal types and table sizes of the encoder layers (from the project's ``convert:`` section)."""

    weight: FixedType = FixedType(16, 4)
    bias: FixedType = FixedType(16, 6)
    accum: FixedType = FixedType(40, 16)
    ln_var: FixedType = FixedType(48, 18, signed=False)
    ln_table: FixedType = FixedType(18, 1, signed=False)
    ln_inv_std: FixedType = FixedType(32, 10, signed=False)
    ln_table_bits: int = 10
    ln_scale: FixedType = FixedType(16, 4)
    gelu_table: FixedType = FixedType(18, 5)
    gelu_table_bits: int = 11
    gelu_range_bits: int = 2


# ------------------------------------------------------------------------------------------------ torch leaves
class TokenEmbedding(hls4ml.utils.torch.HLS4MLModule):
    """(B, L_in, K) patch/token vectors -> (B, L, E): Linear, then [CLS row first], then + positional table."""

    def __init__(self, linear: nn.Linear, pos: torch.Tensor | None, cls: torch.Tensor | None) -> None:
        super().__init__()
        self.linear = linear
        self.pos = None if pos is None else nn.Parameter(pos.detach().reshape(-1, linear.out_features).clone())
        self.cls = None if cls is None else nn.Parameter(cls.detach().reshape(1, linear.out_features).clone())
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.linear(x)
        if self.cls is not None:
            t = torch.cat([self.cls.expand(t.shape[0], 1, -1).to(t.dtype), t], dim=1)
        return t if self.pos is None else t + self.pos.to(t.dtype)

    def bias2d(self, seq_in: int) -> np.ndarray:
        """(L, E) float table: Linear bias + positional row (the CLS row: cls + pos[0])."""
        e = self.linear.out_features
        b = np.zeros(e) if self.linear.bias is None else self.linear.bias.detach().double().numpy()
        rows = [b] * seq_in
        if self.cls is not None:
            rows = [self.cls.detach().double().numpy()[0]] + rows
        table = np.stack(rows)
        if self.pos is not None:
            table = table + self.pos.detach().double().numpy()[: table.shape[0]]
        return table


class SeqLinear(hls4ml.utils.torch.HLS4MLModule):
    """The same Linear on every token: (B, L, n_in) -> (B, L, n_out)."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.linear = linear
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class SeqLayerNorm(hls4ml.utils.torch.HLS4MLModule):
    """LayerNorm over the last axis of (B, L, E)."""

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        if len(norm.normalized_shape) != 1 or not norm.elementwise_affine:
            raise ValueError("only LayerNorm(E) over the feature axis with elementwise_affine is supported")
        self.norm = norm
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


class LUTGELU(hls4ml.utils.torch.HLS4MLModule):
    """GELU (exact erf form or tanh approximation, as the wrapped module) elementwise."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate=self.approximate)


class TokenPool(hls4ml.utils.torch.HLS4MLModule):
    """(B, L, E) -> (B, E): mean over tokens (``mean``) or the first token (``cls``)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        if mode not in ("mean", "cls"):
            raise ValueError(f"pool mode must be 'mean' or 'cls', got {mode!r}")
        self.mode = mode
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1) if self.mode == "mean" else x[:, 0]


# ------------------------------------------------------------------------------------------------ tables
def quantize_to(t: FixedType, values: np.ndarray) -> np.ndarray:
    """Float values rounded to the nearest point of ``t``'s grid, saturated (so hls4ml writes them exactly)."""
    r = replace(t, quant="AP_RND_CONV", overflow="AP_SAT")
    return r.to_float(r.from_float(np.asarray(values, dtype=np.float64)))


def rsqrt_table(bits: int, t: FixedType) -> np.ndarray:
    """table[p * 2^R + j] = 1/sqrt(2^p (1 + (j + 1/2) 2^-R)), p in {0, 1}: 1/sqrt of a mantissa in [1, 4)."""
    j = np.arange(1 << bits, dtype=np.float64)
    m = 1.0 + (j + 0.5) * 2.0**-bits
    return quantize_to(t, np.concatenate([1.0 / np.sqrt(m), 1.0 / np.sqrt(2.0 * m)]))


def gelu_table(table_bits: int, range_bits: int, approximate: str, t: FixedType) -> np.ndarray:
    """GELU at the centres of 2^TB bins over [-2^RB, 2^RB)."""
    step = 2.0 ** (range_bits + 1 - table_bits)
    x = -(2.0**range_bits) + (np.arange(1 << table_bits) + 0.5) * step
    y = F.gelu(torch.tensor(x, dtype=torch.float64), approximate=approximate).numpy()
    return quantize_to(t, y)


# ------------------------------------------------------------------------------------------------ IR layers
def _weights(layer: Layer, name: str, data: np.ndarray, t: FixedType) -> None:
    layer.add_weights_variable(
        name=name, var_name=f"{name}{{index}}", precision=hls_precision(t), data=quantize_to(t, data).reshape(-1)
    )


_REUSE = ConfigurableAttribute("reuse_factor", default=1, description="ReuseFactor (cycles a token)")


class _DenseLayer(Layer):
    """A Linear per token: ReuseFactor / Strategy -> :class:`ProjectionPlan` (attr ``plan``), cycle-major weights."""

    _expected_attributes = [_REUSE]

    def plan(self) -> ProjectionPlan:
        n_in, n_out = self.get_attr("n_in"), self.get_attr("n_out")
        try:
            strategy = strategy_name(self.model.config.get_strategy(self))
            plan = ProjectionPlan.for_reuse(n_in, n_out, int(self.get_attr("reuse_factor")), strategy)
        except ValueError as err:
            raise ValueError(f"layer {self.name}: {err}") from None
        self.set_attr("plan", plan)
        return plan


class HADTokenEmbed(_DenseLayer):
    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable([self.get_attr("seq_len"), self.get_attr("n_out")])
        _weights(self, "weight", self.plan().layout(self.get_attr("weight_data")), hw.weight)
        _weights(self, "bias2d", self.get_attr("bias2d_data"), hw.bias)


class HADDenseSeq(_DenseLayer):
    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable([self.get_attr("seq_len"), self.get_attr("n_out")])
        _weights(self, "weight", self.plan().layout(self.get_attr("weight_data")), hw.weight)
        _weights(self, "bias", self.get_attr("bias_data"), hw.bias)


class HADLayerNorm(Layer):
    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable([self.get_attr("seq_len"), self.get_attr("n_in")])
        _weights(self, "scale", self.get_attr("scale_data"), hw.ln_scale)
        _weights(self, "bias", self.get_attr("bias_data"), hw.bias)
        eps = max(float(self.get_attr("epsilon")), 2.0**-hw.ln_var.frac)
        _weights(self, "epsilon", np.array([eps]), hw.ln_var)
        _weights(self, "rsqrt_table", rsqrt_table(hw.ln_table_bits, hw.ln_table), hw.ln_table)


class HADGELU(Layer):
    """GELU by table; ReuseFactor = cycles a token (ceil(F / RF) table reads a cycle in the io_stream form)."""

    _expected_attributes = [_REUSE]

    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable(list(self.get_attr("shape")))
        table = gelu_table(hw.gelu_table_bits, hw.gelu_range_bits, self.get_attr("approximate"), hw.gelu_table)
        _weights(self, "table", table, hw.gelu_table)


class HADTokenPool(Layer):
    def initialize(self) -> None:
        self.add_output_variable([self.get_attr("n_in")])


LAYERS: dict[str, type[Layer]] = {
    "HADTokenEmbed": HADTokenEmbed,
    "HADDenseSeq": HADDenseSeq,
    "HADLayerNorm": HADLayerNorm,
    "HADGELU": HADGELU,
    "HADTokenPool": HADTokenPool,
}


# ------------------------------------------------------------------------------------------------ templates
def _accum(hw: EncoderHW) -> str:
    return hw.accum.cpp()


def _inv_n_type(n: int) -> str:
    return "ap_ufixed<32,1>" if n > 1 else "ap_ufixed<2,1>"


def _config_lines(node: Layer) -> list[str]:
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


def _templates() -> list[type]:
    out: list[type] = []
    for ir_name, layer_cls in LAYERS.items():
        base, function, weights = _BASES[ir_name]

        def make(layer_cls=layer_cls, base=base, function=function, weights=weights):
            class ConfigTemplate(LayerConfigTemplate):
                def __init__(self) -> None:
                    super().__init__(layer_cls)

                def format(self, node: Layer) -> str:
                    body = "\n".join(_config_lines(node))
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


# ------------------------------------------------------------------------------------------------ parsers
def _seq_shape(layer_name: str, shape: list, what: str) -> tuple[int, int]:
    if len(shape) != 3:
        raise ValueError(f"layer {layer_name}: {what} expects a (batch, L, features) input, got {shape}")
    return int(shape[1]), int(shape[2])


def parse_token_embedding(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_in, n_in = _seq_shape(layer_name, input_shapes[0], "TokenEmbedding")
    lin = class_object.linear
    cls = class_object.cls is not None
    seq_len = seq_in + (1 if cls else 0)
    if class_object.pos is not None and class_object.pos.shape[0] != seq_len:
        raise ValueError(f"layer {layer_name}: positional table has {class_object.pos.shape[0]} rows, need {seq_len}")
    layer = {
        "class_name": "HADTokenEmbed",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_in": seq_in,
        "seq_len": seq_len,
        "n_in": n_in,
        "n_out": lin.out_features,
        "cls": cls,
        "weight_data": lin.weight.detach().double().numpy(),
        "bias2d_data": class_object.bias2d(seq_in),
    }
    return layer, [None, seq_len, lin.out_features]


def parse_seq_linear(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_len, n_in = _seq_shape(layer_name, input_shapes[0], "SeqLinear")
    lin = class_object.linear
    bias = np.zeros(lin.out_features) if lin.bias is None else lin.bias.detach().double().numpy()
    layer = {
        "class_name": "HADDenseSeq",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_len": seq_len,
        "n_in": n_in,
        "n_out": lin.out_features,
        "weight_data": lin.weight.detach().double().numpy(),
        "bias_data": bias,
    }
    return layer, [None, seq_len, lin.out_features]


def parse_layer_norm(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_len, n_in = _seq_shape(layer_name, input_shapes[0], "LayerNorm")
    norm = class_object.norm
    layer = {
        "class_name": "HADLayerNorm",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_len": seq_len,
        "n_in": n_in,
        "epsilon": float(norm.eps),
        "scale_data": norm.weight.detach().double().numpy(),
        "bias_data": norm.bias.detach().double().numpy(),
    }
    return layer, list(input_shapes[0])


def parse_gelu(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    layer = {
        "class_name": "HADGELU",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "shape": [int(s) for s in input_shapes[0][1:]],
        "approximate": class_object.approximate,
    }
    return layer, list(input_shapes[0])


def parse_token_pool(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_len, n_in = _seq_shape(layer_name, input_shapes[0], "TokenPool")
    layer = {
        "class_name": "HADTokenPool",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_len": seq_len,
        "n_in": n_in,
        "mode": class_object.mode,
    }
    return layer, [None, n_in]


HANDLERS = {
    "TokenEmbedding": parse_token_embedding,
    "SeqLinear": parse_seq_linear,
    "SeqLayerNorm": parse_layer_norm,
    "LUTGELU": parse_gelu,
    "TokenPool": parse_token_pool,
}

_registered = False


def register() -> None:
    """Register handlers, IR layers, templates and the header with hls4ml (Vivado and Vitis). Idempotent.

    Also registers the attention layers (:func:`had_hls.hls.attention_layers.register`) and the front-end fixes.
    """
    global _registered
    if _registered:
        return
    from had_hls.hls.attention_layers import register as register_attention
    from had_hls.hls.build import add_layer_classes, add_sources
    from had_hls.hls.frontend_fixes import add_had_torch_classes
    from had_hls.hls.handlers import set_pytorch_handler

    register_attention()
    add_had_torch_classes(list(HANDLERS))
    add_layer_classes(list(LAYERS))
    add_sources([Path(HLS_TEMPLATE_DIR) / header for header in HEADERS])
    for torch_class, handler in HANDLERS.items():
        set_pytorch_handler(torch_class, handler)
    for ir_name, cls in LAYERS.items():
        hls4ml.model.layers.register_layer(ir_name, cls)
    templates = _templates()
    for name in BACKENDS:
        backend = hls4ml.backends.get_backend(name)
        for template in templates:
            backend.register_template(template)
    _registered = True


__all__ = [
    "EncoderHW",
    "FixedPrecisionType",
    "LUTGELU",
    "SeqLayerNorm",
    "SeqLinear",
    "TokenEmbedding",
    "TokenPool",
    "register",
]
