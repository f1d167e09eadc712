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

#ifndef __SYNTHESIS__
// ---- C-simulation speed-up (g++ only): the whole layer below on integers, bit for bit (see nnet_attention_common.h)
template <class data_T, class res_T, typename CONFIG_T> struct fp_fast {
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::bias_t bias_t;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::context_t context_t;
    typedef fixed_traits<context_t> CTX;
    typedef fixed_traits<typename CONFIG_T::qk_t> QK;
    typedef fixed_traits<typename CONFIG_T::score_t> SC;
    typedef fixed_traits<typename CONFIG_T::score_diff_t> SD;
    typedef fixed_traits<typename CONFIG_T::index_prod_t> IP;
    static const unsigned E = CONFIG_T::embed_dim;
    static const bool ok =
        project_fast<data_T, weight_t, bias_t, accum_t, E>::ok && project_fast<context_t, weight_t, bias_t, accum_t, E>::ok &&
        QK::convertible && QK::S && QK::W == (int)CONFIG_T::qk_width && QK::W <= 31 && SC::S && SC::W <= 127 &&
        SD::S && SD::W <= 95 && IP::S && IP::W <= 127 && CONFIG_T::inv_sqrt_d < (1UL << 31) &&
        CONFIG_T::index_shift >= 1 && CONFIG_T::exp_table_size >= 1 &&
        fixed_traits<typename CONFIG_T::value_t>::convertible && fixed_traits<typename CONFIG_T::value_t>::S &&
        CONFIG_T::value_width == fixed_traits<typename CONFIG_T::value_t>::W && fixed_traits<res_T>::convertible &&
        CTX::ok && CTX::S && CTX::W == (int)CONFIG_T::context_width &&
        fixed_traits<typename CONFIG_T::exp_t>::W <= 32 && !fixed_traits<typename CONFIG_T::exp_t>::S &&
        normalise_fast<CONFIG_T>::ok && CONFIG_T::head_dim * CONFIG_T::num_heads == E;
};

template <class data_T, class res_T, typename CONFIG_T>
bool fast_fp_attention_core(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const bool valid[CONFIG_T::seq_len],
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
    typedef fp_fast<data_T, res_T, CONFIG_T> FF;
    if (!FF::ok) return false;
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::bias_t bias_t;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef fixed_traits<accum_t> A;
    typedef typename FF::SC SC;
    typedef typename FF::SD SD;
    typedef typename FF::IP IP;
    typedef fixed_traits<typename CONFIG_T::sum_t> SUM;
    typedef fixed_traits<typename CONFIG_T::av_acc_t> AV;
    static long long q[L][E], k[L][E], v[L][E], acc[L][E]; // qk_t, qk_t, value_t mantissas
    static double xm[L][E], ctx[L][E];
    for (unsigned t = 0; t < L; t++)
        for (unsigned i = 0; i < E; i++) xm[t][i] = (double)fixed_mantissa(x[t * E + i]);
    fast_project_rows<data_T, weight_t, bias_t, accum_t, E, E>(&xm[0][0], L, wq, bq, 0, &acc[0][0]);
    for (unsigned t = 0; t < L; t++)
        for (unsigned o = 0; o < E; o++) q[t][o] = (long long)fixed_quantize<typename CONFIG_T::qk_t>(acc[t][o], A::F);
    fast_project_rows<data_T, weight_t, bias_t, accum_t, E, E>(&xm[0][0], L, wk, bk, 0, &acc[0][0]);
    for (unsigned t = 0; t < L; t++)
        for (unsigned o = 0; o < E; o++) k[t][o] = (long long)fixed_quantize<typename CONFIG_T::qk_t>(acc[t][o], A::F);
    fast_project_rows<data_T, weight_t, bias_t, accum_t, E, E>(&xm[0][0], L, wv, bv, 0, &acc[0][0]);
    for (unsigned t = 0; t < L; t++)
        for (unsigned o = 0; o < E; o++) v[t][o] = (long long)fixed_quantize<typename CONFIG_T::value_t>(acc[t][o], A::F);
    const unsigned SH = CONFIG_T::index_shift;
    // score_t sums and av_acc_t sums modulo 2^64 while they are <= 64 bits wide, else modulo 2^128
    typedef typename modular_word<SC::W>::type score_word;
    typedef typename normalise_fast<CONFIG_T>::av_word av_word;
    const wide_int inv = wrap_bits<IP::W, true>((wide_int)(unsigned long long)CONFIG_T::inv_sqrt_d);
    // index_prod_t(1) << (SH - 1): same width, 0 once the one is shifted out
    const wide_int half = SH - 1 >= (unsigned)IP::W ? 0 : shl_wide(1, SH - 1);
    static wide_int s[L];
    for (unsigned h = 0; h < H; h++) {
        for (unsigned i = 0; i < L; i++) {
            wide_int smax = 0;
            bool any = false;
            for (unsigned j = 0; j < L; j++) {
                score_word dot = 0;
                for (unsigned c = 0; c < D; c++)
                    dot += (score_word)(q[i][h * D + c] * k[j][h * D + c]); // |q k| < 2^62
                s[j] = wrap_bits<SC::W, true>((wide_int)dot);
                if (valid[j] && (!any || s[j] > smax)) {
                    smax = s[j];
                    any = true;
                }
            }
            unsigned long long total = 0;
            av_word av[D];
            for (unsigned c = 0; c < D; c++) av[c] = 0;
            for (unsigned j = 0; j < L; j++) {
                if (!valid[j]) continue;
                const wide_int diff = wrap_bits<SD::W, true>(smax - s[j]);
                wide_int scaled = wrap_bits<IP::W, true>(diff * inv); // |diff inv| < 2^(94 + 31): exact
                scaled = wrap_bits<IP::W, true>(scaled + half);
                scaled = SH >= (unsigned)IP::W ? (scaled < 0 ? -1 : 0) : shr_floor(scaled, SH);
                const unsigned idx =
                    scaled >= (wide_int)CONFIG_T::exp_table_size ? CONFIG_T::exp_table_size - 1 : (unsigned)scaled;
                const unsigned long long e = (unsigned long long)fixed_mantissa(exp_table[idx]);
                total += e;
                const long long *vj = &v[j][h * D];
                for (unsigned c = 0; c < D; c++) av[c] += (av_word)e * (av_word)vj[c]; // modulo 2^64 (2^128)
            }
            wide_int av_m[D];
            long long ctx_m[D];
            for (unsigned c = 0; c < D; c++) av_m[c] = wrap_bits<AV::W, true>((wide_int)av[c]);
            fast_normalise_row<CONFIG_T>((unsigned long long)wrap_bits<SUM::W, false>((wide_int)total), av_m,
                                         recip_table, ctx_m);
            for (unsigned c = 0; c < D; c++) ctx[i][h * D + c] = (double)ctx_m[c];
        }
    }
    fast_project_rows<typename CONFIG_T::context_t, weight_t, bias_t, accum_t, E, E>(&ctx[0][0], L, wo, bo, 0,
                                                                                    &acc[0][0]);
    for (unsigned t = 0; t < L; t++)
        for (unsigned o = 0; o < E; o++) fixed_assign_exact(y[t * E + o], acc[t][o], A::F);
    return true;
}
#endif

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
    HAD_CSIM_FAST((fp_fast<data_T, res_T, CONFIG_T>::ok),
                  (fast_fp_attention_core<data_T, res_T, CONFIG_T>(x, valid, y, wq, bq, wk, bk, wv, bv, wo, bo, exp_table,
                                                                   recip_table)))
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
    HAD_CSIM_FAST_END
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
