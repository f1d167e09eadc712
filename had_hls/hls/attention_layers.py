"""hls4ml IR layers, templates and PyTorch handler for the HAD and FP attention layers (io_parallel and io_stream).

A :class:`had_hls.nn.HammingAttention` in a traced model becomes one ``HADAttention`` node (binary modes) or one
``FPAttention`` node (``float`` mode: the standard-attention baseline). Both carry their frozen
:class:`had_hls.spec.AttentionSpec` and their :class:`had_hls.hls.schedule.AttentionSchedule` (lanes P from the
layer config key ``Lanes``, hls4ml's ``ReuseFactor`` and ``Strategy``); weights and tables are emitted from the spec
as hls4ml weight variables (projections cycle-major, as the schedule reads them), the config struct from the spec's
types and the schedule's numbers, so C++, golden and the design check share every integer. The C++ is one DATAFLOW
region per layer: the layer functions ``nnet::attention[_stream][_masked]`` (templates/hls/nnet_attention_stages.h,
io_parallel and io_stream) around the core that the config struct names (``had_core``, nnet_had_attention.h;
``fp_core``, nnet_fp_attention.h).
"""

from __future__ import annotations

from pathlib import Path

import hls4ml
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.attributes import ConfigurableAttribute
from hls4ml.model.layers import Layer

from had_hls.hls.build import add_layer_classes, add_sources, install_project_build
from had_hls.hls.frontend_fixes import add_had_torch_classes, install_frontend_fixes
from had_hls.hls.handlers import set_pytorch_handler
from had_hls.hls.projection_plan import ProjectionPlan, strategy_name
from had_hls.hls.schedule import AttentionSchedule, attention_schedule
from had_hls.hls.weights import add_projection_weights, add_table_weights, hls_precision
from had_hls.nn.binarize import BinarizeMode
from had_hls.precision import Precision
from had_hls.rtl.generate import DEFAULT_LANES
from had_hls.spec import AttentionSpec, spec_from_module

HLS_TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "hls"
HEADERS = (
    "nnet_attention_common.h",
    "nnet_attention_stages.h",
    "nnet_hamming.h",
    "nnet_topn_select.h",
    "nnet_had_attention.h",
    "nnet_fp_attention.h",
)
BACKENDS = ("Vivado", "Vitis")
TORCH_CLASS = "HammingAttention"


class _AttentionLayer(Layer):
    """Common IR: one input (L, E) (+ optional (L,) padding mask), one output (L, E), weights from the spec.

    ``reuse_factor`` (config key ReuseFactor) and ``lanes`` (config key Lanes, the RTL twin's P) are hls4ml
    configurable attributes; Strategy is read as hls4ml reads it (layer name, then layer type, then model)."""

    _expected_attributes = [
        ConfigurableAttribute("reuse_factor", default=1, description="ReuseFactor of the Q/K/V projections"),
        ConfigurableAttribute("lanes", default=DEFAULT_LANES, description="P: keys a cycle (the RTL twin's lanes)"),
    ]

    def initialize(self) -> None:
        spec: AttentionSpec = self.get_attr("spec")
        try:
            strategy = strategy_name(self.model.config.get_strategy(self))
            schedule = attention_schedule(
                spec, int(self.get_attr("lanes", DEFAULT_LANES)), int(self.get_attr("reuse_factor", 1)), strategy
            )
        except ValueError as err:
            raise ValueError(f"layer {self.name}: {err}") from None
        self.set_attr("schedule", schedule)
        self.set_attr("strategy", strategy)
        prec = spec.precision
        self.add_output_variable([spec.seq_len, spec.embed_dim], precision=hls_precision(prec.result))
        for key in "qkv":
            add_projection_weights(self, spec, key, schedule.proj)
        add_projection_weights(self, spec, "o", schedule.wo)
        add_table_weights(self, spec)


class HADAttention(_AttentionLayer):
    """Binary Hamming attention with top-N (counting select) and exp-table sparse softmax."""


class FPAttention(_AttentionLayer):
    """Standard fixed-point softmax attention: the baseline every HAD saving is measured against."""


# ------------------------------------------------------------------------------------------------ templates
def _projection_struct(name: str, plan: ProjectionPlan, weight_t: str, bias_t: str) -> str:
    lines = [f"struct {name} : nnet::dense_token_config {{", *plan.config_lines()]
    lines += [f"    typedef {weight_t} weight_t;", f"    typedef {bias_t} bias_t;", "};", ""]
    return "\n".join(lines)


