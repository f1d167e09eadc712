// had-hls: gelu_lut, GELU by a table over [-2^RB, 2^RB); identity above, 0 below; `lanes` table reads a cycle.
// Part of the HAD encoder's non-attention layers (nnet_had_encoder.h lists them); an io_stream form
// (`<name>_stream`, one token per stream word) and an io_parallel form (arrays).
#ifndef NNET_GELU_LUT_H_
#define NNET_GELU_LUT_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"
#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"

namespace nnet {

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
    HAD_CSIM_FAST((gelu_fast<in_t, out_t, CONFIG_T>::ok),
                  (fast_gelu_lut_stream<data_T, res_T, CONFIG_T>(data, res, table)))
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

} // namespace nnet

#endif
