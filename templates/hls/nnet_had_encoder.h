// had-hls: the non-attention layers of a HAD encoder on [seq, feature] data, for whole-model projects; each in an
// io_stream form (`<name>_stream`: one token per stream word, the form had-hls convert generates) and an io_parallel
// form (arrays, used by the comparison routes of the whole-model C-sim):
//   token_embed     Linear over each patch/token vector + positional table (+ CLS row): (L_in, K) -> (L, E)
//   dense_seq       the same Linear on every token
//   layernorm_seq   LayerNorm over the feature axis of every token, 1/sqrt by a (mantissa, parity) table
//   gelu_lut        GELU by a table over [-2^RB, 2^RB); identity above, 0 below
//   token_pool      mean over tokens, or the CLS token: (L, E) -> (E)
// The Linear layers take hls4ml's ReuseFactor / Strategy (dense_token_step, nnet_attention_stages.h: n_in*n_out/RF
// multipliers, RF cycles a token, weights cycle-major); GELU reads `lanes` table entries a cycle (a multi-port ROM).
// The Python side: the layers in had_hls/hls/encoder_layers.py, table contents and types in encoder_ir.py.
// hls4ml 1.3.0's own LayerNormalization indexes its 1/sqrt table linearly over var in [0, 2^-table_range_power2]
// <= [0, 1] and clamps above: a residual stream with var > 1 (every ViT here) gets a wrong scale; its PyTorch front
// end has no GELU and no mean over tokens.
#ifndef NNET_HAD_ENCODER_H_
#define NNET_HAD_ENCODER_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"
#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"