def config_struct(
    spec: AttentionSpec, schedule: AttentionSchedule, index: int, base: str, weight_t: str, bias_t: str, io_type: str
) -> str:
    """The per-instance config structs: the projections' (ReuseFactor, Strategy, steps) and the layer's (shapes,
    types and widths of widths.datapath_widths(), the schedule's lanes and FIFO depths, and ``core``: had_core or
    fp_core, the core the layer functions of nnet_attention_stages.h run)."""
    p, w = spec.precision, spec.widths
    proj, wo = f"config{index}_proj", f"config{index}_wo"
    lines = [
        _projection_struct(proj, schedule.proj, weight_t, bias_t),
        _projection_struct(wo, schedule.wo, weight_t, bias_t),
        f"struct config{index} : nnet::{base} {{",
        f"    static const unsigned seq_len = {spec.seq_len};",
        f"    static const unsigned embed_dim = {spec.embed_dim};",
        f"    static const unsigned num_heads = {spec.num_heads};",
        f"    static const unsigned head_dim = {spec.head_dim};",
        f"    static const unsigned top_n = {spec.top_n};",
        f"    static const unsigned recip_index_bits = {p.recip_index_bits};",
        f"    static const unsigned value_width = {p.value.width};",
        f"    static const unsigned value_frac = {p.value.frac};",
        f"    static const unsigned recip_frac = {p.recip_table.frac};",
        f"    static const unsigned context_width = {p.context.width};",
        f"    static const unsigned context_frac = {p.context.frac};",
        f"    static const unsigned sum_width = {w['sum']};",
        f"    static const unsigned io_type = nnet::{io_type};",
        *schedule.config_lines(),
        f"    typedef {proj} proj_config;",
        f"    typedef {wo} wo_config;",
        f"    typedef nnet::{spec.kind}_core<config{index}> core;",
        f"    typedef {weight_t} weight_t;",
        f"    typedef {bias_t} bias_t;",
        f"    typedef {p.accum.cpp()} accum_t;",
        f"    typedef {p.value.cpp()} value_t;",
        f"    typedef {p.context.cpp()} context_t;",
        f"    typedef ap_uint<{p.exp_table.width}> exp_t;",
        f"    typedef ap_uint<{p.recip_table.width}> recip_t;",
        f"    typedef ap_uint<{w['sum']}> sum_t;",
        f"    typedef ap_int<{w['av_acc']}> av_acc_t;",
        f"    typedef ap_int<{w['norm_prod']}> norm_prod_t;",
        f"    typedef ap_uint<{w['ham']}> ham_t;",
        f"    typedef ap_uint<{w['count']}> count_t;",
        f"    typedef ap_uint<{w['index']}> key_t;",
    ]
    if spec.kind == "fp":
        lines += [
            f"    static const unsigned qk_width = {p.qk.width};",
            f"    static const unsigned exp_table_size = {p.fp_exp_table_size};",
            f"    static const unsigned long inv_sqrt_d = {spec.fp_inv_sqrt_d};",
            f"    static const unsigned index_shift = {spec.fp_index_shift};",
            f"    typedef {p.qk.cpp()} qk_t;",
            f"    typedef ap_int<{w['score']}> score_t;",
            f"    typedef ap_int<{w['score_diff']}> score_diff_t;",
            f"    typedef ap_int<{w['fp_index_prod']}> index_prod_t;",
        ]
    lines.append("};\n")
    return "\n".join(lines)


#: The weight variables of an attention layer in the order of the C++ ATTENTION_WEIGHT_PARAMS
#: (templates/hls/nnet_attention_stages.h).
WEIGHT_NAMES = ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "exp_table", "recip_table")


