// had-hls: HAD multi-head self-attention, io_parallel (projections, Hamming scores, top-N and sparse softmax-AV
// fused in one layer). Mirrors golden.attention_trace (kind 'had') stage by stage; contract in had_hls/spec.py.
//
// Per token: Q/K projections keep only their sign bits (L x d bits per head: the K memory), V is kept in value_t.
// Per head and query row: Hamming distances to all keys -> counting top-N -> e_j = exp_table[ham_j - ham_min]
// -> S and AV accumulated over the kept keys only -> reciprocal-table normalisation -> context; then Wo.
#ifndef NNET_HAD_ATTENTION_H_
#define NNET_HAD_ATTENTION_H_

#include "nnet_attention_common.h"
#include "nnet_hamming.h"
#include "nnet_topn_select.h"

namespace nnet {

struct had_attention_config {
    static const unsigned seq_len = 8;
    static const unsigned embed_dim = 8;
    static const unsigned num_heads = 1;
    static const unsigned head_dim = 8;
    static const unsigned top_n = 4;
};

template <class data_T, class res_T, typename CONFIG_T>
void had_attention_core(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const bool valid[CONFIG_T::seq_len],
                        res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                        const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                        const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                        const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                        const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],
                        const typename CONFIG_T::weight_t wv[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                        const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim],
                        const typename CONFIG_T::weight_t wo[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                        const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim],
                        const typename CONFIG_T::exp_t exp_table[CONFIG_T::head_dim + 1],
                        const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::ham_t ham_t;

    static ap_uint<D> qbits[L][H], kbits[L][H]; // the K bit memory: L x H x d bits
    static typename CONFIG_T::value_t v[L][E];
    static typename CONFIG_T::context_t ctx[L][E];
    accum_t acc[E];

Tokens:
    for (unsigned t = 0; t < L; t++) {
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(&x[t * E], wq, bq, acc);
        for (unsigned h = 0; h < H; h++) qbits[t][h] = sign_bits<accum_t, D>(&acc[h * D]);
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(&x[t * E], wk, bk, acc);
        for (unsigned h = 0; h < H; h++) kbits[t][h] = sign_bits<accum_t, D>(&acc[h * D]);
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(&x[t * E], wv, bv, acc);
        for (unsigned o = 0; o < E; o++) v[t][o] = acc[o];
    }

Heads:
    for (unsigned h = 0; h < H; h++) {
    Queries:
        for (unsigned i = 0; i < L; i++) {
            ham_t ham[L];
            bool kept[L];
        Scores:
            for (unsigned j = 0; j < L; j++) {
                #pragma HLS PIPELINE II=1
                ham[j] = hamming_distance<D, ham_t>(qbits[i][h], kbits[j][h]);
            }
            topn_select_row<CONFIG_T>(ham, valid, kept);
            ham_t hmin = D;
        MinScore:
            for (unsigned j = 0; j < L; j++) {
                #pragma HLS PIPELINE II=1
                if (kept[j] && ham[j] < hmin) hmin = ham[j];
            }
            typename CONFIG_T::sum_t s = 0;
            typename CONFIG_T::av_acc_t av[D];
            for (unsigned c = 0; c < D; c++) av[c] = 0;
        SparseAV:
            for (unsigned j = 0; j < L; j++) {
                #pragma HLS PIPELINE II=1
                if (!kept[j]) continue;
                typename CONFIG_T::exp_t e = exp_table[ham[j] - hmin];
                s += e;
                for (unsigned c = 0; c < D; c++) av[c] += e * mantissa_of<CONFIG_T::value_width>(v[j][h * D + c]);
            }
            normalise_row<CONFIG_T>(s, av, recip_table, &ctx[i][h * D]);
        }
    }

Output:
    for (unsigned t = 0; t < L; t++) {
        project_token<typename CONFIG_T::context_t, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(
            ctx[t], wo, bo, acc);
        for (unsigned o = 0; o < E; o++) y[t * E + o] = acc[o];
    }
}

// No padding: every key is valid.
template <class data_T, class res_T, typename CONFIG_T>
void had_attention(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                   const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                   const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                   const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                   const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],
                   const typename CONFIG_T::weight_t wv[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                   const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim],
                   const typename CONFIG_T::weight_t wo[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                   const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim],
                   const typename CONFIG_T::exp_t exp_table[CONFIG_T::head_dim + 1],
                   const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = true;
    had_attention_core<data_T, res_T, CONFIG_T>(x, valid, y, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);
}

// Key padding mask as a second input: mask[j] != 0 marks key j as padding (never attended).
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void had_attention_masked(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const mask_T mask[CONFIG_T::seq_len],
                          res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                          const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                          const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                          const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                          const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],
                          const typename CONFIG_T::weight_t wv[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                          const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim],
                          const typename CONFIG_T::weight_t wo[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                          const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim],
                          const typename CONFIG_T::exp_t exp_table[CONFIG_T::head_dim + 1],
                          const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = mask[j] == 0;
    had_attention_core<data_T, res_T, CONFIG_T>(x, valid, y, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);
}

} // namespace nnet

#endif
