"""Bit-exact numpy golden model of the had-hls attention datapath (the arithmetic is stated in spec.py).

Every function works on exact integer mantissas and mirrors one stage of the C++ (templates/hls/nnet_*.h) and the
RTL (templates/rtl/*.v): projection -> sign bits -> Hamming scores -> top-N counting select -> exp-table
softmax weights -> sum / AV accumulate -> reciprocal normalisation -> output projection.

Exact at any width: each stage takes the width of its signals from the spec (``spec.widths``, computed by
:func:`had_hls.widths.datapath_widths`, and the precision's types) and computes in int64 while that width fits
:data:`had_hls.fixed.INT64_BITS` bits, in Python ints (numpy object arrays) beyond. Matrix products whose every
partial sum stays below 2^53 run as float64 BLAS products, which are then exact (e.g. the AV sums of the FP baseline
at L = 8192 on the default types: 48 bits), and their results are converted back to int64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from had_hls.fixed import INT64_BITS, FixedType, int_array, narrow
from had_hls.spec import AttentionSpec, Projection

FLOAT_EXACT_BITS = 53  # integers below 2^53 in magnitude, and sums of them below it, are exact in float64
ROW_BLOCK = 512  # query rows per block of the (H, L, L) stages (bounds the temporaries at long L)


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
    x: np.ndarray, x_t: FixedType, proj: Projection, prec_w: FixedType, prec_b: FixedType, acc_t: FixedType
) -> np.ndarray:
    """acc[t][o] = bias[o]; acc[t][o] += x[t][i] * w[o][i] for i in order, each step converted to acc_t.

    ``x``: mantissas of type ``x_t``. Each step adds two values aligned to max(F_acc, F_x + F_w) fractional bits;
    its width (acc_t's or the product's, whichever is wider after alignment, + 1 carry) picks int64 or Python ints.
    """
    prod_frac = x_t.frac + prec_w.frac
    full = max(acc_t.frac, prod_frac)
    sh_acc, sh_prod = full - acc_t.frac, full - prod_frac
    step_bits = max(acc_t.width + sh_acc, x_t.width + prec_w.width + sh_prod) + 1
    xs, ws = int_array(x, step_bits), int_array(proj.weight, step_bits)
    acc = np.broadcast_to(acc_t.from_mantissa(proj.bias, prec_b.frac), (x.shape[0], proj.weight.shape[0])).copy()
    for i in range(proj.weight.shape[1]):
        prod = xs[:, i : i + 1] * ws[None, :, i]
        acc = acc_t.from_mantissa((int_array(acc, step_bits) << sh_acc) + (prod << sh_prod), full)
    return acc


def sign_bits(acc: np.ndarray, num_heads: int) -> np.ndarray:
    """(L, E) accumulators -> (H, L, d) bits, 1 where the value is negative."""
    seq, embed = acc.shape
    return (acc < 0).reshape(seq, num_heads, embed // num_heads).transpose(1, 0, 2)


def hamming_scores(qbits: np.ndarray, kbits: np.ndarray) -> np.ndarray:
    """ham[h][i][j] = popcount(qbits[h][i] xor kbits[h][j]), as int16 (int32 for d >= 2^14).

    Counted as q (1 - k)^T + (1 - q) k^T in float32 (exact: integers up to d < 2^24), by blocks of query rows."""
    heads, seq, d = qbits.shape
    if d >= 1 << 24:
        raise ValueError(f"head_dim {d} too large for the Hamming count")
    q = qbits.astype(np.float32)
    k = kbits.astype(np.float32)
    kt, nkt = k.transpose(0, 2, 1), (1 - k).transpose(0, 2, 1)
    out = np.empty((heads, seq, kbits.shape[1]), dtype=np.int16 if d < 2**14 else np.int32)
    for r0 in range(0, seq, ROW_BLOCK):
        qb = q[:, r0 : r0 + ROW_BLOCK]
        out[:, r0 : r0 + ROW_BLOCK] = np.rint(qb @ nkt + (1 - qb) @ kt)
    return out


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
    rank_at = np.cumsum(at, axis=-1, dtype=np.int32) - at  # keys with ham = T before j (L < 2^31)
    return (ham_v < thresh[..., None]) | (at & (rank_at < take[..., None]))


def had_exp_weights(ham: np.ndarray, kept: np.ndarray, table: np.ndarray) -> np.ndarray:
    """e_j = exp_table[ham_j - min kept ham] for kept keys, 0 elsewhere (the table's dtype: int32 when it fits)."""
    big = np.iinfo(ham.dtype).max
    hmin = np.where(kept, ham, big).min(-1, keepdims=True)
    delta = np.where(kept, ham - np.where(hmin == big, 0, hmin), 0)
    return np.where(kept, _table_ints(table)[delta], 0)


def fp_scores(q: np.ndarray, k: np.ndarray, num_heads: int, score_bits: int) -> np.ndarray:
    """s[h][i][j] = sum_c q[i][h d + c] k[j][h d + c], exact integers (2 F_qk fractional bits, ``score_bits`` wide)."""
    rows, embed = q.shape
    d = embed // num_heads
    qh = q.reshape(rows, num_heads, d).transpose(1, 0, 2)
    kh = k.reshape(k.shape[0], num_heads, d).transpose(1, 0, 2)
    return exact_matmul(qh, kh.transpose(0, 2, 1), score_bits)


def fp_exp_weights(s: np.ndarray, valid: np.ndarray, spec: AttentionSpec) -> np.ndarray:
    """e_j = fp_exp_table[min(T - 1, round_half_up((s_max - s_j) inv_sqrt_d >> sh))] over valid keys.

    The product (s_max - s_j) inv_sqrt_d + 2^(sh-1) is ``widths['fp_index_prod']`` bits wide."""
    smax = np.where(valid[None, None, :], s, s.min(initial=0)).max(-1, keepdims=True)
    sh = spec.fp_index_shift
    prod_bits = spec.widths["fp_index_prod"]
    table = _table_ints(spec.exp_table)
    out = np.empty(s.shape, dtype=table.dtype)
    for r0 in range(0, s.shape[1], ROW_BLOCK):
        rows = slice(r0, r0 + ROW_BLOCK)
        diff = int_array(np.where(valid[None, None, :], smax[:, rows] - s[:, rows], 0), prod_bits)
        idx = (diff * spec.fp_inv_sqrt_d + (1 << (sh - 1))) >> sh
        idx = narrow(np.minimum(idx, spec.precision.fp_exp_table_size - 1), INT64_BITS)
        out[:, rows] = np.where(valid[None, None, :], table[idx], 0)
    return out


def normalise_av(weights: np.ndarray, v: np.ndarray, spec: AttentionSpec) -> np.ndarray:
    """ctx[i][h d + c] = sat(round_half_up(acc * r >> (F_v + F_r + p - F_ctx))), acc = sum_j e_j v[j][h d + c].

    S = sum_j e_j, p = floor(log2 S), r = recip_table[R bits of S below its leading one]. S = 0 gives 0.
    Widths from the spec: S ``widths['sum']``, acc ``widths['av_acc']``, acc * r + half ``widths['norm_prod']``.
    """
    prec, w = spec.precision, spec.widths
    heads, seq, _ = weights.shape  # seq: the query rows (L, or the first rows of attention_trace(rows=...))
    d = spec.head_dim
    vh = v.reshape(v.shape[0], heads, d).transpose(1, 0, 2)  # (H, L, d)
    acc = np.concatenate(
        [exact_matmul(weights[:, r0 : r0 + ROW_BLOCK], vh, w["av_acc"]) for r0 in range(0, seq, ROW_BLOCK)], axis=1
    )  # (H, L, d) exact
    total = weights.sum(-1, dtype=np.int64) if w["sum"] <= INT64_BITS else weights.astype(object).sum(-1)  # (H, L)
    p = np.where(total > 0, floor_log2(total), prec.exp_table.frac)
    r_bits = prec.recip_index_bits
    mask = (1 << r_bits) - 1
    down, up = (int_array(np.maximum(x, 0), w["sum"]) for x in (p - r_bits, r_bits - p))
    idx = np.where(p >= r_bits, total >> down, total << up) & mask
    recip = spec.recip_table[narrow(idx, INT64_BITS)]
    shift = prec.value.frac + prec.recip_table.frac + p - prec.context.frac
    nb = w["norm_prod"]
    prod = int_array(acc, nb) * int_array(recip, nb)[..., None]
    sh = int_array(shift[..., None], nb)
    ctx = (prod + (int_array(np.ones_like(sh), nb) << (sh - 1))) >> sh
    ctx = narrow(np.minimum(np.maximum(ctx, prec.context.min_int), prec.context.max_int), prec.context.width)
    ctx = np.where(total[..., None] > 0, ctx, 0)
    return ctx.transpose(1, 0, 2).reshape(seq, heads * d)


def exact_matmul(a: np.ndarray, b: np.ndarray, bits: int) -> np.ndarray:
    """a @ b of integer arrays, exact, when every partial sum of the result fits ``bits`` signed bits.

    <= 53 bits: a float64 (BLAS) product, exact since every product and partial sum is an integer below 2^53;
    <= INT64_BITS: int64; wider: Python ints (object arrays)."""
    if bits <= FLOAT_EXACT_BITS:
        return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    if bits <= INT64_BITS:
        return a.astype(np.int64) @ b.astype(np.int64)
    return a.astype(object) @ b.astype(object)


def floor_log2(x: np.ndarray) -> np.ndarray:
    """floor(log2 x) of positive integers (int64 or Python ints); 0 where x <= 0."""
    x = np.asarray(x)
    if x.dtype == object:
        return np.frompyfunc(lambda v: max(int(v).bit_length() - 1, 0), 1, 1)(x).astype(np.int64)
    out = np.zeros(x.shape, dtype=np.int64)
    y = x.astype(np.int64)
    for step in (32, 16, 8, 4, 2, 1):
        big = y >= (np.int64(1) << step)
        out += np.where(big, step, 0)
        y = np.where(big, y >> step, y)
    return out


def _table_ints(table: np.ndarray) -> np.ndarray:
    """An exp table (unsigned entries) as int32 when its entries fit, else int64 (halves the (H, L, L) weights)."""
    return table.astype(np.int32) if int(table.max(initial=0)) < 2**31 else table.astype(np.int64)


# ------------------------------------------------------------------------------------------------ layer
def attention_trace(spec: AttentionSpec, x: np.ndarray, key_padding_mask: np.ndarray | None = None,
                    rows: int | None = None) -> GoldenTrace:
    """Run one input x: (L, E) floats (converted to the input type as the HLS bridge does) through the layer.

    ``key_padding_mask``: (L,) bool, True = padded key (never attended).
    ``rows``: only the first ``rows`` query rows (scores, kept, weights, ctx, y hold those rows; x, q_acc, k_acc
    and v all L tokens). Every row depends only on its own query and all keys, so they equal the full trace's first
    rows: what a long-sequence co-simulation of its first rows compares against, without the L x L work.
    """
    prec = spec.precision
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (spec.seq_len, spec.embed_dim):
        raise ValueError(f"input shape {x.shape} != ({spec.seq_len}, {spec.embed_dim})")
    valid = np.ones(spec.seq_len, dtype=bool) if key_padding_mask is None else ~np.asarray(key_padding_mask, bool)
    xm = prec.input.from_float(x)

    def proj(p: Projection, xin: np.ndarray, x_t: FixedType) -> np.ndarray:
        return project(xin, x_t, p, prec.weight, prec.bias, prec.accum)

    q_acc, k_acc, v_acc = proj(spec.q, xm, prec.input), proj(spec.k, xm, prec.input), proj(spec.v, xm, prec.input)
    v = prec.value.from_mantissa(v_acc, prec.accum.frac)
    if rows is not None and not 1 <= rows <= spec.seq_len:
        raise ValueError(f"rows: {rows} is not in 1..{spec.seq_len}")
    q_rows = q_acc if rows is None else q_acc[:rows]
    if spec.kind == "had":
        scores = hamming_scores(sign_bits(q_rows, spec.num_heads), sign_bits(k_acc, spec.num_heads))
        kept = topn_select(scores, valid, spec.top_n, spec.head_dim)
        weights = had_exp_weights(scores, kept, spec.exp_table)
    else:
        q = prec.qk.from_mantissa(q_rows, prec.accum.frac)
        k = prec.qk.from_mantissa(k_acc, prec.accum.frac)
        scores = fp_scores(q, k, spec.num_heads, spec.widths["score"])
        kept = np.broadcast_to(valid[None, None, :], scores.shape).copy()
        weights = fp_exp_weights(scores, valid, spec)
    ctx = normalise_av(weights, v, spec)
    y_acc = proj(spec.o, ctx, prec.context)
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
