// had-hls: the FP attention baseline, io_parallel: standard softmax(Q K^T / sqrt(d)) V in fixed point, with the
// same projections, exp-table softmax over all L keys, and normalisation as the HAD layer. Mirrors
// golden.attention_trace (kind 'fp'); contract in had_hls/spec.py.
//
// s_ij = q_i . k_j exact (2 F_qk fractional bits); idx = round_half_up((max_j s_ij - s_ij) * inv_sqrt_d >> sh),
// clamped to T - 1; e_j = fp_exp_table[idx]; S and AV over all valid keys; ctx = normalise; y = Wo ctx.
#ifndef NNET_FP_ATTENTION_H_
#define NNET_FP_ATTENTION_H_

#include "nnet_attention_common.h"

namespace nnet {

struct fp_attention_config {
    static const unsigned seq_len = 8;
    static const unsigned embed_dim = 8;
    static const unsigned num_heads = 1;
    static const unsigned head_dim = 8;
};

template <class data_T, class res_T, typename CONFIG_T>
void fp_attention_core(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const bool valid[CONFIG_T::seq_len],
                       res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                       const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                       const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                       const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                       const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],
                       const typename CONFIG_T::weight_t wv[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                       const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim],
                       const typename CONFIG_T::weight_t wo[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                       const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim],
                       const typename CONFIG_T::exp_t exp_table[CONFIG_T::exp_table_size],
                       const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
    const unsigned W_QK = CONFIG_T::qk_width;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::score_t score_t;

    static ap_int<W_QK> q[L][E], k[L][E]; // Q and K mantissas, qk_t
    static typename CONFIG_T::value_t v[L][E];
    static typename CONFIG_T::context_t ctx[L][E];
    accum_t acc[E];

Tokens:
    for (unsigned t = 0; t < L; t++) {
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(&x[t * E], wq, bq, acc);
        for (unsigned o = 0; o < E; o++) q[t][o] = mantissa_of<W_QK>(typename CONFIG_T::qk_t(acc[o]));
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(&x[t * E], wk, bk, acc);
        for (unsigned o = 0; o < E; o++) k[t][o] = mantissa_of<W_QK>(typename CONFIG_T::qk_t(acc[o]));
        project_token<data_T, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(&x[t * E], wv, bv, acc);
        for (unsigned o = 0; o < E; o++) v[t][o] = acc[o];
    }

Heads:
    for (unsigned h = 0; h < H; h++) {
    Queries:
        for (unsigned i = 0; i < L; i++) {
            score_t s[L];
            score_t smax = 0;
            bool any = false;
        Scores:
            for (unsigned j = 0; j < L; j++) {
                #pragma HLS PIPELINE II=1
                score_t dot = 0;
                for (unsigned c = 0; c < D; c++) dot += q[i][h * D + c] * k[j][h * D + c];
                s[j] = dot;
                if (valid[j] && (!any || dot > smax)) {
                    smax = dot;
                    any = true;
                }
            }
            typename CONFIG_T::sum_t total = 0;
            typename CONFIG_T::av_acc_t av[D];
            for (unsigned c = 0; c < D; c++) av[c] = 0;
        DenseAV:
            for (unsigned j = 0; j < L; j++) {
                #pragma HLS PIPELINE II=1
                if (!valid[j]) continue;
                typename CONFIG_T::score_diff_t diff = smax - s[j];
                typename CONFIG_T::index_prod_t scaled = diff * typename CONFIG_T::index_prod_t(CONFIG_T::inv_sqrt_d);
                scaled += typename CONFIG_T::index_prod_t(1) << (CONFIG_T::index_shift - 1);
                scaled >>= CONFIG_T::index_shift;
                unsigned idx = scaled >= CONFIG_T::exp_table_size ? CONFIG_T::exp_table_size - 1 : unsigned(scaled);
                typename CONFIG_T::exp_t e = exp_table[idx];
                total += e;
                for (unsigned c = 0; c < D; c++) av[c] += e * mantissa_of<CONFIG_T::value_width>(v[j][h * D + c]);
            }
            normalise_row<CONFIG_T>(total, av, recip_table, &ctx[i][h * D]);
        }
    }

Output:
    for (unsigned t = 0; t < L; t++) {
        project_token<typename CONFIG_T::context_t, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(
            ctx[t], wo, bo, acc);
        for (unsigned o = 0; o < E; o++) y[t * E + o] = acc[o];
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void fp_attention(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                  const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                  const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                  const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                  const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],
                  const typename CONFIG_T::weight_t wv[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                  const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim],
                  const typename CONFIG_T::weight_t wo[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                  const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim],
                  const typename CONFIG_T::exp_t exp_table[CONFIG_T::exp_table_size],
                  const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = true;
    fp_attention_core<data_T, res_T, CONFIG_T>(x, valid, y, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);
}

template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void fp_attention_masked(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const mask_T mask[CONFIG_T::seq_len],
                         res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                         const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                         const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                         const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                         const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],
                         const typename CONFIG_T::weight_t wv[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                         const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim],
                         const typename CONFIG_T::weight_t wo[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                         const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim],
                         const typename CONFIG_T::exp_t exp_table[CONFIG_T::exp_table_size],
                         const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = mask[j] == 0;
    fp_attention_core<data_T, res_T, CONFIG_T>(x, valid, y, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);
}

} // namespace nnet

#endif
