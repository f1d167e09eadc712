"""A whole HAD encoder (patch/token embedding -> pre-LN blocks -> pooling -> classifier head) as ONE hls4ml project.

Hardware boundary: the model input is the matrix of patch (or token feature) vectors, shape (L_in, K) per sample
(K = C*P*P for a ViT); **patchify happens on the host** (``TinyViT.patchify``), because cutting an image into patches
is a re-indexing that belongs in the DMA/stream layout, not in compute. The output is the logits (num_classes,).

Supported layout (the :class:`had_hls.models.vit.TinyViT` layout; any module with these attributes converts):

    patch_embed : nn.Linear(K, E)                 token/patch embedding, one Linear per token
    pos_embed   : (1, L, E) parameter or None     positional table, added after the embedding
    cls_token   : (1, 1, E) parameter or None     prepended when pooling is "cls"
    blocks      : iterable of blocks, each        x = x + attn(norm1(x));  x = x + mlp(norm2(x))
                  norm1, norm2: nn.LayerNorm(E);  attn: had_hls.nn.HammingAttention
                  mlp: nn.Sequential(Linear(E, F), GELU | ReLU, Linear(F, E)) (Dropout/Identity ignored)
    norm        : nn.LayerNorm(E)                 final norm
    pooling     : mean over tokens, or the CLS token (``cfg.pool`` / ``pool``)
    head        : nn.Linear(E, classes)

hls4ml layers: TokenEmbedding -> HADTokenEmbed, LayerNorm -> HADLayerNorm, Linear on (L, E) -> HADDenseSeq, GELU ->
HADGELU (table), ReLU -> hls4ml Activation, residual -> hls4ml Add, pooling -> HADTokenPool, head -> hls4ml Dense;
HammingAttention -> HADAttention (binary modes) / FPAttention (float mode), bit-exact with had_hls.golden;
``attention="stock"`` builds every attention from stock hls4ml ops instead (hls4ml's own route,
had_hls.hls.stock_attention). Types: :class:`ModelPrecision` (the project's ``convert:`` section).

The generated project is io_stream (:data:`MODEL_IO_TYPE`): every layer is a DATAFLOW process reading and writing one
token a stream word, the residual branches are hls4ml Clone streams (depth L, one sequence: the attention layer
reads all L tokens before its first output), and every Linear / attention layer takes the target's ReuseFactor and
Strategy (None: matched to the attention core's H ceil(L/P) cycles a token). io_parallel would need the residual
arrays read by two DATAFLOW processes, which Vitis does not allow (one producer, one consumer per channel); the
stock-op comparison route stays io_parallel (hls4ml's einsum and softmax layers).
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import hls4ml
import numpy as np
import torch
from torch import nn

from had_hls.config import ConfigError
from had_hls.errors import UserError
from had_hls.fixed import FixedType
from had_hls.hls import frontend_fixes
from had_hls.hls.convert import HLSTarget, configure_attention
from had_hls.hls.encoder_graph import (  # noqa: F401  (re-exported: the encoder's parts and types)
    SUPPORTED,
    AttentionRoute,
    EncoderParts,
    HardwareEncoder,
    ModelPrecision,
    check_supported,
    encoder_parts,
    hard_student,
    hardware_encoder,
)
from had_hls.hls.encoder_layers import LUTGELU
from had_hls.hls.encoder_parsers import register
from had_hls.hls.top_style import apply_top_style
from had_hls.nn.attention import HammingAttention

MODEL_IO_TYPE = "io_stream"


# ------------------------------------------------------------------------------------------------ hls4ml config
def _check_types(precision: ModelPrecision) -> None:
    hw = precision.encoder
    for name in ("data", "hidden"):
        t: FixedType = getattr(precision, name)
        if t.integer <= hw.gelu_range_bits + 1:
            raise UserError(
                f"convert.{name}: {t.cpp()} needs more than {hw.gelu_range_bits + 1} integer bits for the GELU range "
                f"[-2^{hw.gelu_range_bits}, 2^{hw.gelu_range_bits})"
            )
    if hw.gelu_table_bits <= hw.gelu_range_bits + 1:
        raise UserError("convert.gelu_table_bits must exceed convert.gelu_range_bits + 1")


def model_config(
    hw_model: HardwareEncoder,
    seq_shape: tuple[int, int],
    precision: ModelPrecision,
    backend: str,
    target: HLSTarget | None = None,
) -> dict[str, Any]:
    """hls4ml config (granularity 'name') with the types of ``precision`` on every layer, and ``target``'s
    ReuseFactor / Strategy / Lanes / PipelineStyle on the layers that take them."""
    target = target or HLSTarget()
    cfg = hls4ml.utils.config_from_pytorch_model(
        hw_model,
        input_shape=tuple(seq_shape),
        granularity="name",
        backend=backend,
        default_precision=precision.data.cpp(),
        channels_last_conversion="off",
    )
    layers: dict[str, dict[str, Any]] = cfg["LayerName"]
    enc = precision.encoder

    def result(name: str, t: FixedType | str) -> None:
        entry = layers.setdefault(name, {})
        prec = entry.get("Precision")
        if not isinstance(prec, dict):
            prec = {}
            entry["Precision"] = prec
        prec["result"] = t if isinstance(t, str) else t.cpp()

    for name in layers:
        result(name, precision.data)
    for i, blk in enumerate(hw_model.blocks):
        p = f"blocks_{i}"
        feeds_attention = isinstance(blk.attn, HammingAttention)
        result(f"{p}_norm1", precision.attention.input if feeds_attention else precision.norm)
        result(f"{p}_norm2", precision.norm)
        result(f"{p}_fc1", precision.hidden)
        result(f"{p}_act", precision.hidden)
        if not feeds_attention:
            _stock_attention_types(layers, blk.attn.seq_len)
    result("norm", precision.norm)
    result("head", precision.logits)
    head = layers["head"]["Precision"]
    head.update(weight=enc.weight.cpp(), bias=enc.bias.cpp(), accum=enc.accum.cpp())
    for name, t in precision.layers.items():
        if name not in layers:
            raise UserError(f"convert.layers.{name}: no such layer; layers: {', '.join(layers)}")
        result(name, t)
    _reuse_config(cfg, hw_model, seq_shape, target)
    return cfg


def _reuse_config(
    cfg: dict[str, Any], hw_model: HardwareEncoder, seq_shape: tuple[int, int], target: HLSTarget
) -> None:
    """ReuseFactor / Strategy of every Linear and attention layer, Lanes of the attention layers, the GELU tables'
    cycles a token: all matched to the attention core's row time H ceil(L/P) unless the target fixes ReuseFactor."""
    layers = cfg["LayerName"]
    seq = int(seq_shape[0]) + (1 if hw_model.embed.cls is not None else 0)
    attn = [blk.attn for blk in hw_model.blocks if isinstance(blk.attn, HammingAttention)]
    heads = attn[0].num_heads if attn else 1
    rows = target.row_cycles(seq, heads)

    def dense(name: str, n_in: int, n_out: int) -> None:
        if name in layers:
            layers[name].update(target.layer_config(name, n_in, n_out, rows))

    dense("embed", hw_model.embed.linear.in_features, hw_model.embed.linear.out_features)
    dense("head", hw_model.head.in_features, hw_model.head.out_features)
    for i, blk in enumerate(hw_model.blocks):
        p = f"blocks_{i}"
        dense(f"{p}_fc1", blk.fc1.linear.in_features, blk.fc1.linear.out_features)
        dense(f"{p}_fc2", blk.fc2.linear.in_features, blk.fc2.linear.out_features)
        if isinstance(blk.attn, HammingAttention):
            configure_attention(cfg, blk.attn, seq, target, f"{p}_attn")
        if f"{p}_act" in layers and isinstance(blk.act, LUTGELU):
            width = blk.fc1.linear.out_features
            cycles = target.reuse_factor if target.reuse_factor is not None else rows
            layers[f"{p}_act"]["ReuseFactor"] = max(1, min(cycles, width))
    cfg["Model"]["PipelineStyle"] = target.pipeline_style  # Strategy per layer: hls4ml's einsum needs Latency


