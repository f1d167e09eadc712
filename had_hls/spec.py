"""The hardware spec: one attention layer frozen to shapes, fixed-point types, integer weights and tables.

The spec is the single source of truth: golden.py computes on it, had_hls.hls emits it into hls4ml layers
(C++ headers in templates/hls/), had_hls.rtl emits it into Verilog parameters and memories. Every constant
is an integer mantissa here, so all three implementations share them by construction.

Datapath of one layer (H heads, head dim d, L tokens; mantissas m with F fractional bits per type)
---------------------------------------------------------------------------------------------------
Projections (Q, K, V, O): ``acc = bias`` then ``acc += x[i] * w[o][i]`` for i = 0..E-1 in order, each step
converted to ``accum`` with its quantization/overflow modes (exact when accum has >= F_in + F_w fractional bits).

HAD scores:   qbit = (acc_q < 0), kbit = (acc_k < 0);  ham[i][j] = popcount(qbits_i xor kbits_j) in [0, d].
HAD top-N:    per row keep n = min(N, valid) keys with the smallest ham, ties -> lower key index (counting select).
HAD weights:  e_j = exp_table[ham_j - min_valid ham], exp_table[t] = round(2^F_e * exp(-2 alpha t)), t = 0..d.

FP scores:    q, k = acc converted to ``qk``; s_ij = sum_c q_ic k_jc (exact, 2 F_qk fractional bits).
FP weights:   idx = round_half_up((max_j s_ij - s_ij) * inv_sqrt_d >> sh), clamped to T - 1, where
              inv_sqrt_d = round(2^F_isq / sqrt(d)), sh = 2 F_qk + F_isq - k_step; e_j = fp_exp_table[idx],
              fp_exp_table[t] = round(2^F_e * exp(-t 2^-k_step)).

Both, per row and head:  S = sum_j e_j (exact);  acc_j^c = sum_j e_j v_jc (exact, F_e + F_v bits).
Reciprocal:   p = floor(log2 S) (S >= 2^F_e since the best key has e = 2^F_e); idx = the R bits below S's leading one;
              r = recip_table[idx] = round(2^F_r / (1 + (idx + 1/2) 2^-R))  ~ 2^p / S.
Context:      ctx = sat_ctx(round_half_up(acc * r >> (F_v + F_r + p - F_ctx)));  S = 0 (no valid key) -> ctx = 0.
Output:       y = O-projection of ctx (heads concatenated), converted to ``result``.

Array layouts: weights (out, in) row-major, as torch stores them; activations (L, E) row-major.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Literal

import numpy as np

from had_hls.fixed import FixedType, bits_for_unsigned, check_width

AttentionKind = Literal["had", "fp"]


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
    from it (spec.datapath_widths: the exact scores need 2 * 8 + log2(d + 1) bits)."""
    return replace(prec, qk=STRONG_FP_QK)


@dataclass(frozen=True)
class Projection:
    """Integer weights (out, in) and bias (out,) of one Linear, as mantissas of precision.weight / .bias."""

    weight: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class AttentionSpec:
    """One attention layer for hardware. ``kind`` 'had' (Hamming + top-N) or 'fp' (standard softmax baseline)."""

    kind: AttentionKind
    seq_len: int
    embed_dim: int
    num_heads: int
    top_n: int
    sigma_q: float
    sigma_k: float
    precision: Precision
    q: Projection
    k: Projection
    v: Projection
    o: Projection
    exp_table: np.ndarray
    recip_table: np.ndarray
    fp_inv_sqrt_d: int = 0
    key_padding_mask: bool = False
    name: str = "attention"
    widths: dict[str, int] = field(default_factory=dict)

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    @property
    def alpha(self) -> float:
        return self.sigma_q * self.sigma_k / math.sqrt(self.head_dim)

    @property
    def keys_per_query(self) -> int:
        """Keys that enter the softmax per query row (N for HAD, L for FP)."""
        return self.top_n if self.kind == "had" else self.seq_len

    @property
    def fp_index_shift(self) -> int:
        p = self.precision
        return 2 * p.qk.frac + p.fp_inv_sqrt_frac - p.fp_exp_step_bits

    def projections(self) -> dict[str, Projection]:
        return {"q": self.q, "k": self.k, "v": self.v, "o": self.o}


