"""Attention ops: one class per attention kind (HAD, the FP baseline, hls4ml's stock route), each giving its spec,
golden, hls4ml layer and conversion, C-sim, RTL module and parameters, RTL simulation and synthesis
(:class:`had_hls.ops.base.AttentionOp`). The stages pick kinds here (:data:`OPS`, :func:`pair`) and the ops
delegate to the rooms that own each face."""

from __future__ import annotations

from had_hls.ops.base import AttentionOp, OpUnavailable
from had_hls.ops.fp import FpAttentionOp
from had_hls.ops.had import HadAttentionOp
from had_hls.ops.stock import StockAttentionOp

OPS: dict[str, AttentionOp] = {"had": HadAttentionOp(), "fp": FpAttentionOp(), "stock": StockAttentionOp()}
#: the two bit-exact kinds every stage compares: the HAD core against the FP baseline
COMPARED = ("had", "fp")


def op(kind: str) -> AttentionOp:
    return OPS[kind]


def pair() -> dict[str, AttentionOp]:
    """{'had': HadAttentionOp, 'fp': FpAttentionOp}: what csim, cosim and report run, in that order."""
    return {k: OPS[k] for k in COMPARED}


__all__ = ["AttentionOp", "FpAttentionOp", "HadAttentionOp", "OPS", "OpUnavailable", "StockAttentionOp", "op", "pair"]
