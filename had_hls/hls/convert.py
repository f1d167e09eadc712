"""Convert one attention layer (HAD or FP) to an hls4ml ModelGraph through the real PyTorch front end."""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hls4ml
import torch
from torch import nn

from had_hls.config import ConfigError
from had_hls.hls import frontend_fixes
from had_hls.hls.attention_layers import register
from had_hls.hls.projection_plan import UNROLL_LIMIT, matched_reuse_factor, valid_reuse_factors
from had_hls.hls.top_style import apply_top_style
from had_hls.nn.attention import HammingAttention
from had_hls.precision import Precision
from had_hls.rtl.generate import DEFAULT_LANES
from had_hls.spec import AttentionSpec


@dataclass(frozen=True)
class HLSTarget:
    """Where and how hls4ml writes the project, and the microarchitecture knobs of our layers.

    ``strategy`` / ``reuse_factor``: hls4ml's Strategy and ReuseFactor (None: matched to the attention core, the
    largest valid ReuseFactor whose token time fits the core's H ceil(L/P) cycles a row); ``pipeline_style``: the
    top function's (hls4ml PipelineStyle); ``lanes``: P, the RTL twin's lanes."""

    backend: str = "Vitis"
    io_type: str = "io_parallel"
    part: str = "xcvu13p-flga2577-2-e"
    clock_period: float = 5.0
    strategy: str = "Resource"
    reuse_factor: int | None = None
    pipeline_style: str = "dataflow"
    lanes: int = DEFAULT_LANES
    unroll_limit: int = UNROLL_LIMIT

    def row_cycles(self, seq_len: int, num_heads: int) -> int:
        """H ceil(L / P): cycles the attention core spends on a query row (a token of the whole model)."""
        return num_heads * -(-seq_len // self.lanes)

    def reuse_for(self, name: str, n_in: int, n_out: int, row_cycles: int, copies: int = 1) -> int:
        """The ReuseFactor of an n_in x n_out layer (``copies`` projections in one loop body): the target's
        (checked) or the matched one (projection_plan.matched_reuse_factor)."""
        if self.reuse_factor is None:
            return matched_reuse_factor(n_in, n_out, row_cycles, copies, self.unroll_limit)
        if self.reuse_factor not in valid_reuse_factors(n_in, n_out):
            allowed = ", ".join(map(str, valid_reuse_factors(n_in, n_out)))
            raise ConfigError(
                f"hls.reuse_factor: {self.reuse_factor} is not allowed for layer {name} ({n_in} x {n_out}); "
                f"allowed: {allowed}"
            )
        return self.reuse_factor

    def layer_config(self, name: str, n_in: int, n_out: int, row_cycles: int, copies: int = 1) -> dict:
        """hls4ml per-layer config keys (LayerName entry) of one of our layers."""
        return {"ReuseFactor": self.reuse_for(name, n_in, n_out, row_cycles, copies), "Strategy": self.strategy}


def target_for(project: Any, io_type: str | None = None) -> HLSTarget:
    """The HLSTarget of a project: its ``hls:`` section and the RTL twin's lanes (``rtl.lanes``)."""
    from had_hls.rtl.config import RtlSection

    h = project.hls
    rtl = project.sections.get("rtl")
    lanes = rtl.lanes if isinstance(rtl, RtlSection) else RtlSection().lanes
    return HLSTarget(
        backend=h.backend,
        io_type=io_type or h.io_type,
        part=h.part,
        clock_period=h.clock_period,
        strategy=h.strategy,
        reuse_factor=h.reuse_factor,
        pipeline_style=h.pipeline_style,
        lanes=lanes,
        unroll_limit=h.unroll_limit,
    )


class AttentionOnly(nn.Module):
    """The traced model: one attention layer, input (B, L, E)."""

    def __init__(self, attn: nn.Module) -> None:
        super().__init__()
        self.attn = attn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x)


class MaskedAttentionOnly(AttentionOnly):
    """The traced model with a (B, L) key padding mask (True = padded) as second input."""

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor) -> torch.Tensor:
        return self.attn(x, key_padding_mask)


def convert_attention(
    attn: HammingAttention,
    seq_len: int,
    output_dir: str | Path,
    precision: Precision | None = None,
    target: HLSTarget | None = None,
    with_mask: bool = False,
    project_name: str = "myproject",
):
    """HammingAttention (binary mode -> HAD layer, float mode -> FP baseline) -> hls4ml ModelGraph (not compiled)."""
    register()
    target = target or HLSTarget()
    precision = precision or Precision()
    attn = copy.deepcopy(attn).double().eval()
    attn.hardware_precision = precision
    embed_dim = attn.embed_dim
    model = (MaskedAttentionOnly(attn) if with_mask else AttentionOnly(attn)).eval()
    shapes = [(seq_len, embed_dim)] + ([(seq_len,)] if with_mask else [])
    with contextlib.redirect_stdout(io.StringIO()), frontend_fixes.enabled():  # hls4ml prints its topology walk
        return _convert(model, shapes, with_mask, precision, target, output_dir, project_name)


def _convert(model, shapes, with_mask, precision, target, output_dir, project_name):
    cfg = hls4ml.utils.config_from_pytorch_model(
        model,
        input_shape=shapes if with_mask else shapes[0],
        granularity="name",
        backend=target.backend,
        default_precision=precision.input.cpp(),
        channels_last_conversion="off",
    )
    if with_mask:
        mask_name = next(name for name in cfg["LayerName"] if "mask" in name)
        cfg["LayerName"][mask_name]["Precision"] = {"result": "ap_uint<1>"}
    configure_attention(cfg, model.attn, shapes[0][0], target, "attn")
    hls_model = hls4ml.converters.convert_from_pytorch_model(
        model,
        hls_config=cfg,
        output_dir=str(output_dir),
        project_name=project_name,
        backend=target.backend,
        io_type=target.io_type,
        part=target.part,
        clock_period=target.clock_period,
    )
    apply_top_style(hls_model, target.pipeline_style)
    return hls_model


def configure_attention(cfg: dict, attn: HammingAttention, seq_len: int, target: HLSTarget, name: str) -> None:
    """hls4ml config of the attention layer ``name``: ReuseFactor, Strategy and Lanes from ``target``, and the
    model's PipelineStyle."""
    e = attn.embed_dim
    entry = cfg["LayerName"].setdefault(name, {})
    entry.update(target.layer_config(name, e, e, target.row_cycles(seq_len, attn.num_heads), copies=3))
    entry["Lanes"] = target.lanes
    cfg["Model"]["PipelineStyle"] = target.pipeline_style


def layer_spec(hls_model) -> AttentionSpec:
    """The frozen spec of the (single) attention layer of a converted model."""
    for layer in hls_model.get_layers():
        if layer.class_name in ("HADAttention", "FPAttention"):
            return layer.get_attr("spec")
    raise ValueError("the model has no HADAttention or FPAttention layer")