def _make_templates(layer_cls: type[Layer], base: str):
    class ConfigTemplate(LayerConfigTemplate):
        def __init__(self) -> None:
            super().__init__(layer_cls)

        def format(self, node: Layer) -> str:
            return config_struct(
                node.get_attr("spec"),
                node.get_attr("schedule"),
                node.index,
                base,
                node.get_weights("wq").type.name,
                node.get_weights("bq").type.name,
                node.model.config.get_config_value("IOType"),
            )

    class FunctionTemplate(FunctionCallTemplate):
        def __init__(self) -> None:
            super().__init__(layer_cls, include_header=[f"nnet_utils/{h}" for h in HEADERS])

        def format(self, node: Layer) -> str:
            params = self._default_function_params(node)
            stream = "_stream" if node.model.config.get_config_value("IOType") == "io_stream" else ""
            weights = ", ".join(node.get_weights(n).name for n in WEIGHT_NAMES)
            if len(node.inputs) == 2:
                mask = node.get_input_variable(node.inputs[1])
                return (
                    f"nnet::attention{stream}_masked<{params['input_t']}, {mask.type.name}, {params['output_t']}, "
                    f"{params['config']}>({params['input']}, {mask.name}, {params['output']}, {weights});"
                )
            return (
                f"nnet::attention{stream}<{params['input_t']}, {params['output_t']}, {params['config']}>"
                f"({params['input']}, {params['output']}, {weights});"
            )

    ConfigTemplate.__name__ = f"{layer_cls.__name__}ConfigTemplate"
    FunctionTemplate.__name__ = f"{layer_cls.__name__}FunctionTemplate"
    return ConfigTemplate, FunctionTemplate


# ------------------------------------------------------------------------------------------------ parser
def parse_hamming_attention(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    """PyTorch handler: HammingAttention -> HADAttention (binary modes) or FPAttention (float mode).

    The hardware precision comes from ``module.hardware_precision`` (set by had_hls.hls.convert from the project
    YAML), else the defaults of :class:`had_hls.precision.Precision`. A second input is the key padding mask.
    """
    assert operation == TORCH_CLASS
    from had_hls.hls.handlers import require_conversion_off

    require_conversion_off(config, layer_name, TORCH_CLASS)
    shape = input_shapes[0]
    if len(shape) != 3:
        raise ValueError(f"layer {layer_name}: HammingAttention expects a (batch, L, E) input, got {shape}")
    seq_len, embed = int(shape[1]), int(shape[2])
    kind = "fp" if class_object.mode is BinarizeMode.FLOAT else "had"
    if kind == "had" and not class_object.top_n.enabled:
        raise ValueError(f"layer {layer_name}: the HAD hardware layer needs top-N (top_n) enabled")
    precision = getattr(class_object, "hardware_precision", None) or Precision()
    spec = spec_from_module(
        class_object, kind, seq_len, precision=precision, key_padding_mask=len(input_names) > 1, name=layer_name
    )
    if spec.embed_dim != embed:
        raise ValueError(f"layer {layer_name}: input feature size {embed} != embed_dim {spec.embed_dim}")
    layer = {
        "class_name": "HADAttention" if kind == "had" else "FPAttention",
        "name": layer_name,
        "inputs": list(input_names),
        "spec": spec,
    }
    return layer, [shape[0], seq_len, embed]


# ------------------------------------------------------------------------------------------------ registration
_registered = False


def register() -> None:
    """Register handlers, IR layers, templates and headers with hls4ml (Vivado and Vitis), and install the
    front-end fixes and the project-writer fixes. Idempotent. The fixes, headers, build script and writer fixes
    apply to had-hls models only (had_hls.hls.registration)."""
    global _registered
    if _registered:
        return
    from had_hls.hls.top_style import install_writer_fixes

    install_frontend_fixes()  # [seq, feature] bugs of hls4ml 1.3.0's PyTorch front end (frontend_fixes.py)
    install_project_build()  # our headers, a parallel build_lib.sh that stops cleanly, logged compile (build.py)
    install_writer_fixes()  # top-level ports, test bench that checks its outputs (top_style.py)
    add_had_torch_classes([TORCH_CLASS])
    add_layer_classes(["HADAttention", "FPAttention"])
    add_sources([HLS_TEMPLATE_DIR / header for header in HEADERS])
    set_pytorch_handler(TORCH_CLASS, parse_hamming_attention)
    hls4ml.model.layers.register_layer("HADAttention", HADAttention)
    hls4ml.model.layers.register_layer("FPAttention", FPAttention)
    templates = [
        *_make_templates(HADAttention, "had_attention_config"),
        *_make_templates(FPAttention, "fp_attention_config"),
    ]
    for name in BACKENDS:
        backend = hls4ml.backends.get_backend(name)
        for template in templates:
            backend.register_template(template)
    _registered = True