def _stock_attention_types(layers: dict[str, dict[str, Any]], seq: int) -> None:
    """The fine softmax settings of had_hls.hls.stock_attention on every stock attention layer (FX names them
    ``blocks_<i>_attn_*`` for modules and ``einsum[_k]``/``softmax[_k]``/``view[_k]``/... for functions)."""
    inv_inp_int = max(5, math.ceil(math.log2(seq + 1)) + 1)
    for name, entry in layers.items():
        is_fn = name.split("_")[0] in ("einsum", "softmax", "view", "flatten")
        if "_attn_" not in name and not is_fn:
            continue
        prec = entry.setdefault("Precision", {})
        prec["result"] = "ap_fixed<32,12>"
        if name.startswith("einsum") and int((name.split("_") + ["0"])[1]) % 2 == 0:
            prec["result"] = "ap_fixed<24,6,AP_RND,AP_SAT>"
        if name.startswith("softmax"):
            entry["TableSize"] = 4096
            entry["exp_table_t"] = "ap_ufixed<18,1,AP_RND,AP_SAT>"
            entry["inv_table_t"] = "ap_ufixed<18,2,AP_RND,AP_SAT>"
            entry["inv_inp_t"] = f"ap_ufixed<18,{inv_inp_int},AP_RND,AP_SAT>"
            prec["accum"] = f"ap_ufixed<24,{inv_inp_int + 1}>"
            prec["result"] = "ap_ufixed<18,1,AP_RND,AP_SAT>"
        if name.endswith(("q_proj", "k_proj", "v_proj", "out_proj")):
            prec.update(weight="ap_fixed<18,4>", bias="ap_fixed<18,6>", accum="ap_fixed<40,16>")


