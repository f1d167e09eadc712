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
// ap_fixed arithmetic is emulated in software and dominates C-sim time. Every fast path below computes, with plain
// integers (int64 / unsigned int64 / __int128), exactly the bits the ap_fixed code next to it computes: each value is
// held as its two's-complement mantissa (value = m * 2^-F); a conversion to a type T floors (AP_TRN) or adds the
// half LSB and floors (AP_RND), then wraps to W bits (AP_WRAP) or clamps (AP_SAT), as ap_fixed does; additions into
// a wrapping type are exact modulo 2^W, so they wrap once at the end. The fast paths are opt-in: only had-hls's own
// g++ build (build_lib.sh, had_hls/hls/build.py) defines HAD_HLS_FAST_CSIM_ENABLE, so Vitis C simulation
// (build_prj.tcl's csim_design) and every other compile run the ap_fixed code that is synthesized. Even when enabled,
// a fast path is chosen at compile time only when every type involved is one it models and no intermediate can
// exceed its integer width; -DHAD_HLS_NO_FAST_CSIM turns them off again. tests/test_model_convert_fast_csim.py
// compares both bit for bit.
#if defined(HAD_HLS_FAST_CSIM_ENABLE) && !defined(HAD_HLS_NO_FAST_CSIM)
#define HAD_HLS_FAST_CSIM 1
#else
#define HAD_HLS_FAST_CSIM 0
#endif

template <class T> struct fixed_traits {
    static const bool ok = false, S = false;
    static const int W = 1, I = 1, F = 0;
    static const bool wraps = false, trn = false, convertible = false;
};
template <int W_, int I_, bool S_, ap_q_mode Q, ap_o_mode O, int N> struct fixed_traits_base {
    static const bool ok = W_ <= 64, S = S_;
    static const int W = W_, I = I_, F = W_ - I_;
    static const bool wraps = O == AP_WRAP && N == 0, trn = Q == AP_TRN;
    // conversions into this type that the integer path models: AP_TRN / AP_RND, then AP_WRAP / AP_SAT
    static const bool convertible = ok && (Q == AP_TRN || Q == AP_RND) && ((O == AP_WRAP && N == 0) || O == AP_SAT);
    static const bool rnd = Q == AP_RND, sat = O == AP_SAT;
};
template <int W_, int I_, ap_q_mode Q, ap_o_mode O, int N>
struct fixed_traits<ap_fixed<W_, I_, Q, O, N> > : fixed_traits_base<W_, I_, true, Q, O, N> {};
template <int W_, int I_, ap_q_mode Q, ap_o_mode O, int N>
struct fixed_traits<ap_ufixed<W_, I_, Q, O, N> > : fixed_traits_base<W_, I_, false, Q, O, N> {};
template <int W_> struct fixed_traits<ap_int<W_> > : fixed_traits_base<W_, W_, true, AP_TRN, AP_WRAP, 0> {};
template <int W_> struct fixed_traits<ap_uint<W_> > : fixed_traits_base<W_, W_, false, AP_TRN, AP_WRAP, 0> {};

typedef __int128 wide_int;

// The two's-complement mantissa (signed types) or the raw bits (unsigned types) as int64; W <= 64.
template <class T> inline long long fixed_mantissa(const T &v) {
    const int W = fixed_traits<T>::W;
    const unsigned long long mask = W >= 64 ? ~0ULL : ((1ULL << (W & 63)) - 1);
    unsigned long long bits = (unsigned long long)v.V.to_uint64() & mask;
    if (fixed_traits<T>::S && ((bits >> ((W - 1) & 63)) & 1)) bits |= ~mask; // sign-extend
    return (long long)bits;
}

// Set the raw bits of t (W <= 64) to the low W bits of m.
template <class T> inline void fixed_set(T &t, long long m) { t.V = (unsigned long long)m; }

// Keep the low W bits of m, read back as T's mantissa (sign-extended when T is signed): wrap-around.
template <int W, bool S> inline wide_int wrap_bits(wide_int m) {
    const unsigned __int128 mask = W >= 128 ? ~(unsigned __int128)0 : (((unsigned __int128)1 << (W & 127)) - 1);
    unsigned __int128 u = (unsigned __int128)m & mask;
    if (S && W < 128 && ((u >> ((W - 1) & 127)) & 1)) u |= ~mask;
    return (wide_int)u;
}

