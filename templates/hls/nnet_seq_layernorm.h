// had-hls: layernorm_seq, LayerNorm over the feature axis of every token, 1/sqrt by a (mantissa, parity) table.
// Part of the HAD encoder's non-attention layers (nnet_had_encoder.h lists them); an io_stream form
// (`<name>_stream`, one token per stream word) and an io_parallel form (arrays).
#ifndef NNET_SEQ_LAYERNORM_H_
#define NNET_SEQ_LAYERNORM_H_

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

#endif

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

// The layer's parameters, written once for its five functions (as ATTENTION_WEIGHT_PARAMS for attention): gamma,
// beta, epsilon and the 1/sqrt table of 2 * 2^table_bits entries (parity, mantissa).
#define LAYERNORM_TABLE_PARAMS                                                                                         \
    const typename CONFIG_T::scale_t scale[CONFIG_T::n_in], const typename CONFIG_T::bias_t bias[CONFIG_T::n_in],      \
        const typename CONFIG_T::var_t epsilon[1],                                                                     \
        const typename CONFIG_T::table_t rsqrt_table[2 << CONFIG_T::table_bits]
#define LAYERNORM_TABLE_ARGS scale, bias, epsilon, rsqrt_table

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
    static const bool ok = HAD_HLS_FAST_CSIM && X::ok && RS::convertible && A::convertible && V::convertible &&
                           IN::ok && T::ok && IS::convertible && NT::convertible && SC::ok && B::ok &&
                           V::W == (int)CONFIG_T::var_width &&
                           CONFIG_T::var_width <= 64 && (int)CONFIG_T::table_bits < (int)CONFIG_T::var_width &&
                           X::W + F_SUM - X::F + 1 <= MAXW && A::W + F_SUM - A::F + 1 <= MAXW &&
                           A::W + IN::W <= MAXW && 2 * A::W + F_SQ - 2 * A::F + 1 <= MAXW &&
                           V::W + F_SQ - V::F + 1 <= MAXW && V::W + IN::W <= MAXW && A::W + IS::W <= MAXW &&
                           NT::W + SC::W + F_RES - NT::F - SC::F + 1 <= MAXW && B::W + F_RES - B::F + 1 <= MAXW &&
                           A::F + IN::F >= 0 && V::F + IN::F >= 0;
};

template <class data_T, class res_T, typename CONFIG_T>
bool fast_layernorm_seq(const data_T data[CONFIG_T::seq_len * CONFIG_T::n_in],
                        res_T res[CONFIG_T::seq_len * CONFIG_T::n_in], LAYERNORM_TABLE_PARAMS) {
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
void layernorm_token(const data_T x[CONFIG_T::n_in], res_T y[CONFIG_T::n_in], LAYERNORM_TABLE_PARAMS) {
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
                   LAYERNORM_TABLE_PARAMS) {
    HAD_CSIM_FAST((layernorm_fast<data_T, res_T, CONFIG_T>::ok),
                  (fast_layernorm_seq<data_T, res_T, CONFIG_T>(data, res, LAYERNORM_TABLE_ARGS)))
LayerNormTokens:
    for (unsigned l = 0; l < CONFIG_T::seq_len; l++) {
        layernorm_token<data_T, res_T, CONFIG_T>(&data[l * CONFIG_T::n_in], &res[l * CONFIG_T::n_in], scale, bias,
                                                 epsilon, rsqrt_table);
    }
    HAD_CSIM_FAST_END
}

#ifndef __SYNTHESIS__
template <class data_T, class res_T, typename CONFIG_T>
bool fast_layernorm_seq_stream(hls::stream<data_T> &data, hls::stream<res_T> &res, LAYERNORM_TABLE_PARAMS) {
    static typename data_T::value_type xa[CONFIG_T::seq_len * CONFIG_T::n_in];
    static typename res_T::value_type ya[CONFIG_T::seq_len * CONFIG_T::n_in];
    csim_stream_to_array<data_T, CONFIG_T::seq_len, CONFIG_T::n_in>(data, xa);
    const bool ok = fast_layernorm_seq<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(
        xa, ya, LAYERNORM_TABLE_ARGS);
    csim_array_to_stream<res_T, CONFIG_T::seq_len, CONFIG_T::n_in>(ya, res);
    return ok;
}
#endif

// One token a cycle (II = 1; E-wide sums, E multipliers for the squares and E for the output).
template <class data_T, class res_T, typename CONFIG_T>
void layernorm_seq_stream(hls::stream<data_T> &data, hls::stream<res_T> &res, LAYERNORM_TABLE_PARAMS) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    const unsigned N = CONFIG_T::n_in;
    HAD_CSIM_FAST((layernorm_fast<in_t, out_t, CONFIG_T>::ok),
                  (fast_layernorm_seq_stream<data_T, res_T, CONFIG_T>(data, res, LAYERNORM_TABLE_ARGS)))
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
        layernorm_token<in_t, out_t, CONFIG_T>(x, y, LAYERNORM_TABLE_ARGS);
        write_token<res_T, N>(res, y);
    }
    HAD_CSIM_FAST_END
}

} // namespace nnet

#endif
