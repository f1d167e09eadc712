"""Attention ops: one class per attention kind (HAD, the FP baseline, hls4ml's stock route), each giving its spec,
golden, hls4ml layer and conversion (one layer or a whole encoder), C-sim, RTL module and parameters, RTL simulation,
synthesis and the Fmax proxy (:class:`had_hls.ops.base.AttentionOp`). The stages pick kinds here (:data:`OPS`,
:func:`pair`) and the ops delegate to the rooms that own each face."""

from __future__ import annotations

from had_hls.ops.base import AttentionOp, OpUnavailable
from had_hls.ops.fp import FpAttentionOp, StrongFpAttentionOp
from had_hls.ops.had import HadAttentionOp
from had_hls.ops.stock import StockAttentionOp

OPS: dict[str, AttentionOp] = {"had": HadAttentionOp(), "fp": FpAttentionOp(), "stock": StockAttentionOp(),
                               "fp_strong": StrongFpAttentionOp()}
#: the two bit-exact kinds every stage compares: the HAD core against the FP baseline
COMPARED = ("had", "fp")


def op(kind: str) -> AttentionOp:
    return OPS[kind]


def pair() -> dict[str, AttentionOp]:
    """{'had': HadAttentionOp, 'fp': FpAttentionOp}: what csim, cosim and report run, in that order."""
    return {k: OPS[k] for k in COMPARED}


__all__ = ["AttentionOp", "FpAttentionOp", "HadAttentionOp", "OPS", "OpUnavailable", "StockAttentionOp",
           "StrongFpAttentionOp", "op", "pair"]