namespace nnet {

#ifndef __SYNTHESIS__
// ---- C-simulation speed-up (g++ only): integer versions of the layers below, bit for bit (nnet_attention_common.h)
template <int A, int B> struct int_max {
    static const int value = A > B ? A : B;
};

template <class data_T, class res_T, typename CONFIG_T> struct dense_fast {
    static const bool ok = project_fast<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t,
                                        typename CONFIG_T::accum_t, CONFIG_T::n_in>::ok &&
                           fixed_traits<typename CONFIG_T::bias_t>::ok && fixed_traits<res_T>::convertible;
};

// Linear over TOKENS tokens: res[l][o] = res_T(acc_T(bias row l + sum_i x[l][i] w[o][i])); bias row l at
// bias + l * bias_stride.
template <class data_T, class res_T, typename CONFIG_T, unsigned TOKENS>
bool fast_dense_tokens(const data_T *data, res_T *res, const typename CONFIG_T::weight_t *w_cycle_major,
                       const typename CONFIG_T::bias_t *bias, unsigned bias_stride) {
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::bias_t bias_t;
    const unsigned NI = CONFIG_T::n_in, NO = CONFIG_T::n_out;
    if (!dense_fast<data_T, res_T, CONFIG_T>::ok) return false;
    const weight_t *w = row_major_weights<CONFIG_T>(w_cycle_major);
    static double xm[TOKENS * NI];
    static long long acc[TOKENS * NO];
    for (unsigned k = 0; k < TOKENS * NI; k++) xm[k] = (double)fixed_mantissa(data[k]);
    fast_project_rows<data_T, weight_t, bias_t, accum_t, NI, NO>(xm, TOKENS, w, bias, bias_stride, acc);
    for (unsigned k = 0; k < TOKENS * NO; k++) fixed_assign_exact(res[k], acc[k], fixed_traits<accum_t>::F);
    return true;
}
#endif

// ------------------------------------------------------------------------------------------------ Linear per token
// token_embed and dense_seq are one Linear over a sequence, written once here (dense_rows*): FIRST bias-only rows
// (the CLS row: bias[0..n_out)), then TOKENS rows res[FIRST + l][o] = acc_T(bias[(FIRST + l) * STRIDE + o]
// + sum_i x[l][i] w[o][i]) converted to res_T. STRIDE = n_out: a bias row per token (token_embed's bias2d, the
// Linear bias folded with the positional table); STRIDE = 0: one bias for every token (dense_seq). w is
// cycle-major (dense_token_step), accumulation in CONFIG_T::accum_t.
#ifndef __SYNTHESIS__
template <class data_T, class res_T, typename CONFIG_T, unsigned TOKENS, unsigned FIRST, unsigned STRIDE>
bool fast_dense_rows(const data_T *data, res_T *res, const typename CONFIG_T::weight_t *w,
                     const typename CONFIG_T::bias_t *bias) {
    const unsigned NO = CONFIG_T::n_out;
    if (!fast_dense_tokens<data_T, res_T, CONFIG_T, TOKENS>(data, &res[FIRST * NO], w, &bias[FIRST * STRIDE], STRIDE))
        return false;
    for (unsigned o = 0; o < FIRST * NO; o++) // the CLS row
        fixed_assign_exact(res[o], fixed_mantissa(bias[o]), fixed_traits<typename CONFIG_T::bias_t>::F);
    return true;
}

template <class data_T, class res_T, typename CONFIG_T, unsigned TOKENS, unsigned FIRST, unsigned STRIDE>
bool fast_dense_rows_stream(hls::stream<data_T> &data, hls::stream<res_T> &res, const typename CONFIG_T::weight_t *w,
                            const typename CONFIG_T::bias_t *bias) {
    static typename data_T::value_type xa[TOKENS * CONFIG_T::n_in];
    static typename res_T::value_type ya[(FIRST + TOKENS) * CONFIG_T::n_out];
    csim_stream_to_array<data_T, TOKENS, CONFIG_T::n_in>(data, xa);
    const bool ok = fast_dense_rows<typename data_T::value_type, typename res_T::value_type, CONFIG_T, TOKENS, FIRST,
                                    STRIDE>(xa, ya, w, bias);
    csim_array_to_stream<res_T, FIRST + TOKENS, CONFIG_T::n_out>(ya, res);
    return ok;
}
#endif

// io_stream: a token word in every `cycles` steps (II = CONFIG_T::ii), a row out after its last step. The caller
// holds the interface pragmas of w and bias (the layer's arguments); inlined into it.
template <class data_T, class res_T, typename CONFIG_T, unsigned TOKENS, unsigned FIRST, unsigned STRIDE>
void dense_rows_stream(hls::stream<data_T> &data, hls::stream<res_T> &res,
                       const typename CONFIG_T::weight_t w[CONFIG_T::cycles * CONFIG_T::block],
                       const typename CONFIG_T::bias_t *bias) {
    #pragma HLS INLINE
    typedef typename data_T::value_type in_t;
    const unsigned NI = CONFIG_T::n_in, NO = CONFIG_T::n_out, STEPS = CONFIG_T::cycles;
    if (FIRST) write_token<res_T, NO>(res, bias); // the CLS row
    in_t tok[NI];
    #pragma HLS ARRAY_PARTITION variable=tok complete
    typename CONFIG_T::accum_t acc[NO];
    #pragma HLS ARRAY_PARTITION variable=acc complete
    unsigned l = FIRST, s = 0;
DenseTokens:
    for (unsigned c = 0; c < TOKENS * STEPS; c++) {
        #pragma HLS PIPELINE II=CONFIG_T::ii
        if (s == 0) read_token<data_T, NI>(data, tok);
        dense_token_step<in_t, typename CONFIG_T::accum_t, CONFIG_T>(s, tok, acc, w, &bias[l * STRIDE]);
        if (s == STEPS - 1) {
            write_token<res_T, NO>(res, acc);
            l++;
            s = 0;
        } else {
            s++;
        }
    }
}

// io_parallel: the same rows from arrays.
template <class data_T, class res_T, typename CONFIG_T, unsigned TOKENS, unsigned FIRST, unsigned STRIDE>
void dense_rows(const data_T *data, res_T *res, const typename CONFIG_T::weight_t w[CONFIG_T::cycles * CONFIG_T::block],
                const typename CONFIG_T::bias_t *bias) {
    const unsigned NI = CONFIG_T::n_in, NO = CONFIG_T::n_out;
    for (unsigned o = 0; o < FIRST * NO; o++) res[o] = bias[o]; // the CLS row
DenseTokens:
    for (unsigned l = FIRST; l < FIRST + TOKENS; l++) {
        typename CONFIG_T::accum_t acc[NO];
        for (unsigned s = 0; s < CONFIG_T::cycles; s++)
            dense_token_step<data_T, typename CONFIG_T::accum_t, CONFIG_T>(s, &data[(l - FIRST) * NI], acc, w,
                                                                          &bias[l * STRIDE]);
        for (unsigned o = 0; o < NO; o++) res[l * NO + o] = acc[o];
    }
}

// ------------------------------------------------------------------------------------------------ token embedding
// res[l][o] = bias2d[l][o] + sum_i x[l'][i] w[o][i]  (l' = l - cls; the CLS row is bias2d[0] = cls + pos[0]).
// bias2d folds the Linear bias and the positional table; w is cycle-major (dense_token_step).
struct token_embed_config : dense_token_config {
    static const unsigned seq_in = 4;  // patches/tokens in
    static const unsigned seq_len = 4; // tokens out (seq_in + 1 with a CLS row first)
    static const bool cls = false;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<40, 16> accum_t;
};

template <class data_T, class res_T, typename CONFIG_T>
void token_embed_stream(hls::stream<data_T> &data, hls::stream<res_T> &res,
                        const typename CONFIG_T::weight_t w[CONFIG_T::cycles * CONFIG_T::block],
                        const typename CONFIG_T::bias_t bias2d[CONFIG_T::seq_len * CONFIG_T::n_out]) {
    const unsigned TOKENS = CONFIG_T::seq_in, FIRST = CONFIG_T::cls ? 1 : 0, STRIDE = CONFIG_T::n_out;
    HAD_CSIM_FAST((dense_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::ok),
                  (fast_dense_rows_stream<data_T, res_T, CONFIG_T, TOKENS, FIRST, STRIDE>(data, res, w, bias2d)))
    const unsigned WB = CONFIG_T::block;
    #pragma HLS ARRAY_RESHAPE variable=w cyclic factor=WB
    #pragma HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit
    dense_rows_stream<data_T, res_T, CONFIG_T, TOKENS, FIRST, STRIDE>(data, res, w, bias2d);
    HAD_CSIM_FAST_END
}

template <class data_T, class res_T, typename CONFIG_T>
void token_embed(const data_T data[CONFIG_T::seq_in * CONFIG_T::n_in], res_T res[CONFIG_T::seq_len * CONFIG_T::n_out],
                 const typename CONFIG_T::weight_t w[CONFIG_T::cycles * CONFIG_T::block],
                 const typename CONFIG_T::bias_t bias2d[CONFIG_T::seq_len * CONFIG_T::n_out]) {
    const unsigned TOKENS = CONFIG_T::seq_in, FIRST = CONFIG_T::cls ? 1 : 0, STRIDE = CONFIG_T::n_out;
    HAD_CSIM_FAST((dense_fast<data_T, res_T, CONFIG_T>::ok),
                  (fast_dense_rows<data_T, res_T, CONFIG_T, TOKENS, FIRST, STRIDE>(data, res, w, bias2d)))
    dense_rows<data_T, res_T, CONFIG_T, TOKENS, FIRST, STRIDE>(data, res, w, bias2d);
    HAD_CSIM_FAST_END
}

// ------------------------------------------------------------------------------------------------ dense per token
// res[l][o] = b[o] + sum_i x[l][i] w[o][i]: the same Linear on every token (w cycle-major, dense_token_step).
struct dense_seq_config : dense_token_config {
    static const unsigned seq_len = 4;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<40, 16> accum_t;
};

template <class data_T, class res_T, typename CONFIG_T>
void dense_seq_stream(hls::stream<data_T> &data, hls::stream<res_T> &res,
                      const typename CONFIG_T::weight_t w[CONFIG_T::cycles * CONFIG_T::block],
                      const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
    HAD_CSIM_FAST((dense_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::ok),
                  (fast_dense_rows_stream<data_T, res_T, CONFIG_T, CONFIG_T::seq_len, 0, 0>(data, res, w, b)))
    const unsigned WB = CONFIG_T::block;
    #pragma HLS ARRAY_RESHAPE variable=w cyclic factor=WB
    #pragma HLS ARRAY_PARTITION variable=b complete
    #pragma HLS ALLOCATION operation instances=mul limit=CONFIG_T::multiplier_limit
    dense_rows_stream<data_T, res_T, CONFIG_T, CONFIG_T::seq_len, 0, 0>(data, res, w, b);
    HAD_CSIM_FAST_END
}

template <class data_T, class res_T, typename CONFIG_T>
void dense_seq(const data_T data[CONFIG_T::seq_len * CONFIG_T::n_in], res_T res[CONFIG_T::seq_len * CONFIG_T::n_out],
               const typename CONFIG_T::weight_t w[CONFIG_T::cycles * CONFIG_T::block],
               const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
    HAD_CSIM_FAST((dense_fast<data_T, res_T, CONFIG_T>::ok),
                  (fast_dense_rows<data_T, res_T, CONFIG_T, CONFIG_T::seq_len, 0, 0>(data, res, w, b)))
    dense_rows<data_T, res_T, CONFIG_T, CONFIG_T::seq_len, 0, 0>(data, res, w, b);
    HAD_CSIM_FAST_END
}

// ------------------------------------------------------------------------------------------------ layer norm
struct layernorm_seq_config {
    static const unsigned seq_len = 4;
    static const unsigned n_in = 16;
    static const unsigned table_bits = 10;  // R: mantissa bits that index the 1/sqrt table (2 * 2^R entries)
    static const unsigned var_width = 48;
    static const unsigned var_frac = 30;
    typedef ap_fixed<40, 16> accum_t;      // sum, mean, x - mean
    typedef ap_ufixed<48, 18> var_t;       // variance + epsilon
    typedef ap_ufixed<24, 1> inv_n_t;      // 1 / n_in
    typedef ap_ufixed<18, 1> table_t;      // 1/sqrt(m), m in [1, 4)
    typedef ap_ufixed<32, 10> inv_std_t;   // 1/sqrt(var + eps)
    typedef ap_fixed<40, 16> norm_t;       // (x - mean) / std
    typedef ap_fixed<16, 4> scale_t;
    typedef ap_fixed<16, 6> bias_t;
};

#ifndef __SYNTHESIS__
template <class data_T, class res_T, typename CONFIG_T> struct layernorm_fast {
    typedef fixed_traits<data_T> X;
    typedef fixed_traits<res_T> RS;
    typedef fixed_traits<typename CONFIG_T::accum_t> A;
    typedef fixed_traits<typename CONFIG_T::var_t> V;
    typedef fixed_traits<typename CONFIG_T::inv_n_t> IN;
    typedef fixed_traits<typename CONFIG_T::table_t> T;
    typedef fixed_traits<typename CONFIG_T::inv_std_t> IS;
    typedef fixed_traits<typename CONFIG_T::norm_t> NT;
    typedef fixed_traits<typename CONFIG_T::scale_t> SC;
    typedef fixed_traits<typename CONFIG_T::bias_t> B;
    static const int F_SUM = int_max<X::F, A::F>::value;       // sum + x, x - mean: exact at this many bits
    static const int F_SQ = int_max<V::F, 2 * A::F>::value;    // sq + diff^2
    static const int F_RES = int_max<NT::F + SC::F, B::F>::value; // n * scale + bias
    static const int MAXW = 120;                               // exact intermediates stay below 2^MAXW
    static const bool ok = HAD_HLS_FAST_CSIM && X::ok && RS::convertible && A::convertible && V::convertible && IN::ok && T::ok &&
                           IS::convertible && NT::convertible && SC::ok && B::ok && V::W == (int)CONFIG_T::var_width &&
                           CONFIG_T::var_width <= 64 && (int)CONFIG_T::table_bits < (int)CONFIG_T::var_width &&
                           X::W + F_SUM - X::F + 1 <= MAXW && A::W + F_SUM - A::F + 1 <= MAXW &&
                           A::W + IN::W <= MAXW && 2 * A::W + F_SQ - 2 * A::F + 1 <= MAXW &&
                           V::W + F_SQ - V::F + 1 <= MAXW && V::W + IN::W <= MAXW && A::W + IS::W <= MAXW &&
                           NT::W + SC::W + F_RES - NT::F - SC::F + 1 <= MAXW && B::W + F_RES - B::F + 1 <= MAXW &&
                           A::F + IN::F >= 0 && V::F + IN::F >= 0;
};

template <class data_T, class res_T, typename CONFIG_T>
bool fast_layernorm_seq(const data_T data[CONFIG_T::seq_len * CONFIG_T::n_in], res_T res[CONFIG_T::seq_len * CONFIG_T::n_in],
                        const typename CONFIG_T::scale_t scale[CONFIG_T::n_in],
                        const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],
                        const typename CONFIG_T::var_t epsilon[1],
                        const typename CONFIG_T::table_t rsqrt_table[2 << CONFIG_T::table_bits]) {
    typedef layernorm_fast<data_T, res_T, CONFIG_T> LF;
    typedef typename LF::A A;
    typedef typename LF::V V;
    typedef typename LF::IS IS;
    typedef typename LF::NT NT;
    if (!LF::ok) return false;
    const unsigned N = CONFIG_T::n_in;
    const int R = CONFIG_T::table_bits;
    const int VW = CONFIG_T::var_width;
    const typename CONFIG_T::inv_n_t inv_n_fixed = 1.0 / N;
    const wide_int inv_n = fixed_mantissa(inv_n_fixed);
    const wide_int eps = fixed_mantissa(epsilon[0]);
    wide_int sc[N], bi[N];
    for (unsigned i = 0; i < N; i++) {
        sc[i] = fixed_mantissa(scale[i]);
        bi[i] = shl_wide(fixed_mantissa(bias[i]), LF::F_RES - LF::B::F);
    }
    wide_int diff[N];
    for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
        const data_T *x = &data[l * N];
        wide_int sum = 0;
        for (unsigned i = 0; i < N; i++) {
            const wide_int xi = shl_wide(fixed_mantissa(x[i]), LF::F_SUM - LF::X::F);
            sum = fixed_quantize<typename CONFIG_T::accum_t>(shl_wide(sum, LF::F_SUM - A::F) + xi, LF::F_SUM);
        }
        const wide_int mean = fixed_quantize<typename CONFIG_T::accum_t>(sum * inv_n, A::F + LF::IN::F);
        wide_int sq = 0;
        for (unsigned i = 0; i < N; i++) {
            const wide_int xi = shl_wide(fixed_mantissa(x[i]), LF::F_SUM - LF::X::F);
            diff[i] = fixed_quantize<typename CONFIG_T::accum_t>(xi - shl_wide(mean, LF::F_SUM - A::F), LF::F_SUM);
            const wide_int d2 = shl_wide(diff[i] * diff[i], LF::F_SQ - 2 * A::F);
            sq = fixed_quantize<typename CONFIG_T::var_t>(shl_wide(sq, LF::F_SQ - V::F) + d2, LF::F_SQ);
        }
        wide_int var = fixed_quantize<typename CONFIG_T::var_t>(sq * inv_n, V::F + LF::IN::F);
        var = fixed_quantize<typename CONFIG_T::var_t>(var + eps, V::F);
        unsigned long long m = (unsigned long long)var & (VW >= 64 ? ~0ULL : ((1ULL << (VW & 63)) - 1));
        if (m == 0) m = 1;
        const int p = 63 - __builtin_clzll(m);
        const int e = p - (int)CONFIG_T::var_frac;
        const int k = e >= 0 ? e / 2 : -((1 - e) / 2);
        const unsigned parity = (unsigned)(e - 2 * k);
        const unsigned long long idx = (p >= R ? m >> (p - R) : m << (R - p)) & ((1ULL << R) - 1);
        wide_int inv_std = fixed_quantize<typename CONFIG_T::inv_std_t>(
            fixed_mantissa(rsqrt_table[(parity << R) | idx]), LF::T::F);
        if (k > 0) {
            inv_std = k >= IS::W ? (inv_std < 0 ? -1 : 0) : (inv_std >> k); // raw shift, as ap_fixed >>=
        } else if (k < 0) {
            inv_std = -k >= IS::W ? 0 : wrap_bits<IS::W, IS::S>(shl_wide(inv_std, -k));
        }
        for (unsigned i = 0; i < N; i++) {
            const wide_int n = fixed_quantize<typename CONFIG_T::norm_t>(diff[i] * inv_std, A::F + IS::F);
            const wide_int y = shl_wide(n * sc[i], LF::F_RES - NT::F - LF::SC::F) + bi[i];
            fixed_assign_exact(res[l * N + i], y, LF::F_RES);
        }
    }
    return true;
}
#endif

