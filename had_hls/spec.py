"""The hardware spec: one attention layer frozen to shapes, fixed-point types, integer weights and tables.

This module holds the frozen :class:`AttentionSpec` (with its :class:`Projection` weights) and the freezing of a
layer into one (:func:`build_spec`, :func:`spec_from_module`): quantise the weights, check that the projection
accumulator cannot overflow with them (:func:`check_accumulator`), build the tables (:mod:`had_hls.tables`) and the
internal widths (:mod:`had_hls.widths`). The types are :class:`had_hls.precision.Precision`.

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
from dataclasses import dataclass, field

import numpy as np

from had_hls.fixed import FixedType
from had_hls.precision import AttentionKind, Precision
from had_hls.precision import strong_fp_precision as strong_fp_precision  # re-export: had_hls/estimate/sweep.py
from had_hls.tables import fp_exp_table, had_exp_table, recip_table
from had_hls.widths import check_shifts, datapath_widths


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


# ------------------------------------------------------------------------------------------------ accumulator
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
    check_shifts(kind, prec)
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
