"""Bit-exact numpy golden model of the had-hls attention datapath (the arithmetic is stated in spec.py).

Every function works on int64 mantissas and mirrors one stage of the C++ (templates/hls/nnet_*.h) and the
RTL (templates/rtl/*.v): projection -> sign bits -> Hamming scores -> top-N counting select -> exp-table
softmax weights -> sum / AV accumulate -> reciprocal normalisation -> output projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from had_hls.fixed import FixedType
from had_hls.spec import AttentionSpec, Projection


@dataclass
class GoldenTrace:
    """Intermediate signals of one input (for debugging and for driving RTL co-simulation)."""

    x: np.ndarray  # (L, E) input mantissas
    q_acc: np.ndarray  # (L, E) accumulators
    k_acc: np.ndarray
    v: np.ndarray  # (L, E) value mantissas
    scores: np.ndarray  # (H, L, L): ham (HAD) or exact dot products (FP)
    kept: np.ndarray  # (H, L, L) bool: keys entering the softmax
    weights: np.ndarray  # (H, L, L) exp-table weights e_j (0 where not kept)
    ctx: np.ndarray  # (L, E) context mantissas
    y: np.ndarray  # (L, E) result mantissas


# ------------------------------------------------------------------------------------------------ stages
def project(
    x: np.ndarray, x_frac: int, proj: Projection, prec_w: FixedType, prec_b: FixedType, acc_t: FixedType
) -> np.ndarray:
    """acc[t][o] = bias[o]; acc[t][o] += x[t][i] * w[o][i] for i in order, each step converted to acc_t."""
    prod_frac = x_frac + prec_w.frac
    full = max(acc_t.frac, prod_frac)
    acc = np.broadcast_to(acc_t.from_mantissa(proj.bias, prec_b.frac), (x.shape[0], proj.weight.shape[0])).copy()
    for i in range(proj.weight.shape[1]):
        prod = x[:, i : i + 1] * proj.weight[None, :, i]
        acc = acc_t.from_mantissa((acc << (full - acc_t.frac)) + (prod << (full - prod_frac)), full)
    return acc


def sign_bits(acc: np.ndarray, num_heads: int) -> np.ndarray:
    """(L, E) accumulators -> (H, L, d) bits, 1 where the value is negative."""
    seq, embed = acc.shape
    return (acc < 0).reshape(seq, num_heads, embed // num_heads).transpose(1, 0, 2)


def hamming_scores(qbits: np.ndarray, kbits: np.ndarray) -> np.ndarray:
    """ham[h][i][j] = popcount(qbits[h][i] xor kbits[h][j])."""
    q = qbits.astype(np.int64)
    k = kbits.astype(np.int64)
    return q @ (1 - k).transpose(0, 2, 1) + (1 - q) @ k.transpose(0, 2, 1)


def topn_select(ham: np.ndarray, valid: np.ndarray, n: int, max_score: int) -> np.ndarray:
    """Counting select: per row keep min(n, valid) keys of smallest ham, ties to the lower key index.

    hist[t] = #valid keys with ham = t; threshold T = first t with cumsum(hist)[t] >= n_row; keep ham < T and the
    first (n_row - cumsum[T-1]) keys with ham = T in index order. ``valid``: (L,) bool.
    """
    ham_v = np.where(valid[None, None, :], ham, max_score + 1)
    n_row = min(n, int(valid.sum()))
    if n_row == 0:
        return np.zeros(ham.shape, dtype=bool)
    hist = np.stack([(ham_v == t).sum(-1) for t in range(max_score + 1)], axis=-1)  # (H, L, T)
    cum = np.cumsum(hist, axis=-1)
    thresh = np.argmax(cum >= n_row, axis=-1)  # (H, L)
    below = np.where(thresh > 0, np.take_along_axis(cum, np.maximum(thresh - 1, 0)[..., None], -1)[..., 0], 0)
    take = n_row - below
    at = ham_v == thresh[..., None]
    rank_at = np.cumsum(at, axis=-1) - at  # keys with ham = T before j
    return (ham_v < thresh[..., None]) | (at & (rank_at < take[..., None]))


def had_exp_weights(ham: np.ndarray, kept: np.ndarray, table: np.ndarray) -> np.ndarray:
    """e_j = exp_table[ham_j - min kept ham] for kept keys, 0 elsewhere."""
    big = np.iinfo(np.int64).max
    hmin = np.where(kept, ham, big).min(-1, keepdims=True)
    delta = np.where(kept, ham - np.where(hmin == big, 0, hmin), 0)
    return np.where(kept, table[delta], 0)


def fp_scores(q: np.ndarray, k: np.ndarray, num_heads: int) -> np.ndarray:
    """s[h][i][j] = sum_c q[i][h d + c] k[j][h d + c], exact integers (2 F_qk fractional bits)."""
    seq, embed = q.shape
    d = embed // num_heads
    qh = q.reshape(seq, num_heads, d).transpose(1, 0, 2)
    kh = k.reshape(seq, num_heads, d).transpose(1, 0, 2)
    return qh @ kh.transpose(0, 2, 1)


def fp_exp_weights(s: np.ndarray, valid: np.ndarray, spec: AttentionSpec) -> np.ndarray:
    """e_j = fp_exp_table[min(T - 1, round_half_up((s_max - s_j) inv_sqrt_d >> sh))] over valid keys."""
    small = np.iinfo(np.int64).min
    smax = np.where(valid[None, None, :], s, small).max(-1, keepdims=True)
    diff = np.where(valid[None, None, :], smax - s, 0)
    sh = spec.fp_index_shift
    idx = (diff * spec.fp_inv_sqrt_d + (1 << (sh - 1))) >> sh
    idx = np.minimum(idx, spec.precision.fp_exp_table_size - 1)
    return np.where(valid[None, None, :], spec.exp_table[idx], 0)


def normalise_av(weights: np.ndarray, v: np.ndarray, spec: AttentionSpec) -> np.ndarray:
    """ctx[i][h d + c] = sat(round_half_up(acc * r >> (F_v + F_r + p - F_ctx))), acc = sum_j e_j v[j][h d + c].

    S = sum_j e_j, p = floor(log2 S), r = recip_table[R bits of S below its leading one]. S = 0 gives 0.
    """
    prec = spec.precision
    heads, seq, _ = weights.shape
    d = spec.head_dim
    vh = v.reshape(seq, heads, d).transpose(1, 0, 2)  # (H, L, d)
    acc = weights @ vh  # (H, L, d) exact
    total = weights.sum(-1)  # (H, L)
    p = np.where(total > 0, _floor_log2(total), prec.exp_table.frac)
    r_bits = prec.recip_index_bits
    mask = (1 << r_bits) - 1
    idx = np.where(p >= r_bits, total >> np.maximum(p - r_bits, 0), total << np.maximum(r_bits - p, 0)) & mask
    recip = spec.recip_table[idx]
    shift = prec.value.frac + prec.recip_table.frac + p - prec.context.frac
    prod = acc * recip[..., None]
    sh = shift[..., None]
    ctx = (prod + (np.int64(1) << (sh - 1))) >> sh
    ctx = np.clip(ctx, prec.context.min_int, prec.context.max_int)
    ctx = np.where(total[..., None] > 0, ctx, 0)
    return ctx.transpose(1, 0, 2).reshape(seq, heads * d)


def _floor_log2(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape, dtype=np.int64)
    y = x.copy()
    for step in (32, 16, 8, 4, 2, 1):
        big = y >= (np.int64(1) << step)
        out += np.where(big, step, 0)
        y = np.where(big, y >> step, y)
    return out


# ------------------------------------------------------------------------------------------------ layer
def attention_trace(spec: AttentionSpec, x: np.ndarray, key_padding_mask: np.ndarray | None = None) -> GoldenTrace:
    """Run one input x: (L, E) floats (converted to the input type as the HLS bridge does) through the layer.

    ``key_padding_mask``: (L,) bool, True = padded key (never attended).
    """
    prec = spec.precision
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (spec.seq_len, spec.embed_dim):
        raise ValueError(f"input shape {x.shape} != ({spec.seq_len}, {spec.embed_dim})")
    valid = np.ones(spec.seq_len, dtype=bool) if key_padding_mask is None else ~np.asarray(key_padding_mask, bool)
    xm = prec.input.from_float(x)
    fin = prec.input.frac

    def proj(p: Projection, xin: np.ndarray, xfrac: int) -> np.ndarray:
        return project(xin, xfrac, p, prec.weight, prec.bias, prec.accum)

    q_acc, k_acc, v_acc = proj(spec.q, xm, fin), proj(spec.k, xm, fin), proj(spec.v, xm, fin)
    v = prec.value.from_mantissa(v_acc, prec.accum.frac)
    if spec.kind == "had":
        scores = hamming_scores(sign_bits(q_acc, spec.num_heads), sign_bits(k_acc, spec.num_heads))
        kept = topn_select(scores, valid, spec.top_n, spec.head_dim)
        weights = had_exp_weights(scores, kept, spec.exp_table)
    else:
        q = prec.qk.from_mantissa(q_acc, prec.accum.frac)
        k = prec.qk.from_mantissa(k_acc, prec.accum.frac)
        scores = fp_scores(q, k, spec.num_heads)
        kept = np.broadcast_to(valid[None, None, :], scores.shape).copy()
        weights = fp_exp_weights(scores, valid, spec)
    ctx = normalise_av(weights, v, spec)
    y_acc = proj(spec.o, ctx, prec.context.frac)
    y = prec.result.from_mantissa(y_acc, prec.accum.frac)
    return GoldenTrace(x=xm, q_acc=q_acc, k_acc=k_acc, v=v, scores=scores, kept=kept, weights=weights, ctx=ctx, y=y)


def attention(spec: AttentionSpec, x: np.ndarray, key_padding_mask: np.ndarray | None = None) -> np.ndarray:
    """Batch of inputs (B, L, E) or one (L, E) -> outputs as floats (exact values of the result type)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return spec.precision.result.to_float(attention_trace(spec, x, key_padding_mask).y)
    masks = [None] * len(x) if key_padding_mask is None else list(key_padding_mask)
    ys = [attention_trace(spec, xi, mi).y for xi, mi in zip(x, masks, strict=True)]
    return spec.precision.result.to_float(np.stack(ys))