// y = (x - mean) * rsqrt(var + eps) * gamma + beta of one token. var + eps = m 2^(2k), m in [1, 4) (parity bit =
// m >= 2), rsqrt = table[parity][R bits below the leading one] * 2^-k, table[p][j] = 1/sqrt(2^p (1 + (j + 1/2) 2^-R)).
template <class data_T, class res_T, typename CONFIG_T>
void layernorm_token(const data_T x[CONFIG_T::n_in], res_T y[CONFIG_T::n_in],
                     const typename CONFIG_T::scale_t scale[CONFIG_T::n_in],
                     const typename CONFIG_T::bias_t bias[CONFIG_T::n_in], const typename CONFIG_T::var_t epsilon[1],
                     const typename CONFIG_T::table_t rsqrt_table[2 << CONFIG_T::table_bits]) {
    #pragma HLS INLINE
    const unsigned N = CONFIG_T::n_in;
    const int R = CONFIG_T::table_bits;
    const int VW = CONFIG_T::var_width;
    const typename CONFIG_T::inv_n_t inv_n = 1.0 / N;
    typename CONFIG_T::accum_t sum = 0;
LayerNormSum:
    for (unsigned i = 0; i < N; i++) {
        #pragma HLS UNROLL
        sum += x[i];
    }
    typename CONFIG_T::accum_t mean = sum * inv_n;
    typename CONFIG_T::accum_t diff[N];
    #pragma HLS ARRAY_PARTITION variable=diff complete
    typename CONFIG_T::var_t sq = 0;
LayerNormVar:
    for (unsigned i = 0; i < N; i++) {
        #pragma HLS UNROLL
        diff[i] = x[i] - mean;
        sq += diff[i] * diff[i];
    }
    typename CONFIG_T::var_t var = sq * inv_n;
    var += epsilon[0];
    ap_uint<VW> m = var.range(VW - 1, 0);
    if (m == 0) m = 1;
    int p = (int)leading_one<VW>(m);
    int e = p - (int)CONFIG_T::var_frac; // var in [2^e, 2^(e+1))
    int k = e >= 0 ? e / 2 : -((1 - e) / 2);
    unsigned parity = (unsigned)(e - 2 * k);
    ap_uint<R> idx;
    if (p >= R) {
        idx = (m >> (p - R)).range(R - 1, 0);
    } else {
        idx = (m << (R - p)).range(R - 1, 0);
    }
    typename CONFIG_T::inv_std_t inv_std = rsqrt_table[(parity << R) | idx];
    if (k > 0) {
        inv_std >>= k;
    } else {
        inv_std <<= -k;
    }
LayerNormOut:
    for (unsigned i = 0; i < N; i++) {
        #pragma HLS UNROLL
        typename CONFIG_T::norm_t n = diff[i] * inv_std;
        y[i] = n * scale[i] + bias[i];
    }
}

