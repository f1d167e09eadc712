// had-hls: token_pool, the mean over tokens or the CLS token: (L, E) -> (E).
// Part of the HAD encoder's non-attention layers (nnet_had_encoder.h lists them); an io_stream form
// (`<name>_stream`, one token per stream word) and an io_parallel form (arrays).
#ifndef NNET_TOKEN_POOL_H_
#define NNET_TOKEN_POOL_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"
#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"

namespace nnet {

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
