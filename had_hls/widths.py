"""The internal widths of the attention datapath, and the precision rules that depend on the layer's shape.

:func:`datapath_widths` derives the bit width of every internal integer signal (Hamming distance, key index and
count, softmax sum, AV accumulator, normalisation product; FP: score, score difference, index product, index) from
the kind, the shape (L, d, N) and the :class:`~had_hls.precision.Precision` alone. Each is the width of the largest
value the signal can take, so no internal signal rounds or overflows; golden, the C++ and the RTL declare these
widths (the spec carries them as ``AttentionSpec.widths``). Each must be an ap_int the C++ can declare
(<= AP_INT_MAX_W bits): otherwise :class:`~had_hls.precision.PrecisionError` names the widest precision field the
signal grows with (the one to narrow).

:func:`check_shifts`: the normalisation shift F_v + F_r + F_e - F_ctx and the FP index shift
2 F_qk + fp_inv_sqrt_frac - fp_exp_step_bits must be >= 1. :func:`check_precision` runs both rules.
"""

from __future__ import annotations

from had_hls.fixed import FixedType, bits_for_unsigned, check_width
from had_hls.precision import AttentionKind, Precision, PrecisionError


def datapath_widths(kind: AttentionKind, seq_len: int, head_dim: int, top_n: int, prec: Precision) -> dict[str, int]:
    """Bit widths of the internal integer signals (exact: no rounding, no overflow inside them).

    Each is the width of the largest value the signal can take, from the shape and the types alone:
      ham        d                                   (unsigned)
      index      L - 1;  count  L                    (unsigned)
      sum        keys (2^W_e - 1)                    (unsigned; keys = N for HAD, L for FP)
      av_acc     keys 2^(W_v - 1) (2^W_e - 1)        (signed: W_v + W_e + bits(keys))
      norm_prod  av_acc * recip + 2^(shift - 1)      (signed: av_acc + W_r + 1)
      score      d 2^(2 W_qk - 2)                    (FP, signed: 2 W_qk + bits(d))
      score_diff s_max - s_j;  fp_index_prod  score_diff inv_sqrt_d + half  (FP, signed)
    Every one must be an ap_int the C++ can declare (<= AP_INT_MAX_W bits); the golden model is exact at any width.
    """
    keys = top_n if kind == "had" else seq_len
    w: dict[str, int] = {}
    cause: dict[str, str] = {}
    w["ham"] = bits_for_unsigned(head_dim)
    w["index"] = bits_for_unsigned(max(seq_len - 1, 1))
    w["count"] = bits_for_unsigned(seq_len)
    e_bits = prec.exp_table.width
    keys_text = f"{keys} keys ({'top_n' if kind == 'had' else 'seq_len'})"
    w["sum"] = bits_for_unsigned(keys * prec.exp_table.max_int)
    cause["sum"] = f"{keys_text} x exp_table {prec.exp_table}"
    w["av_acc"] = 1 + prec.value.width - 1 + e_bits + bits_for_unsigned(keys)  # signed: |v| e_max keys
    cause["av_acc"] = f"{keys_text} x value {prec.value} x exp_table {prec.exp_table}"
    w["norm_prod"] = w["av_acc"] + prec.recip_table.width + 1
    cause["norm_prod"] = f"{cause['av_acc']} x recip_table {prec.recip_table}"
    if kind == "fp":
        w["score"] = 2 * prec.qk.width + bits_for_unsigned(head_dim)
        cause["score"] = f"head_dim {head_dim} x qk {prec.qk} squared"
        w["score_diff"] = w["score"] + 1
        cause["score_diff"] = cause["score"]
        w["fp_index_prod"] = w["score_diff"] + prec.fp_inv_sqrt_frac + 1
        cause["fp_index_prod"] = f"{cause['score']} x fp_inv_sqrt_frac {prec.fp_inv_sqrt_frac}"
        w["fp_index"] = bits_for_unsigned(prec.fp_exp_table_size - 1)
    for name, bits in w.items():
        try:
            check_width(bits, f"internal signal {name}", cause.get(name, ""))
        except ValueError as err:
            key = _widest_key(prec, _WIDTH_KEYS[name])
            raise PrecisionError(key, getattr(prec, key), f"{err} (seq_len={seq_len}, head_dim={head_dim})") from None
    return w


# the precision fields each internal width grows with; an error names the widest of them (the one to narrow)
_WIDTH_KEYS = {"ham": ("input",), "index": ("input",), "count": ("input",), "sum": ("exp_table",),
               "av_acc": ("value", "exp_table"), "norm_prod": ("value", "exp_table", "recip_table"),
               "score": ("qk",), "score_diff": ("qk",), "fp_index_prod": ("qk", "fp_inv_sqrt_frac"),
               "fp_index": ("fp_exp_table_size",)}


def _widest_key(prec: Precision, keys: tuple[str, ...]) -> str:
    def bits(key: str) -> int:
        v = getattr(prec, key)
        return v.width if isinstance(v, FixedType) else int(v)

    return max(keys, key=bits)


def check_shifts(kind: AttentionKind, prec: Precision) -> None:
    """The right shifts of the normalisation (and, for FP, of the exp-table index) are at least one bit;
    PrecisionError naming the field otherwise."""
    min_shift = prec.value.frac + prec.recip_table.frac + prec.exp_table.frac - prec.context.frac
    if min_shift < 1:
        raise PrecisionError(
            "context", prec.context, f"too many fractional bits for value={prec.value} and the tables: the "
            "normalisation shift F_v + F_r + F_e - F_ctx must be >= 1"
        )
    if kind == "fp" and 2 * prec.qk.frac + prec.fp_inv_sqrt_frac - prec.fp_exp_step_bits < 1:
        raise PrecisionError(
            "fp_exp_step_bits", prec.fp_exp_step_bits, f"too large for qk={prec.qk}: the FP index shift "
            "2 F_qk + fp_inv_sqrt_frac - fp_exp_step_bits must be >= 1"
        )


def check_precision(kind: AttentionKind, seq_len: int, head_dim: int, top_n: int, prec: Precision) -> None:
    """Every shape-dependent rule on ``prec`` (shifts, internal widths within ap_int's limit); PrecisionError naming the
    field."""
    check_shifts(kind, prec)
    datapath_widths(kind, seq_len, head_dim, top_n, prec)