// Every token of (L, E) (io_parallel form).
template <class data_T, class res_T, typename CONFIG_T>
void layernorm_seq(const data_T data[CONFIG_T::seq_len * CONFIG_T::n_in], res_T res[CONFIG_T::seq_len * CONFIG_T::n_in],
                   const typename CONFIG_T::scale_t scale[CONFIG_T::n_in],
                   const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],
                   const typename CONFIG_T::var_t epsilon[1],
                   const typename CONFIG_T::table_t rsqrt_table[2 << CONFIG_T::table_bits]) {
    HAD_CSIM_FAST((layernorm_fast<data_T, res_T, CONFIG_T>::ok),
                  (fast_layernorm_seq<data_T, res_T, CONFIG_T>(data, res, scale, bias, epsilon, rsqrt_table)))
LayerNormTokens:
    for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
        layernorm_token<data_T, res_T, CONFIG_T>(&data[l * CONFIG_T::n_in], &res[l * CONFIG_T::n_in], scale, bias,
                                                 epsilon, rsqrt_table);
    }
    HAD_CSIM_FAST_END
}

#ifndef __SYNTHESIS__
template <class data_T, class res_T, typename CONFIG_T>
bool fast_layernorm_seq_stream(hls::stream<data_T> &data, hls::stream<res_T> &res,
                               const typename CONFIG_T::scale_t *scale, const typename CONFIG_T::bias_t *bias,
                               const typename CONFIG_T::var_t *epsilon, const typename CONFIG_T::table_t *rsqrt_table) {
    static typename data_T::value_type xa[CONFIG_T::seq_len * CONFIG_T::n_in];
    static typename res_T::value_type ya[CONFIG_T::seq_len * CONFIG_T::n_in];
    csim_stream_to_array<data_T, CONFIG_T::seq_len, CONFIG_T::n_in>(data, xa);
    const bool ok = fast_layernorm_seq<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(
        xa, ya, scale, bias, epsilon, rsqrt_table);
    csim_array_to_stream<res_T, CONFIG_T::seq_len, CONFIG_T::n_in>(ya, res);
    return ok;
}
#endif

