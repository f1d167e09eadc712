// had-hls: the non-attention layers of a HAD encoder on [seq, feature] data (io_parallel), for whole-model projects.
//   token_embed     Linear over each patch/token vector + positional table (+ CLS row): (L_in, K) -> (L, E)
//   layernorm_seq   LayerNorm over the feature axis of every token, 1/sqrt by a (mantissa, parity) table
//   gelu_lut        GELU by a table over [-2^RB, 2^RB); identity above, 0 below
//   token_pool      mean over tokens, or the CLS token: (L, E) -> (E)
// The Python side (table contents, types) is had_hls/hls/encoder_layers.py. hls4ml 1.3.0's own LayerNormalization
// indexes its 1/sqrt table linearly over var in [0, 2^-table_range_power2] <= [0, 1] and clamps above: a residual
// stream with var > 1 (every ViT here) gets a wrong scale; its PyTorch front end has no GELU and no mean over tokens.
#ifndef NNET_HAD_ENCODER_H_
#define NNET_HAD_ENCODER_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "nnet_attention_common.h"

namespace nnet {

// ------------------------------------------------------------------------------------------------ token embedding
struct token_embed_config {
    static const unsigned seq_in = 4;   // patches/tokens in
    static const unsigned seq_len = 4;  // tokens out (seq_in + 1 with a CLS row first)
    static const unsigned n_in = 16;
    static const unsigned n_out = 16;
    static const bool cls = false;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<40, 16> accum_t;
};

// res[l][o] = bias2d[l][o] + sum_i x[l'][i] w[o][i]  (l' = l - cls; the CLS row is bias2d[0] = cls + pos[0]).
// bias2d folds the Linear bias and the positional table; w is (out, in) row-major as torch stores it.
template <class data_T, class res_T, typename CONFIG_T>
void token_embed(const data_T data[CONFIG_T::seq_in * CONFIG_T::n_in], res_T res[CONFIG_T::seq_len * CONFIG_T::n_out],
                 const typename CONFIG_T::weight_t w[CONFIG_T::n_out * CONFIG_T::n_in],
                 const typename CONFIG_T::bias_t bias2d[CONFIG_T::seq_len * CONFIG_T::n_out]) {
    const unsigned first = CONFIG_T::cls ? 1 : 0;
    if (CONFIG_T::cls) {
    ClsRow:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
            #pragma HLS UNROLL
            res[o] = bias2d[o];
        }
    }
EmbedTokens:
    for (unsigned l = first; l < CONFIG_T::seq_len; l++) {
        typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, typename CONFIG_T::accum_t,
                      CONFIG_T::n_in, CONFIG_T::n_out>(&data[(l - first) * CONFIG_T::n_in], w,
                                                       &bias2d[l * CONFIG_T::n_out], acc);
    EmbedStore:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
            #pragma HLS UNROLL
            res[l * CONFIG_T::n_out + o] = acc[o];
        }
    }
}

// ------------------------------------------------------------------------------------------------ dense per token
struct dense_seq_config {
    static const unsigned seq_len = 4;
    static const unsigned n_in = 16;
    static const unsigned n_out = 16;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<40, 16> accum_t;
};

// res[l][o] = b[o] + sum_i x[l][i] w[o][i]: the same Linear on every token (w (out, in) row-major).
template <class data_T, class res_T, typename CONFIG_T>
void dense_seq(const data_T data[CONFIG_T::seq_len * CONFIG_T::n_in], res_T res[CONFIG_T::seq_len * CONFIG_T::n_out],
               const typename CONFIG_T::weight_t w[CONFIG_T::n_out * CONFIG_T::n_in],
               const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
DenseTokens:
    for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
        typename CONFIG_T::accum_t acc[CONFIG_T::n_out];
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, typename CONFIG_T::accum_t,
                      CONFIG_T::n_in, CONFIG_T::n_out>(&data[l * CONFIG_T::n_in], w, b, acc);
    DenseStore:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
            #pragma HLS UNROLL
            res[l * CONFIG_T::n_out + o] = acc[o];
        }
    }
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

// y = (x - mean) * rsqrt(var + eps) * gamma + beta per token. var + eps = m 2^(2k), m in [1, 4) (parity bit = m >= 2),
// rsqrt = table[parity][R bits below the leading one] * 2^-k, table[p][j] = 1/sqrt(2^p (1 + (j + 1/2) 2^-R)).
template <class data_T, class res_T, typename CONFIG_T>
void layernorm_seq(const data_T data[CONFIG_T::seq_len * CONFIG_T::n_in], res_T res[CONFIG_T::seq_len * CONFIG_T::n_in],
                   const typename CONFIG_T::scale_t scale[CONFIG_T::n_in],
                   const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],
                   const typename CONFIG_T::var_t epsilon[1],
                   const typename CONFIG_T::table_t rsqrt_table[2 << CONFIG_T::table_bits]) {
    const unsigned N = CONFIG_T::n_in;
    const int R = CONFIG_T::table_bits;
    const int VW = CONFIG_T::var_width;
    const typename CONFIG_T::inv_n_t inv_n = 1.0 / N;
LayerNormTokens:
    for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
        typename CONFIG_T::accum_t sum = 0;
    LayerNormSum:
        for (unsigned i = 0; i < N; i++) {
            #pragma HLS UNROLL
            sum += data[l * N + i];
        }
        typename CONFIG_T::accum_t mean = sum * inv_n;
        typename CONFIG_T::accum_t diff[N];
        typename CONFIG_T::var_t sq = 0;
    LayerNormVar:
        for (unsigned i = 0; i < N; i++) {
            #pragma HLS UNROLL
            diff[i] = data[l * N + i] - mean;
            sq += diff[i] * diff[i];
        }
        typename CONFIG_T::var_t var = sq * inv_n;
        var += epsilon[0];
        ap_uint<VW> m = var.range(VW - 1, 0);
        if (m == 0) m = 1;
        int p = (int)leading_one<VW>(m);
        int e = p - (int)CONFIG_T::var_frac;  // var in [2^e, 2^(e+1))
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
            res[l * N + i] = n * scale[i] + bias[i];
        }
    }
}

// ------------------------------------------------------------------------------------------------ GELU
struct gelu_lut_config {
    static const unsigned n_in = 16;
    static const unsigned table_bits = 11;  // 2^TB entries over [-2^RB, 2^RB)
    static const int range_bits = 2;        // RB
    typedef ap_fixed<18, 5> table_t;
};

// x in [-2^RB, 2^RB): table[floor((x + 2^RB) 2^(TB - RB - 1))] (GELU at the bin centre); x >= 2^RB: x; below: 0.
template <class data_T, class res_T, typename CONFIG_T>
void gelu_lut(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in],
              const typename CONFIG_T::table_t table[1 << CONFIG_T::table_bits]) {
    const int TB = CONFIG_T::table_bits;
    const int RB = CONFIG_T::range_bits;
    typedef ap_fixed<data_T::width + TB + 2, data_T::iwidth + TB + 2> wide_t;
GeluLoop:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        #pragma HLS UNROLL
        data_T x = data[i];
        if (x >= data_T(1 << RB)) {
            res[i] = x;
        } else if (x < data_T(-(1 << RB))) {
            res[i] = 0;
        } else {
            wide_t t = x;
            t += wide_t(1 << RB);
            t <<= (TB - RB - 1);
            res[i] = table[t.to_uint()];
        }
    }
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

} // namespace nnet

#endif
