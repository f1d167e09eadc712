"""Convert one attention layer (HAD or FP) to an hls4ml ModelGraph through the real PyTorch front end."""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass
from pathlib import Path

import hls4ml
import torch
from torch import nn

from had_hls.hls import frontend_fixes
from had_hls.hls.attention_layers import register
from had_hls.hls.streaming import StreamingHammingAttention
from had_hls.nn.attention import HammingAttention
from had_hls.nn.binarize import BinarizeMode
from had_hls.spec import AttentionSpec, Precision


@dataclass(frozen=True)
class HLSTarget:
    """Where and how hls4ml writes the project."""

    backend: str = "Vitis"
    io_type: str = "io_parallel"
    part: str = "xcvu13p-flga2577-2-e"
    clock_period: float = 5.0


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
    if target.io_type == "io_stream" and attn.mode is not BinarizeMode.FLOAT:
        attn = StreamingHammingAttention(attn, seq_len)  # three layers joined by hls::stream
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
    return hls4ml.converters.convert_from_pytorch_model(
        model,
        hls_config=cfg,
        output_dir=str(output_dir),
        project_name=project_name,
        backend=target.backend,
        io_type=target.io_type,
        part=target.part,
        clock_period=target.clock_period,
    )


def layer_spec(hls_model) -> AttentionSpec:
    """The frozen spec of the (single) attention layer of a converted model."""
    for layer in hls_model.get_layers():
        if layer.class_name in ("HADAttention", "FPAttention", "SparseSoftmaxAV"):
            return layer.get_attr("spec")
    raise ValueError("the model has no HADAttention or FPAttention layer")