// One token a cycle (II = 1; E-wide sums, E multipliers for the squares and E for the output).
template <class data_T, class res_T, typename CONFIG_T>
void layernorm_seq_stream(hls::stream<data_T> &data, hls::stream<res_T> &res,
                          const typename CONFIG_T::scale_t scale[CONFIG_T::n_in],
                          const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],
                          const typename CONFIG_T::var_t epsilon[1],
                          const typename CONFIG_T::table_t rsqrt_table[2 << CONFIG_T::table_bits]) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    const unsigned N = CONFIG_T::n_in;
    HAD_CSIM_FAST((layernorm_fast<in_t, out_t, CONFIG_T>::ok),
                  (fast_layernorm_seq_stream<data_T, res_T, CONFIG_T>(data, res, scale, bias, epsilon, rsqrt_table)))
    #pragma HLS ARRAY_PARTITION variable=scale complete
    #pragma HLS ARRAY_PARTITION variable=bias complete
LayerNormTokens:
    for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
        #pragma HLS PIPELINE II=1
        in_t x[N];
        out_t y[N];
        #pragma HLS ARRAY_PARTITION variable=x complete
        #pragma HLS ARRAY_PARTITION variable=y complete
        read_token<data_T, N>(data, x);
        layernorm_token<in_t, out_t, CONFIG_T>(x, y, scale, bias, epsilon, rsqrt_table);
        write_token<res_T, N>(res, y);
    }
    HAD_CSIM_FAST_END
}

