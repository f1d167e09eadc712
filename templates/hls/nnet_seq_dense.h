// had-hls: token_embed (Linear over each patch/token + positional table, + CLS row) and dense_seq (the same
// Linear on every token), with hls4ml's ReuseFactor / Strategy (dense_token_step).
// Part of the HAD encoder's non-attention layers (nnet_had_encoder.h lists them); an io_stream form
// (`<name>_stream`, one token per stream word) and an io_parallel form (arrays).
#ifndef NNET_SEQ_DENSE_H_
#define NNET_SEQ_DENSE_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"
#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"

namespace nnet {

#ifndef __SYNTHESIS__
// ---- C-simulation speed-up (g++ only): integer versions of the layers below, bit for bit (nnet_attention_common.h)
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
    #pragma HLS INLINE
    const unsigned NI = CONFIG_T::n_in, NO = CONFIG_T::n_out;
DenseBiasRow:
    for (unsigned o = 0; o < FIRST * NO; o++) { // the CLS row
        #pragma HLS UNROLL
        res[o] = bias[o];
    }
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

} // namespace nnet

#endif