// m * 2^sh, sh >= 0, without the undefined behaviour of shifting a negative value
inline wide_int shl_wide(wide_int m, int sh) { return (wide_int)((unsigned __int128)m << sh); }

// floor(m * 2^-sh), sh >= 0 (>> of a signed __int128 is arithmetic in g++ and clang)
inline wide_int shr_floor(wide_int m, int sh) { return sh >= 127 ? (m < 0 ? -1 : 0) : (m >> sh); }

// Mantissa of T after assigning the exact value m * 2^-FM to it (T's quantisation and overflow modes).
template <class T> inline wide_int fixed_quantize(wide_int m, int FM) {
    typedef fixed_traits<T> R;
    const int s = FM - R::F;
    if (s > 0) {
        wide_int q = shr_floor(m, s);
        if (R::rnd) q += shr_floor(m, s - 1) & 1; // + the bit below the new LSB: round half up
        m = q;
    } else if (s < 0) {
        m = shl_wide(m, -s);
    }
    if (R::sat) {
        const wide_int hi = R::S ? ((wide_int)1 << (R::W - 1)) - 1 : ((wide_int)1 << R::W) - 1;
        const wide_int lo = R::S ? -((wide_int)1 << (R::W - 1)) : 0;
        return m > hi ? hi : (m < lo ? lo : m);
    }
    return wrap_bits<R::W, R::S>(m);
}

// t = (the exact value m * 2^-FM), as an ap_fixed assignment would round and overflow.
template <class T> inline void fixed_assign_exact(T &t, wide_int m, int FM) {
    fixed_set(t, (long long)fixed_quantize<T>(m, FM));
}

// dst = src for fixed-point types; integer route when both types are modelled.
template <class src_T, class dst_T, bool FAST = fixed_traits<src_T>::ok && fixed_traits<dst_T>::convertible>
struct fixed_copy {
    static void run(const src_T &src, dst_T &dst) { dst = src; }
};
template <class src_T, class dst_T> struct fixed_copy<src_T, dst_T, true> {
    static void run(const src_T &src, dst_T &dst) {
        fixed_assign_exact(dst, fixed_mantissa(src), fixed_traits<src_T>::F);
    }
};

template <unsigned N> struct ceil_log2 {
    static const int value = 1 + ceil_log2<(N + 1) / 2>::value;
};
template <> struct ceil_log2<1> {
    static const int value = 0;
};

// Exactness conditions of the integer projection (fast_project_rows): every conversion to acc_T is exact up to
// wrap-around (acc_T wraps and keeps all fractional bits of x*w and of the bias), each product and every partial sum
// of the products is an integer below 2^53 (exact in a double), and the shifted sum plus bias fits in int64.
template <class in_T, class w_T, class b_T, class acc_T, unsigned N_IN> struct project_fast {
    typedef fixed_traits<in_T> X;
    typedef fixed_traits<w_T> Wt;
    typedef fixed_traits<b_T> B;
    typedef fixed_traits<acc_T> A;
    static const int SP = A::F - X::F - Wt::F, SB = A::F - B::F;
    static const int LOG_N = ceil_log2<N_IN + 1>::value;
    static const bool ok = HAD_HLS_FAST_CSIM && X::ok && Wt::ok && B::ok && A::ok && A::wraps && SP >= 0 && SB >= 0 &&
                           A::W <= 62 && X::W + Wt::W + LOG_N <= 53 && X::W + Wt::W + SP + LOG_N + 1 <= 62 &&
                           B::W + SB + 2 <= 62;
};

