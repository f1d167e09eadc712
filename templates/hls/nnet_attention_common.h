// had-hls: stages shared by the HAD and FP attention layers (projection, softmax normalisation).
// Mirrors had_hls/golden.py (project, normalise_av) and templates/rtl/. Arithmetic contract: had_hls/spec.py.
#ifndef NNET_ATTENTION_COMMON_H_
#define NNET_ATTENTION_COMMON_H_

#include "ap_fixed.h"
#include "ap_int.h"

namespace nnet {

// Raw two's-complement mantissa of an ap_fixed value (value = mantissa * 2^-F).
template <int W, class fixed_T> inline ap_int<W> mantissa_of(const fixed_T &x) {
    ap_int<W> m;
    m.range(W - 1, 0) = x.range(W - 1, 0);
    return m;
}

// Projection of one token: acc[o] = bias[o]; acc[o] += x[i] * w[o][i] for i = 0..N_IN-1 (w row-major (out, in)).
// Each += converts to acc_T with its quantisation/overflow modes: exact when acc_T keeps all product bits.
template <class in_T, class w_T, class b_T, class acc_T, unsigned N_IN, unsigned N_OUT>
void project_token(const in_T x[N_IN], const w_T w[N_OUT * N_IN], const b_T b[N_OUT], acc_T acc[N_OUT]) {
ProjOut:
    for (unsigned o = 0; o < N_OUT; o++) {
        acc_T a = b[o];
    ProjIn:
        for (unsigned i = 0; i < N_IN; i++) {
            #pragma HLS PIPELINE II=1
            a += x[i] * w[o * N_IN + i];
        }
        acc[o] = a;
    }
}

// floor(log2(s)) for s > 0: position of the leading one.
template <int W> inline unsigned leading_one(const ap_uint<W> &s) {
    unsigned p = 0;
LeadingOne:
    for (int b = 0; b < W; b++) {
        #pragma HLS UNROLL
        if (s[b]) p = b;
    }
    return p;
}

// Softmax normalisation of one head of one query row.
// acc[c] = sum_j e_j v_jc (exact, F_e + F_v fractional bits), s = sum_j e_j. With p = floor(log2 s) and
// r = recip_table[the R bits of s below its leading one] ~ 2^p / s:
//   ctx[c] = sat(round_half_up(acc[c] * r >> (F_v + F_r + p - F_ctx))),  s = 0 -> ctx = 0.
template <typename CONFIG_T>
void normalise_row(const typename CONFIG_T::sum_t s, const typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim],
                   const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits],
                   typename CONFIG_T::context_t ctx[CONFIG_T::head_dim]) {
    const int R = CONFIG_T::recip_index_bits;
    const int W_CTX = CONFIG_T::context_width;
    const ap_int<W_CTX + 1> ctx_max = (ap_int<W_CTX + 1>(1) << (W_CTX - 1)) - 1;
    const ap_int<W_CTX + 1> ctx_min = -(ap_int<W_CTX + 1>(1) << (W_CTX - 1));
    if (s == 0) {
    NoKey:
        for (unsigned c = 0; c < CONFIG_T::head_dim; c++) {
            #pragma HLS UNROLL
            ctx[c] = 0;
        }
        return;
    }
    unsigned p = leading_one<CONFIG_T::sum_width>(s);
    ap_uint<R> idx;
    if ((int)p >= R) {
        idx = (s >> (p - R)).range(R - 1, 0);
    } else {
        idx = (s << (R - p)).range(R - 1, 0);
    }
    typename CONFIG_T::recip_t r = recip_table[idx];
    unsigned shift = CONFIG_T::value_frac + CONFIG_T::recip_frac + p - CONFIG_T::context_frac;
Normalise:
    for (unsigned c = 0; c < CONFIG_T::head_dim; c++) {
        #pragma HLS PIPELINE II=1
        typename CONFIG_T::norm_prod_t prod = acc[c] * r;
        prod += typename CONFIG_T::norm_prod_t(1) << (shift - 1);
        prod >>= shift;
        ap_int<W_CTX + 1> y;
        if (prod > ctx_max) {
            y = ctx_max;
        } else if (prod < ctx_min) {
            y = ctx_min;
        } else {
            y = prod;
        }
        ctx[c].range(W_CTX - 1, 0) = y.range(W_CTX - 1, 0);
    }
}

} // namespace nnet

#endif