// ------------------------------------------------------------------------------------------------ GELU
struct gelu_lut_config {
    static const unsigned n_in = 16;        // elements of the whole tensor (io_parallel form)
    static const unsigned n_token = 16;     // elements of one token (io_stream form: one stream word)
    static const unsigned n_tokens = 1;     // tokens (stream words)
    static const unsigned lanes = 16;       // elements a cycle in the io_stream form (table reads a cycle)
    static const unsigned cycles = 1;       // ceil(n_token / lanes) cycles a token
    static const unsigned table_bits = 11;  // 2^TB entries over [-2^RB, 2^RB)
    static const int range_bits = 2;        // RB
    typedef ap_fixed<18, 5> table_t;
};

#ifndef __SYNTHESIS__
template <class data_T, class res_T, typename CONFIG_T> struct gelu_fast {
    typedef fixed_traits<data_T> X;
    static const bool ok = HAD_HLS_FAST_CSIM && X::ok && X::S && X::F >= 0 && X::I > CONFIG_T::range_bits + 1 &&
                           X::W + CONFIG_T::table_bits + 2 <= 62 && fixed_traits<typename CONFIG_T::table_t>::ok &&
                           fixed_traits<res_T>::convertible;
};

template <class data_T, class res_T, typename CONFIG_T>
bool fast_gelu_lut(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
                   const typename CONFIG_T::table_t table[1 << CONFIG_T::table_bits]) {
    typedef fixed_traits<data_T> X;
    typedef fixed_traits<typename CONFIG_T::table_t> T;
    if (!gelu_fast<data_T, res_T, CONFIG_T>::ok) return false;
    const int TB = CONFIG_T::table_bits;
    const int RB = CONFIG_T::range_bits;
    const long long hi = fixed_mantissa(data_T(1 << RB)), lo = fixed_mantissa(data_T(-(1 << RB)));
    const long long offset = (1LL << RB) << X::F; // wide_t(2^RB): exact in the wide type
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        const long long x = fixed_mantissa(data[i]);
        if (x >= hi) {
            fixed_assign_exact(res[i], x, X::F);
        } else if (x < lo) {
            fixed_assign_exact(res[i], 0, 0);
        } else {
            // t = (x + 2^RB) << (TB - RB - 1) in wide_t (same fractional bits, TB + 2 more integer bits); t >= 0
            const unsigned long long t = (unsigned long long)(x + offset) << (TB - RB - 1);
            fixed_assign_exact(res[i], fixed_mantissa(table[t >> X::F]), T::F);
        }
    }
    return true;
}
#endif