# ------------------------------------------------------------------------------------------------ tables
def had_exp_table(alpha: float, head_dim: int, prec: Precision) -> np.ndarray:
    """exp_table[t] = round(2^F_e exp(-2 alpha t)), t = 0..d: weight of a key t Hamming steps behind the best."""
    t = np.arange(head_dim + 1, dtype=np.float64)
    return _round_table(np.exp(-2.0 * alpha * t), prec.exp_table)


def fp_exp_table(prec: Precision) -> np.ndarray:
    """fp_exp_table[t] = round(2^F_e exp(-t 2^-k)), t = 0..T-1: weight of a key t steps of 2^-k below the row max."""
    t = np.arange(prec.fp_exp_table_size, dtype=np.float64)
    return _round_table(np.exp(-t * 2.0**-prec.fp_exp_step_bits), prec.exp_table)


def recip_table(prec: Precision) -> np.ndarray:
    """recip_table[i] = round(2^F_r / (1 + (i + 1/2) 2^-R)), i < 2^R: 1/m at the midpoint of each mantissa bin."""
    r = prec.recip_index_bits
    m = 1.0 + (np.arange(1 << r, dtype=np.float64) + 0.5) * 2.0**-r
    return _round_table(1.0 / m, prec.recip_table)


def _round_table(values: np.ndarray, t: FixedType) -> np.ndarray:
    return np.clip(np.floor(np.ldexp(values, t.frac) + 0.5), 0, t.max_int).astype(np.int64)


# ------------------------------------------------------------------------------------------------ widths
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


def accumulator_bound(proj: Projection, x_t: FixedType, prec: Precision) -> int:
    """Largest |acc| of a projection over every input of type ``x_t``, as a mantissa with max(F_acc, F_x + F_w)
    fractional bits: max_o |b_o| + sum_i |w_oi| max|x| (every partial sum of ``acc = b; acc += x_i w_oi`` is below
    it). Python ints: exact at any width."""
    prod_frac = x_t.frac + prec.weight.frac
    full = max(prec.accum.frac, prod_frac)
    x_max = max(abs(x_t.min_int), x_t.max_int)
    w_abs = np.abs(proj.weight.astype(object)).sum(axis=1) if proj.weight.size else np.zeros(0, dtype=object)
    # bias in acc_t as golden.project starts from it; products aligned to the common fractional bits
    b = np.abs(prec.accum.from_mantissa(proj.bias, prec.bias.frac).astype(object)) << (full - prec.accum.frac)
    return int(max((bi + ((wi * x_max) << (full - prod_frac)) for bi, wi in zip(b, w_abs, strict=True)), default=0))


def check_accumulator(projections: dict[str, Projection], prec: Precision) -> None:
    """The projections accumulate exactly (the Q/K sign bits are those of exact arithmetic) only when accum
    cannot overflow: ValueError naming the type and the one it needs otherwise."""
    acc = prec.accum
    for key, proj in projections.items():
        x_t = prec.context if key == "o" else prec.input
        bound = accumulator_bound(proj, x_t, prec)
        full = max(acc.frac, x_t.frac + prec.weight.frac)
        # |acc| at acc_t's fractional bits (rounded up, + 1 LSB per rounded step) must fit accum's signed range
        n_in = proj.weight.shape[1]
        need = -(-bound >> (full - acc.frac)) + n_in if full > acc.frac else bound
        if need > acc.max_int:
            bits = need.bit_length() + 1
            hint = f": needs {bits - acc.frac} integer bits, ap_fixed<{bits},{bits - acc.frac}>"
            raise ValueError(
                f"accum {acc} can overflow in the {key.upper()} projection: |acc| reaches {need} LSBs "
                f"(E = {n_in} inputs of {x_t} times these weights){hint}"
            )


def _check_shifts(kind: AttentionKind, prec: Precision) -> None:
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
    _check_shifts(kind, prec)
    datapath_widths(kind, seq_len, head_dim, top_n, prec)