// Weight mantissas as doubles, transposed to (in, out), cached per weight array (hls4ml weights are constant
// globals); 8 spread entries are re-checked on every call so that an array reused with new contents is re-read.
template <class w_T, unsigned N_IN, unsigned N_OUT> const double *weight_mantissas_t(const w_T w[N_OUT * N_IN]) {
    static std::map<const void *, std::vector<double> > cache;
    std::vector<double> &wt = cache[(const void *)w];
    const unsigned N = N_OUT * N_IN;
    bool stale = wt.empty();
    for (unsigned k = 0; k < 8 && !stale; k++) {
        unsigned j = (unsigned)(((unsigned long long)k * (N - 1)) / 7); // w[o][i], o = j / N_IN, i = j % N_IN
        stale = wt[(j % N_IN) * N_OUT + j / N_IN] != (double)fixed_mantissa(w[j]);
    }
    if (stale) {
        wt.resize(N);
        for (unsigned o = 0; o < N_OUT; o++)
            for (unsigned i = 0; i < N_IN; i++) wt[i * N_OUT + o] = (double)fixed_mantissa(w[o * N_IN + i]);
    }
    return &wt[0];
}

// acc_m[r][o] = mantissa of acc_T after  acc = b[r][o]; acc += x[r][i] * w[o][i]  for `rows` tokens (x given as
// mantissas, row-major (rows, N_IN); bias row r at b + r * b_stride). With project_fast::ok that loop equals: the
// exact integer sum of the mantissa products (in doubles: exact below 2^53), shifted to acc_T's fractional bits, plus
// the bias, keeping the low W_acc bits. Four tokens share each pass over the weights.
template <class in_T, class w_T, class b_T, class acc_T, unsigned N_IN, unsigned N_OUT>
void fast_project_rows(const double *xm, unsigned rows, const w_T w[N_OUT * N_IN], const b_T *b, unsigned b_stride,
                       long long *acc_m) {
    typedef project_fast<in_T, w_T, b_T, acc_T, N_IN> P;
    const unsigned TB = 4;
    const double *wt = weight_mantissas_t<w_T, N_IN, N_OUT>(w);
    double acc[TB][N_OUT];
    for (unsigned r0 = 0; r0 < rows; r0 += TB) {
        const unsigned nb = rows - r0 < TB ? rows - r0 : TB;
        for (unsigned t = 0; t < TB; t++)
            for (unsigned o = 0; o < N_OUT; o++) acc[t][o] = 0;
        for (unsigned i = 0; i < N_IN; i++) {
            const double *wr = &wt[i * N_OUT];
            for (unsigned t = 0; t < nb; t++) {
                const double xv = xm[(r0 + t) * N_IN + i];
                if (xv == 0) continue;
                double *a = acc[t];
                for (unsigned o = 0; o < N_OUT; o++) a[o] += xv * wr[o];
            }
        }
        for (unsigned t = 0; t < nb; t++) {
            const b_T *br = b + (r0 + t) * b_stride;
            long long *out = &acc_m[(r0 + t) * N_OUT];
            for (unsigned o = 0; o < N_OUT; o++) {
                long long s = (long long)acc[t][o] * (1LL << (P::SP > 0 ? P::SP : 0)) +
                              fixed_mantissa(br[o]) * (1LL << (P::SB > 0 ? P::SB : 0));
                out[o] = (long long)wrap_bits<P::A::W, P::A::S>(s);
            }
        }
    }
}

template <class in_T, class w_T, class b_T, class acc_T, unsigned N_IN, unsigned N_OUT>
bool fast_project_token(const in_T x[N_IN], const w_T w[N_OUT * N_IN], const b_T b[N_OUT], acc_T acc[N_OUT]) {
    if (!project_fast<in_T, w_T, b_T, acc_T, N_IN>::ok) return false;
    double xm[N_IN];
    long long am[N_OUT];
    for (unsigned i = 0; i < N_IN; i++) xm[i] = (double)fixed_mantissa(x[i]);
    fast_project_rows<in_T, w_T, b_T, acc_T, N_IN, N_OUT>(xm, 1, w, b, 0, am);
    for (unsigned o = 0; o < N_OUT; o++) fixed_set(acc[o], am[o]);
    return true;
}
#endif