// x in [-2^RB, 2^RB): table[floor((x + 2^RB) 2^(TB - RB - 1))] (GELU at the bin centre); x >= 2^RB: x; below: 0.
template <class data_T, class res_T, typename CONFIG_T>
res_T gelu_element(const data_T x, const typename CONFIG_T::table_t table[1 << CONFIG_T::table_bits]) {
    #pragma HLS INLINE
    const int TB = CONFIG_T::table_bits;
    const int RB = CONFIG_T::range_bits;
    typedef ap_fixed<data_T::width + TB + 2, data_T::iwidth + TB + 2> wide_t;
    res_T y;
    if (x >= data_T(1 << RB)) {
        y = x;
    } else if (x < data_T(-(1 << RB))) {
        y = 0;
    } else {
        wide_t t = x;
        t += wide_t(1 << RB);
        t <<= (TB - RB - 1);
        y = table[t.to_uint()];
    }
    return y;
}

template <class data_T, class res_T, typename CONFIG_T>
void gelu_lut(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
              const typename CONFIG_T::table_t table[1 << CONFIG_T::table_bits]) {
    HAD_CSIM_FAST((gelu_fast<data_T, res_T, CONFIG_T>::ok), (fast_gelu_lut<data_T, res_T, CONFIG_T>(data, res, table)))
GeluLoop:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) res[i] = gelu_element<data_T, res_T, CONFIG_T>(data[i], table);
    HAD_CSIM_FAST_END
}

// One token of the stream form as the array form's config (n_in = the token's elements).
template <typename CONFIG_T> struct gelu_token_config : CONFIG_T {
    static const unsigned n_in = CONFIG_T::n_token;
};

