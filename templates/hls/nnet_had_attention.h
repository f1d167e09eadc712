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

#ifndef __SYNTHESIS__
// ---- C-simulation speed-up (g++ only): the whole layer below on integers, bit for bit (see nnet_attention_common.h)
template <class data_T, class res_T, typename CONFIG_T> struct had_fast {
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::bias_t bias_t;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::context_t context_t;
    typedef fixed_traits<context_t> CTX;
    static const unsigned E = CONFIG_T::embed_dim;
    static const bool ok =
        project_fast<data_T, weight_t, bias_t, accum_t, E>::ok && project_fast<context_t, weight_t, bias_t, accum_t, E>::ok &&
        fixed_traits<typename CONFIG_T::value_t>::convertible && fixed_traits<typename CONFIG_T::value_t>::S &&
        fixed_traits<res_T>::convertible && CTX::ok && CTX::S &&
        CTX::W == (int)CONFIG_T::context_width && CONFIG_T::value_width == fixed_traits<typename CONFIG_T::value_t>::W &&
        fixed_traits<typename CONFIG_T::exp_t>::W <= 32 && !fixed_traits<typename CONFIG_T::exp_t>::S &&
        normalise_fast<CONFIG_T>::ok &&
        CONFIG_T::head_dim <= 64 && CONFIG_T::head_dim * CONFIG_T::num_heads == E &&
        (1ULL << fixed_traits<typename CONFIG_T::ham_t>::W) > CONFIG_T::head_dim &&
        fixed_traits<typename CONFIG_T::count_t>::W < 32 &&
        (1ULL << fixed_traits<typename CONFIG_T::count_t>::W) > CONFIG_T::seq_len && CONFIG_T::top_n <= CONFIG_T::seq_len;
};

template <class data_T, class res_T, typename CONFIG_T>
bool fast_had_attention_core(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const bool valid[CONFIG_T::seq_len],
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
    typedef had_fast<data_T, res_T, CONFIG_T> HF;
    if (!HF::ok) return false;
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::bias_t bias_t;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef fixed_traits<accum_t> A;
    typedef fixed_traits<typename CONFIG_T::sum_t> SUM;
    typedef fixed_traits<typename CONFIG_T::av_acc_t> AV;
    typedef typename normalise_fast<CONFIG_T>::av_word av_word;
    static unsigned long long qbits[L][H], kbits[L][H];
    static long long v[L][E], acc[L][E];
    static double xm[L][E], ctx[L][E]; // input mantissas; context_t mantissas (the Wo input)
    for (unsigned t = 0; t < L; t++)
        for (unsigned i = 0; i < E; i++) xm[t][i] = (double)fixed_mantissa(x[t * E + i]);
    for (unsigned pass = 0; pass < 2; pass++) {
        fast_project_rows<data_T, weight_t, bias_t, accum_t, E, E>(&xm[0][0], L, pass ? wk : wq, pass ? bk : bq, 0,
                                                                  &acc[0][0]);
        for (unsigned t = 0; t < L; t++)
            for (unsigned h = 0; h < H; h++) {
                unsigned long long bits = 0;
                for (unsigned c = 0; c < D; c++) bits |= (unsigned long long)(acc[t][h * D + c] < 0) << c;
                (pass ? kbits : qbits)[t][h] = bits;
            }
    }
    fast_project_rows<data_T, weight_t, bias_t, accum_t, E, E>(&xm[0][0], L, wv, bv, 0, &acc[0][0]);
    for (unsigned t = 0; t < L; t++)
        for (unsigned o = 0; o < E; o++) v[t][o] = (long long)fixed_quantize<typename CONFIG_T::value_t>(acc[t][o], A::F);
    unsigned long long e_tab[D + 1];
    for (unsigned i = 0; i <= D; i++) e_tab[i] = (unsigned long long)fixed_mantissa(exp_table[i]);
    unsigned n_valid = 0;
    for (unsigned j = 0; j < L; j++) n_valid += valid[j] ? 1 : 0;
    const unsigned n_row = n_valid < CONFIG_T::top_n ? n_valid : CONFIG_T::top_n;
    unsigned ham[L];
    unsigned kept[L]; // indices of the kept keys, in key order
    for (unsigned h = 0; h < H; h++) {
        for (unsigned i = 0; i < L; i++) {
            // topn_select_row: histogram of the valid keys' distances, threshold, keys in order
            unsigned hist[D + 1];
            for (unsigned b = 0; b <= D; b++) hist[b] = 0;
            const unsigned long long q = qbits[i][h];
            for (unsigned j = 0; j < L; j++) {
                ham[j] = (unsigned)__builtin_popcountll(q ^ kbits[j][h]);
                if (valid[j]) hist[ham[j]]++;
            }
            unsigned cum = 0, below = 0, thresh = 0;
            bool found = false;
            for (unsigned b = 0; b <= D; b++) {
                if (!found && cum + hist[b] >= n_row) {
                    thresh = b;
                    below = cum;
                    found = true;
                }
                cum += hist[b];
            }
            const unsigned take = n_row - below;
            unsigned seen = 0, n_kept = 0, hmin = D;
            for (unsigned j = 0; j < L; j++) {
                if (!valid[j]) continue;
                const bool at = ham[j] == thresh;
                if (ham[j] < thresh || (at && seen < take)) {
                    kept[n_kept++] = j;
                    if (ham[j] < hmin) hmin = ham[j];
                }
                if (at) seen++;
            }
            unsigned long long s = 0;
            av_word av[D];
            for (unsigned c = 0; c < D; c++) av[c] = 0;
            for (unsigned k = 0; k < n_kept; k++) {
                const unsigned j = kept[k];
                const unsigned long long e = e_tab[ham[j] - hmin];
                s += e;
                const long long *vj = &v[j][h * D];
                for (unsigned c = 0; c < D; c++) av[c] += (av_word)e * (av_word)vj[c]; // modulo 2^64 (2^128)
            }
            wide_int av_m[D];
            long long ctx_m[D];
            for (unsigned c = 0; c < D; c++) av_m[c] = wrap_bits<AV::W, true>((wide_int)av[c]);
            fast_normalise_row<CONFIG_T>((unsigned long long)wrap_bits<SUM::W, false>((wide_int)s), av_m, recip_table,
                                         ctx_m);
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
    HAD_CSIM_FAST((had_fast<data_T, res_T, CONFIG_T>::ok),
                  (fast_had_attention_core<data_T, res_T, CONFIG_T>(x, valid, y, wq, bq, wk, bk, wv, bv, wo, bo, exp_table,
                                                                    recip_table)))
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
    HAD_CSIM_FAST_END
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
