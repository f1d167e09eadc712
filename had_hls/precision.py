"""The fixed-point types of one attention layer (:class:`Precision`) and the rules a type set obeys on its own.

A :class:`Precision` names every ``ap_fixed`` / ``ap_ufixed`` type of the datapath that had_hls/spec.py describes
(input, weights, bias, the projection accumulator, V, Q/K, context, result, the exp and reciprocal tables) and the
table sizes. :meth:`Precision.__post_init__` checks the rules that need no shape: tables are ``ap_ufixed<W,1>``
(values in [0, 1]), the context rounds half up and saturates (the softmax normalisation rounds that way), the
reciprocal index fits the exp table's fractional bits. The rules that depend on the layer's shape (internal
widths, shifts) are in :mod:`had_hls.widths`; the one that depends on the weights (accumulator overflow) is in
:mod:`had_hls.spec`. A broken rule raises :class:`PrecisionError`, naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

from had_hls.fixed import FixedType

AttentionKind = Literal["had", "fp"]  # the two datapaths: Hamming + top-N, and the standard-softmax baseline


class PrecisionError(ValueError):
    """A precision field that breaks a datapath rule: ``key`` (a :class:`Precision` field), its value, the rule."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"precision.{key}: {value} is not allowed: {allowed}")
        self.key = key
        self.value = value
        self.allowed = allowed


@dataclass(frozen=True)
class Precision:
    """Fixed-point types of one attention layer; defaults are had-hls's documented choice (README, Types)."""

    input: FixedType = FixedType(16, 6)
    weight: FixedType = FixedType(16, 4)
    bias: FixedType = FixedType(16, 6)
    accum: FixedType = FixedType(44, 18)
    value: FixedType = FixedType(16, 6, quant="AP_RND", overflow="AP_SAT")
    qk: FixedType = FixedType(16, 6, quant="AP_RND", overflow="AP_SAT")
    context: FixedType = FixedType(16, 6, quant="AP_RND", overflow="AP_SAT")
    result: FixedType = FixedType(16, 6, quant="AP_RND", overflow="AP_SAT")
    exp_table: FixedType = FixedType(18, 1, signed=False)
    recip_table: FixedType = FixedType(18, 1, signed=False)
    recip_index_bits: int = 10
    fp_exp_step_bits: int = 6
    fp_exp_table_size: int = 1024
    fp_inv_sqrt_frac: int = 17

    TYPE_FIELDS = ("input", "weight", "bias", "accum", "value", "qk", "context", "result", "exp_table", "recip_table")

    def __post_init__(self) -> None:
        for name in ("exp_table", "recip_table"):
            t = getattr(self, name)
            if t.signed or t.integer != 1:
                raise PrecisionError(name, t, "must be ap_ufixed<W,1> (values in [0, 1])")
        if not 1 <= self.recip_index_bits <= 16:
            raise PrecisionError("recip_index_bits", self.recip_index_bits, "must be in 1..16")
        if self.input.is_integer:
            raise PrecisionError("input", self.input, "must be an ap_fixed/ap_ufixed type")
        if (self.context.quant, self.context.overflow) != ("AP_RND", "AP_SAT"):
            raise PrecisionError(
                "context", self.context, "must round half up and saturate (ap_fixed<W,I,AP_RND,AP_SAT>): the softmax "
                "normalisation rounds that way"
            )
        if self.recip_index_bits > self.exp_table.frac:
            raise PrecisionError(
                "recip_index_bits", self.recip_index_bits,
                f"must not exceed the exp table's fractional bits ({self.exp_table.frac} in exp_table={self.exp_table})"
            )
        if not 1 <= self.fp_exp_table_size <= 65536:
            raise PrecisionError("fp_exp_table_size", self.fp_exp_table_size, "must be in 1..65536")

    def as_strings(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.cpp() if isinstance(v, FixedType) else v
        return out


# The strong FP baseline (what an FPGA engineer builds for fixed-point attention): Q and K at 8 bits, so that two
# score products share a DSP48E2 (the RTL packs them); +-4 at 1/32 covers LayerNorm'd projections, and rounding
# with saturation bounds the error of the rare outlier.
STRONG_FP_QK = FixedType(8, 3, quant="AP_RND", overflow="AP_SAT")


def strong_fp_precision(prec: Precision) -> Precision:
    """The strong FP baseline's types: ``prec`` with Q/K at 8 bits (``STRONG_FP_QK``); every internal width follows
    from it (widths.datapath_widths: the exact scores need 2 * 8 + log2(d + 1) bits)."""
    return replace(prec, qk=STRONG_FP_QK)