// Fast-path dispatch at the top of a layer function, HAD_CSIM_FAST(COND, CALL) ... body ... HAD_CSIM_FAST_END.
// g++ C-sim with C++17 or later (hls4ml compiles with -std=c++23): `if constexpr (COND) { CALL; return; } else {
// body }`, so the ap_fixed body is not even instantiated when the integer path applies (a third of the compile time);
// older standards: a plain `if`; HLS synthesis (__SYNTHESIS__): nothing, the body exactly as written.
#if !defined(__SYNTHESIS__) && __cplusplus >= 201703L
#define HAD_CSIM_FAST(COND, CALL)                                                                                      \
    if constexpr (COND) {                                                                                              \
        (void)(CALL);                                                                                                  \
        return;                                                                                                        \
    } else {
#define HAD_CSIM_FAST_END }
#elif !defined(__SYNTHESIS__)
#define HAD_CSIM_FAST(COND, CALL)                                                                                      \
    if (COND) {                                                                                                        \
        (void)(CALL);                                                                                                  \
        return;                                                                                                        \
    }
#define HAD_CSIM_FAST_END
#else
#define HAD_CSIM_FAST(COND, CALL)
#define HAD_CSIM_FAST_END
#endif

// The score units' job counters (the RTL twin's attention_control A0): beat g of job (query i, head h), G = groups
// beats of P keys a job; after the last beat of head H-1 the next query.
template <typename CONFIG_T> inline void next_beat(unsigned &i, unsigned &h, unsigned &g) {
    #pragma HLS INLINE
    if (++g == CONFIG_T::groups) {
        g = 0;
        if (++h == CONFIG_T::num_heads) {
            h = 0;
            i++;
        }
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

// Softmax normalisation (golden.normalise_av), one element at a time: the normalise_row stage
// (nnet_attention_stages.h) applies it to DN elements a cycle. acc = sum_j e_j v_jc (exact, F_e + F_v fractional
// bits), s = sum_j e_j. With p = floor(log2 s) and r = recip_table[the R bits of s below its leading one] ~ 2^p / s:
//   ctx = sat(round_half_up(acc * r >> (F_v + F_r + p - F_ctx))),  s = 0 -> ctx = 0.
template <typename CONFIG_T> struct norm_scale {
    typename CONFIG_T::recip_t r;
    unsigned shift;
    bool zero; // s = 0: no key kept, the context is 0
};

// r and the shift of one row and head, from s (a leading-one search and one reciprocal-table read).
template <typename CONFIG_T>
norm_scale<CONFIG_T> normalise_scale(const typename CONFIG_T::sum_t s,
                                     const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    #pragma HLS INLINE
    const int R = CONFIG_T::recip_index_bits;
    norm_scale<CONFIG_T> out;
    out.zero = s == 0;
    unsigned p = leading_one<CONFIG_T::sum_width>(s);
    ap_uint<R> idx;
    if ((int)p >= R) {
        idx = (s >> (p - R)).range(R - 1, 0);
    } else {
        idx = (s << (R - p)).range(R - 1, 0);
    }
    out.r = recip_table[idx];
    out.shift = CONFIG_T::value_frac + CONFIG_T::recip_frac + p - CONFIG_T::context_frac;
    return out;
}

// ctx = sat(round_half_up(acc * r >> shift)) in context_t (exactly context_width bits, signed).
template <typename CONFIG_T>
typename CONFIG_T::context_t normalise_element(const typename CONFIG_T::av_acc_t acc, const norm_scale<CONFIG_T> &sc) {
    #pragma HLS INLINE
    const int W_CTX = CONFIG_T::context_width;
    const ap_int<W_CTX + 1> ctx_max = (ap_int<W_CTX + 1>(1) << (W_CTX - 1)) - 1;
    const ap_int<W_CTX + 1> ctx_min = -(ap_int<W_CTX + 1>(1) << (W_CTX - 1));
    typename CONFIG_T::context_t ctx = 0;
    if (sc.zero) return ctx;
    typename CONFIG_T::norm_prod_t prod = acc * sc.r;
    prod += typename CONFIG_T::norm_prod_t(1) << (sc.shift - 1);
    prod >>= sc.shift;
    ap_int<W_CTX + 1> y;
    if (prod > ctx_max) {
        y = ctx_max;
    } else if (prod < ctx_min) {
        y = ctx_min;
    } else {
        y = prod;
    }
    ctx.range(W_CTX - 1, 0) = y.range(W_CTX - 1, 0);
    return ctx;
}

#ifndef __SYNTHESIS__
// Integer widths of the fast path's accumulators: a W-bit two's-complement signal held as its low bits in an unsigned
// 64-bit word while W <= 64 (additions and products modulo 2^64 keep those bits exact), else in an unsigned __int128.
template <int W, bool WIDE = (W > 64)> struct modular_word {
    typedef unsigned long long type;
};
template <int W> struct modular_word<W, true> {
    typedef unsigned __int128 type;
};

// The types normalise_row computes with, as the integer path models them: sum_t unsigned <= 64 bits, av_acc_t and
// norm_prod_t signed <= 127 bits (held in __int128: acc * r with W_av + W_r <= 127 bits is exact), recip_t unsigned
// <= 32 bits. Wider signals (or other types) leave the layer on its ap_fixed code.
template <typename CONFIG_T> struct normalise_fast {
    typedef fixed_traits<typename CONFIG_T::sum_t> SUM;
    typedef fixed_traits<typename CONFIG_T::av_acc_t> AV;
    typedef fixed_traits<typename CONFIG_T::norm_prod_t> NP;
    typedef fixed_traits<typename CONFIG_T::recip_t> RC;
    typedef typename modular_word<AV::W>::type av_word; // AV sums modulo 2^64 or 2^128
    static const bool ok = SUM::W <= 64 && !SUM::S && SUM::W == (int)CONFIG_T::sum_width && AV::W <= 127 && AV::S &&
                           NP::W <= 127 && NP::S && AV::W + RC::W <= 127 && RC::W <= 32 && !RC::S &&
                           CONFIG_T::recip_index_bits <= CONFIG_T::sum_width && CONFIG_T::recip_index_bits < 32 &&
                           CONFIG_T::value_frac + CONFIG_T::recip_frac > CONFIG_T::context_frac;
};

// normalise_row on integers (had_fast / fp_fast check normalise_fast::ok): s = the sum_t bits, av = the av_acc_t
// mantissas (sign-extended into __int128); ctx = the context_t mantissas (context_t signed, context_width bits wide).
template <typename CONFIG_T>
void fast_normalise_row(unsigned long long s, const wide_int av[CONFIG_T::head_dim],
                        const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits],
                        long long ctx[CONFIG_T::head_dim]) {
    const int R = CONFIG_T::recip_index_bits;
    const int W_CTX = CONFIG_T::context_width;
    typedef typename normalise_fast<CONFIG_T>::NP NP;
    const long long ctx_max = (1LL << (W_CTX - 1)) - 1, ctx_min = -(1LL << (W_CTX - 1));
    if (s == 0) {
        for (unsigned c = 0; c < CONFIG_T::head_dim; c++) ctx[c] = 0;
        return;
    }
    const int p = 63 - __builtin_clzll(s);
    const unsigned long long idx = (p >= R ? s >> (p - R) : s << (R - p)) & ((1ULL << R) - 1);
    const wide_int r = (wide_int)fixed_mantissa(recip_table[idx]);
    const unsigned shift = CONFIG_T::value_frac + CONFIG_T::recip_frac + p - CONFIG_T::context_frac;
    // norm_prod_t(1) << (shift - 1): same width, 0 once the one is shifted out
    const wide_int half = shift - 1 >= (unsigned)NP::W ? 0 : shl_wide(1, shift - 1);
    for (unsigned c = 0; c < CONFIG_T::head_dim; c++) {
        wide_int prod = wrap_bits<NP::W, NP::S>(av[c] * r); // |av r| < 2^(W_av + W_r - 1) <= 2^126: exact
        prod = wrap_bits<NP::W, NP::S>(prod + half);
        prod = shift >= (unsigned)NP::W ? (prod < 0 ? -1 : 0) : shr_floor(prod, shift); // ap_int >>: sign fill past W
        ctx[c] = prod > ctx_max ? ctx_max : (prod < ctx_min ? ctx_min : (long long)prod);
    }
}
#endif

} // namespace nnet

#endif
