// had-hls: stages shared by the HAD and FP attention layers (projection, softmax normalisation).
// Mirrors had_hls/golden.py (project, normalise_av) and templates/rtl/. Arithmetic contract: had_hls/spec.py.
#ifndef NNET_ATTENTION_COMMON_H_
#define NNET_ATTENTION_COMMON_H_

#include "ap_fixed.h"
#include "ap_int.h"
#ifndef __SYNTHESIS__
#include <map>
#include <vector>
#endif

namespace nnet {

// Raw two's-complement mantissa of an ap_fixed value (value = mantissa * 2^-F).
template <int W, class fixed_T> inline ap_int<W> mantissa_of(const fixed_T &x) {
    ap_int<W> m;
    m.range(W - 1, 0) = x.range(W - 1, 0);
    return m;
}

#ifndef __SYNTHESIS__
// ---- C-simulation speed-up (g++ only; never seen by HLS synthesis) -------------------------------------------------
// ap_fixed arithmetic is emulated in software and dominates whole-model C-sim time. When every conversion to acc_T
// in project_token is exact up to wrap-around (acc_T wraps, keeps all fractional bits of x*w and of the bias, is at
// most 62 bits wide, and the exact sum fits in int64), the ap_fixed loop below equals: sum the integer mantissas in
// int64, then keep the low W_acc bits (wrap-around addition is modular). fast_project_token does that; otherwise
// (or with -DHAD_HLS_NO_FAST_CSIM) it returns false and the plain loop runs. Tests compare both builds bit for bit.
template <class T> struct fixed_traits {
    static const bool ok = false, S = false;
    static const int W = 1, I = 1;
    static const bool wraps = false;
};
template <int W_, int I_, ap_q_mode Q, ap_o_mode O, int N> struct fixed_traits<ap_fixed<W_, I_, Q, O, N> > {
    static const bool ok = true, S = true;
    static const int W = W_, I = I_;
    static const bool wraps = O == AP_WRAP && N == 0;
};
template <int W_, int I_, ap_q_mode Q, ap_o_mode O, int N> struct fixed_traits<ap_ufixed<W_, I_, Q, O, N> > {
    static const bool ok = true, S = false;
    static const int W = W_, I = I_;
    static const bool wraps = O == AP_WRAP && N == 0;
};

// The two's-complement mantissa (signed types) or the raw bits (unsigned types) as int64; W <= 62.
template <class T> inline long long fixed_mantissa(const T &v) {
    const int W = fixed_traits<T>::W;
    const unsigned long long mask = W >= 64 ? ~0ULL : ((1ULL << (W & 63)) - 1);
    unsigned long long bits = (unsigned long long)v.V.to_uint64() & mask;
    if (fixed_traits<T>::S && ((bits >> ((W - 1) & 63)) & 1)) bits |= ~mask; // sign-extend
    return (long long)bits;
}

template <class in_T, class w_T, class b_T, class acc_T, unsigned N_IN, unsigned N_OUT>
bool fast_project_token(const in_T x[N_IN], const w_T w[N_OUT * N_IN], const b_T b[N_OUT], acc_T acc[N_OUT]) {
#ifdef HAD_HLS_NO_FAST_CSIM
    return false;
#else
    typedef fixed_traits<in_T> X;
    typedef fixed_traits<w_T> Wt;
    typedef fixed_traits<b_T> B;
    typedef fixed_traits<acc_T> A;
    const int FX = X::W - X::I, FW = Wt::W - Wt::I, FB = B::W - B::I, FA = A::W - A::I;
    const int SP = FA - FX - FW, SB = FA - FB;
    unsigned log_n = 0;
    while ((1u << log_n) < N_IN + 1) log_n++;
    if (!(X::ok && Wt::ok && B::ok && A::ok && A::wraps) || SP < 0 || SB < 0 || A::W > 62 ||
        X::W + Wt::W + SP + (int)log_n + 1 > 62 || B::W + SB + 2 > 62)
        return false;
    // weight mantissas, cached per weight array (hls4ml weights are constant globals); 8 spread entries are
    // re-checked on every call so that an array reused with new contents is re-read
    static std::map<const void *, std::vector<long long> > cache;
    std::vector<long long> &wm = cache[(const void *)w];
    bool stale = wm.empty();
    for (unsigned k = 0; k < 8 && !stale; k++) {
        unsigned j = (unsigned)(((unsigned long long)k * (N_OUT * N_IN - 1)) / 7);
        stale = wm[j] != fixed_mantissa(w[j]);
    }
    if (stale) {
        wm.resize(N_OUT * N_IN);
        for (unsigned k = 0; k < N_OUT * N_IN; k++) wm[k] = fixed_mantissa(w[k]);
    }
    long long xm[N_IN];
    for (unsigned i = 0; i < N_IN; i++) xm[i] = fixed_mantissa(x[i]);
    for (unsigned o = 0; o < N_OUT; o++) {
        const long long *row = &wm[o * N_IN];
        long long s = 0;
        for (unsigned i = 0; i < N_IN; i++) s += xm[i] * row[i];
        s = (s << (SP > 0 ? SP : 0)) + (fixed_mantissa(b[o]) << (SB > 0 ? SB : 0));
        acc_T a;
        a.range(A::W - 1, 0) = ap_int<A::W>(s).range(A::W - 1, 0); // wrap: keep the low W_acc bits
        acc[o] = a;
    }
    return true;
#endif
}
#endif

// Projection of one token: acc[o] = bias[o]; acc[o] += x[i] * w[o][i] for i = 0..N_IN-1 (w row-major (out, in)).
// Each += converts to acc_T with its quantisation/overflow modes: exact when acc_T keeps all product bits.
template <class in_T, class w_T, class b_T, class acc_T, unsigned N_IN, unsigned N_OUT>
void project_token(const in_T x[N_IN], const w_T w[N_OUT * N_IN], const b_T b[N_OUT], acc_T acc[N_OUT]) {
#ifndef __SYNTHESIS__
    if (fast_project_token<in_T, w_T, b_T, acc_T, N_IN, N_OUT>(x, w, b, acc)) return;
#endif
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