#ifndef __SYNTHESIS__
template <class data_T, class res_T, typename CONFIG_T>
bool fast_gelu_lut_stream(hls::stream<data_T> &data, hls::stream<res_T> &res,
                          const typename CONFIG_T::table_t *table) {
    static typename data_T::value_type xa[CONFIG_T::n_token];
    static typename res_T::value_type ya[CONFIG_T::n_token];
    bool ok = true;
    for (unsigned l = 0; l < CONFIG_T::n_tokens; l++) {
        csim_stream_to_array<data_T, 1, CONFIG_T::n_token>(data, xa);
        ok = fast_gelu_lut<typename data_T::value_type, typename res_T::value_type, gelu_token_config<CONFIG_T> >(
                 xa, ya, table) && ok;
        csim_array_to_stream<res_T, 1, CONFIG_T::n_token>(ya, res);
    }
    return ok;
}
#endif

// A token in `cycles` steps of `lanes` elements (II = 1; `lanes` table reads a cycle from a multi-port ROM).
template <class data_T, class res_T, typename CONFIG_T>
void gelu_lut_stream(hls::stream<data_T> &data, hls::stream<res_T> &res,
                     const typename CONFIG_T::table_t table[1 << CONFIG_T::table_bits]) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    const unsigned N = CONFIG_T::n_token, LANES = CONFIG_T::lanes, STEPS = CONFIG_T::cycles;
    HAD_CSIM_FAST((gelu_fast<in_t, out_t, CONFIG_T>::ok), (fast_gelu_lut_stream<data_T, res_T, CONFIG_T>(data, res, table)))
    #pragma HLS BIND_STORAGE variable=table type=rom_np impl=bram
    data_T in;
    res_T out;
    unsigned s = 0;
GeluTokens:
    for (unsigned c = 0; c < CONFIG_T::n_tokens * STEPS; c++) {
        #pragma HLS PIPELINE II=1
        if (s == 0) in = data.read();
    GeluLanes:
        for (unsigned k = 0; k < LANES; k++) {
            #pragma HLS UNROLL
            const unsigned i = s * LANES + k;
            if (i < N) out[i] = gelu_element<in_t, out_t, CONFIG_T>(in[i], table);
        }
        if (s == STEPS - 1) {
            res.write(out);
            s = 0;
        } else {
            s++;
        }
    }
    HAD_CSIM_FAST_END
}

// ------------------------------------------------------------------------------------------------ token pooling
struct token_pool_config {
    static const unsigned seq_len = 4;
    static const unsigned n_in = 16;
    static const bool cls = false;
    typedef ap_fixed<40, 16> accum_t;
    typedef ap_ufixed<24, 1> inv_n_t;
};

// mean: res[c] = (sum_l x[l][c]) * (1/L);  cls: res[c] = x[0][c].
template <class data_T, class res_T, typename CONFIG_T>
void token_pool(const data_T data[CONFIG_T::seq_len * CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
    const typename CONFIG_T::inv_n_t inv_n = 1.0 / CONFIG_T::seq_len;
PoolFeatures:
    for (unsigned c = 0; c < CONFIG_T::n_in; c++) {
        if (CONFIG_T::cls) {
            res[c] = data[c];
        } else {
            typename CONFIG_T::accum_t acc = 0;
        PoolTokens:
            for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
                #pragma HLS PIPELINE II=1
                acc += data[l * CONFIG_T::n_in + c];
            }
            res[c] = acc * inv_n;
        }
    }
}

// The stream form: L tokens in, one word of E out; the same sums (per feature, tokens in order).
template <class data_T, class res_T, typename CONFIG_T>
void token_pool_stream(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    const unsigned N = CONFIG_T::n_in;
    const typename CONFIG_T::inv_n_t inv_n = 1.0 / CONFIG_T::seq_len;
    typename CONFIG_T::accum_t acc[N];
    #pragma HLS ARRAY_PARTITION variable=acc complete
    res_T out;
PoolTokens:
    for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
        #pragma HLS PIPELINE II=1
        const data_T in = data.read();
    PoolFeatures:
        for (unsigned c = 0; c < N; c++) {
            #pragma HLS UNROLL
            if (CONFIG_T::cls) {
                if (l == 0) out[c] = in[c];
            } else {
                acc[c] = l == 0 ? typename CONFIG_T::accum_t(in[c]) : typename CONFIG_T::accum_t(acc[c] + in[c]);
            }
        }
    }
    if (!CONFIG_T::cls) {
    PoolMean:
        for (unsigned c = 0; c < N; c++) {
            #pragma HLS UNROLL
            out[c] = acc[c] * inv_n;
        }
    }
    res.write(out);
}

} // namespace nnet

#endif