# ------------------------------------------------------------------------------------------------ build
def quantize_projection(weight: np.ndarray, bias: np.ndarray | None, prec: Precision) -> Projection:
    w = prec.weight.from_float(np.asarray(weight, dtype=np.float64))
    b = prec.bias.from_float(np.zeros(w.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64))
    return Projection(weight=w, bias=b)


def build_spec(
    kind: AttentionKind,
    *,
    seq_len: int,
    num_heads: int,
    top_n: int,
    sigma_q: float,
    sigma_k: float,
    weights: dict[str, tuple[np.ndarray, np.ndarray | None]],
    precision: Precision | None = None,
    key_padding_mask: bool = False,
    name: str = "attention",
) -> AttentionSpec:
    """Freeze one layer. ``weights``: {'q','k','v','o'} -> (float weight (out, in), float bias or None)."""
    prec = precision or Precision()
    embed_dim = int(np.asarray(weights["q"][0]).shape[1])
    if num_heads < 1 or embed_dim % num_heads:
        raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
    if not 1 <= top_n <= seq_len:
        raise ValueError(f"top_n={top_n} must be in 1..seq_len={seq_len}")
    if kind not in ("had", "fp"):
        raise ValueError(f"kind must be 'had' or 'fp', got {kind!r}")
    for key in "qkvo":
        w = np.asarray(weights[key][0])
        if w.shape != (embed_dim, embed_dim):
            raise ValueError(f"weight {key} has shape {w.shape}, expected ({embed_dim}, {embed_dim})")
    _check_shifts(kind, prec)
    head_dim = embed_dim // num_heads
    widths = datapath_widths(kind, seq_len, head_dim, top_n, prec)
    projections = {key: quantize_projection(*weights[key], prec) for key in "qkvo"}
    check_accumulator(projections, prec)
    if kind == "had":
        table = had_exp_table(sigma_q * sigma_k / math.sqrt(head_dim), head_dim, prec)
    else:
        table = fp_exp_table(prec)
    return AttentionSpec(
        kind=kind,
        seq_len=seq_len,
        embed_dim=embed_dim,
        num_heads=num_heads,
        top_n=top_n if kind == "had" else seq_len,
        sigma_q=float(sigma_q),
        sigma_k=float(sigma_k),
        precision=prec,
        q=projections["q"],
        k=projections["k"],
        v=projections["v"],
        o=projections["o"],
        exp_table=table,
        recip_table=recip_table(prec),
        fp_inv_sqrt_d=int(np.floor(2.0**prec.fp_inv_sqrt_frac / math.sqrt(head_dim) + 0.5)),
        key_padding_mask=key_padding_mask,
        name=name,
        widths=widths,
    )


def spec_from_module(
    module,
    kind: AttentionKind,
    seq_len: int,
    precision: Precision | None = None,
    key_padding_mask: bool = False,
    name: str = "attention",
) -> AttentionSpec:
    """Freeze a :class:`had_hls.nn.HammingAttention` (its weights, sigmas and top-N at ``seq_len``)."""

    def lin(layer) -> tuple[np.ndarray, np.ndarray | None]:
        b = None if layer.bias is None else layer.bias.detach().double().numpy()
        return layer.weight.detach().double().numpy(), b

    return build_spec(
        kind,
        seq_len=seq_len,
        num_heads=module.num_heads,
        top_n=module.top_n.keep(seq_len),
        sigma_q=float(module.sigma_q),
        sigma_k=float(module.sigma_k),
        weights={"q": lin(module.q_proj), "k": lin(module.k_proj), "v": lin(module.v_proj), "o": lin(module.out_proj)},
        precision=precision,
        key_padding_mask=key_padding_mask,
        name=name,
    )


def dequantized_weights(spec: AttentionSpec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The float values the hardware really uses: {'q','k','v','o'} -> (weight, bias)."""
    p = spec.precision
    return {k: (p.weight.to_float(pr.weight), p.bias.to_float(pr.bias)) for k, pr in spec.projections().items()}