@dataclass
class ConvertedModel:
    """An hls4ml ModelGraph (written, not compiled) and the torch graph it was traced from."""

    hls_model: Any
    torch_model: HardwareEncoder
    config: dict[str, Any]
    seq_shape: tuple[int, int]
    attention_layers: list[str]

    def torch_logits(self, patches: np.ndarray) -> np.ndarray:
        """Float64 reference logits of the traced graph (binary attention in hard mode as the source)."""
        with torch.no_grad():
            return self.torch_model(torch.as_tensor(patches, dtype=torch.float64)).numpy()


def convert_model(
    model: nn.Module,
    seq_shape: tuple[int, int],
    output_dir: str | Path,
    precision_cfg: ModelPrecision | None = None,
    target: HLSTarget | None = None,
    route: AttentionRoute = "native",
    project_name: str = "had_encoder",
    tb_inputs: np.ndarray | None = None,
    tb_outputs: np.ndarray | None = None,
    trace_attention: bool = False,
) -> ConvertedModel:
    """Convert a supported HAD encoder (module docstring) to one hls4ml project; ``seq_shape`` = (L_in, K).

    HammingAttention layers keep their mode: binary -> HADAttention (bit-exact with golden), float -> FPAttention;
    ``route='stock'`` builds them from stock hls4ml ops (float attention, no top-N). ``tb_inputs`` (N, L_in, K) /
    ``tb_outputs`` (N, classes) become the project's tb_data. ``target.io_type``: io_stream for the generated
    projects (module docstring); the stock route needs io_parallel.
    """
    register()
    target = target or HLSTarget(io_type=MODEL_IO_TYPE)
    precision = precision_cfg or ModelPrecision()
    if route == "stock" and target.io_type != "io_parallel":
        raise UserError(f"hls.io_type: {target.io_type!r} is not supported by the stock-op route; allowed: io_parallel")
    _check_types(precision)
    seq_in, k = (int(s) for s in seq_shape)
    parts = encoder_parts(model)
    if parts.patch_embed.in_features != k:
        raise UserError(f"input features {k} != patch_embed.in_features {parts.patch_embed.in_features}")
    hw_model = hardware_encoder(model, seq_in, precision, route)
    if route == "stock":
        for blk in hw_model.blocks:
            if isinstance(blk.attn, HammingAttention):
                raise UserError("stock route: internal error, attention not replaced")
    out = Path(output_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()), frontend_fixes.enabled():
        try:
            cfg = model_config(hw_model, (seq_in, k), precision, target.backend, target)
        except ConfigError:
            raise
        except ValueError as err:  # a layer hls4ml or our handlers reject (e.g. types too wide for golden)
            raise UserError(f"hls4ml conversion failed: {err}") from None
        attn_names = [f"blocks_{i}_attn" for i in range(len(hw_model.blocks))] if route == "native" else []
        if trace_attention:
            for i, name in enumerate(attn_names):
                cfg["LayerName"][name]["Trace"] = True
                cfg["LayerName"][f"blocks_{i}_norm1"]["Trace"] = True
        kwargs: dict[str, Any] = {}
        tb_dir = out.parent / f".{out.name}.tb"
        if tb_inputs is not None:
            tb_dir.mkdir(parents=True, exist_ok=True)
            np.save(tb_dir / "input.npy", np.asarray(tb_inputs, dtype=np.float64).reshape(len(tb_inputs), -1))
            kwargs["input_data_tb"] = str(tb_dir / "input.npy")
            if tb_outputs is not None:
                np.save(tb_dir / "output.npy", np.asarray(tb_outputs, dtype=np.float64).reshape(len(tb_outputs), -1))
                kwargs["output_data_tb"] = str(tb_dir / "output.npy")
        try:
            try:
                hls_model = hls4ml.converters.convert_from_pytorch_model(
                    hw_model,
                    hls_config=cfg,
                    output_dir=str(out),
                    project_name=project_name,
                    backend=target.backend,
                    io_type=target.io_type,
                    part=target.part,
                    clock_period=target.clock_period,
                    **kwargs,
                )
            except ConfigError:
                raise
            except ValueError as err:  # a layer hls4ml or our handlers reject (e.g. types too wide for golden)
                raise UserError(f"hls4ml conversion failed: {err}") from None
            apply_top_style(hls_model, target.pipeline_style)
            hls_model.write()
            # tb_data is written now; later writes (compile() writes again) must not look for the temporary files
            hls_model.config.config["InputData"] = None
            hls_model.config.config["OutputPredictions"] = None
        finally:
            if tb_dir.exists():
                for f in tb_dir.iterdir():
                    f.unlink()
                tb_dir.rmdir()
    return ConvertedModel(hls_model, hw_model, cfg, (seq_in, k), attn_names)


def precision_with(precision: ModelPrecision, **changes: Any) -> ModelPrecision:
    """``dataclasses.replace`` for ModelPrecision (convenience for callers and tests)."""
    return replace(precision, **changes)


# ------------------------------------------------------------------------------------------------ project command
