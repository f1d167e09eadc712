// had-hls: HAD multi-head self-attention, the RTL twin's machine in HLS (io_stream and io_parallel).
// Mirrors golden.attention_trace (kind 'had'); contract in had_hls/spec.py; every parameter below comes from the
// config struct, derived once in had_hls/hls/schedule.py (docs/hls.md has the stage table).
//
// One input: `had_load` fills the memories, then the stages run as one DATAFLOW region (UG1399 canonical form:
// process calls joined by local channels, one producer and one consumer each). One job per (query row i, head h),
// G = ceil(L/P) beats of P keys; a job enters every G cycles, so a query row costs H*G cycles in steady state and
// the stages of consecutive jobs overlap:
//
//   x tokens -> had_load --(Q bits, K bits banked by lane, key valid, V: single memories, as the RTL twin's)-->
//     hamming_unit --beats--> topn_hist --scores (2G + SC)--> topn_keep --kept--> topn_compact + softmax_av_lanes
//     --{S, acc}--> normalise_row --context--> out_proj -> y tokens
//
// had_load projects each token with hls4ml's ReuseFactor / Strategy (proj_config): Q and K keep only their sign bits
// (L x d bits per head), V is kept in value_t, PA copies (one read port per AV lane). There is no L x L buffer:
// the distances of a job live in the score FIFO for about two jobs.
#ifndef NNET_HAD_ATTENTION_H_
#define NNET_HAD_ATTENTION_H_

#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"
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
            // counting top-N (topn_hist + topn_keep): histogram of the valid keys' distances, threshold, keys in order
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


// ------------------------------------------------------------------------------------------------ load
// Tokens t = 0..L-1, each in proj_config::cycles steps (II = proj_config::ii): the three projections of the token
// share its steps (3 * block MACs a step); after the last step Q/K sign bits, the key-valid bit and V are stored.
template <class data_T, typename CONFIG_T>
void had_load(hls::stream<data_T> &x, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid_in,
              ap_uint<CONFIG_T::embed_dim> q[CONFIG_T::seq_len],
              ap_uint<CONFIG_T::embed_dim> k[CONFIG_T::lanes][CONFIG_T::groups],
              bool key_valid[CONFIG_T::lanes][CONFIG_T::groups],
              typename CONFIG_T::value_t v[CONFIG_T::av_lanes][CONFIG_T::seq_len][CONFIG_T::embed_dim],
              const typename CONFIG_T::weight_t wq[CONFIG_T::proj_config::cycles * CONFIG_T::proj_config::block],
              const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
              const typename CONFIG_T::weight_t wk[CONFIG_T::proj_config::cycles * CONFIG_T::proj_config::block],
              const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],
              const typename CONFIG_T::weight_t wv[CONFIG_T::proj_config::cycles * CONFIG_T::proj_config::block],
              const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim]) {
    typedef typename CONFIG_T::proj_config PC;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename data_T::value_type in_t;
    const unsigned E = CONFIG_T::embed_dim, P = CONFIG_T::lanes, STEPS = PC::cycles, WB = PC::block;
    #pragma HLS ARRAY_RESHAPE variable=wq cyclic factor=WB
    #pragma HLS ARRAY_RESHAPE variable=wk cyclic factor=WB
    #pragma HLS ARRAY_RESHAPE variable=wv cyclic factor=WB
    #pragma HLS ARRAY_PARTITION variable=bq complete
    #pragma HLS ARRAY_PARTITION variable=bk complete
    #pragma HLS ARRAY_PARTITION variable=bv complete
    in_t tok[E];
    #pragma HLS ARRAY_PARTITION variable=tok complete
    accum_t aq[E], ak[E], av[E];
    #pragma HLS ARRAY_PARTITION variable=aq complete
    #pragma HLS ARRAY_PARTITION variable=ak complete
    #pragma HLS ARRAY_PARTITION variable=av complete
    const unsigned MULS = 3 * PC::multiplier_limit; // Q, K and V: 3 n_in n_out / ReuseFactor multipliers
    #pragma HLS ALLOCATION operation instances=mul limit=MULS
    const ap_uint<CONFIG_T::seq_len> valid = valid_in.read();
    unsigned t = 0, s = 0, bank = 0, row = 0;
LoadTokens:
    for (unsigned c = 0; c < CONFIG_T::seq_len * STEPS; c++) {
        #pragma HLS PIPELINE II=PC::ii
        if (s == 0) {
            const data_T in = x.read();
        LoadToken:
            for (unsigned e = 0; e < E; e++) {
                #pragma HLS UNROLL
                tok[e] = in[e];
            }
        }
        dense_token_step<in_t, accum_t, PC>(s, tok, aq, wq, bq);
        dense_token_step<in_t, accum_t, PC>(s, tok, ak, wk, bk);
        dense_token_step<in_t, accum_t, PC>(s, tok, av, wv, bv);
        if (s == STEPS - 1) {
            q[t] = sign_bits<accum_t, CONFIG_T::embed_dim>(aq);
            k[bank][row] = sign_bits<accum_t, CONFIG_T::embed_dim>(ak);
            key_valid[bank][row] = valid[t];
        LoadValue:
            for (unsigned a = 0; a < CONFIG_T::av_lanes; a++) {
                #pragma HLS UNROLL
                for (unsigned e = 0; e < E; e++) {
                    #pragma HLS UNROLL
                    v[a][t][e] = av[e];
                }
            }
            t++;
            if (++bank == P) {
                bank = 0;
                row++;
            }
            s = 0;
        } else {
            s++;
        }
    }
}

// ------------------------------------------------------------------------------------------------ compaction + AV
// topn_compact and softmax_av_lanes share the slot buffer (N slots {key, ham - hmin} per half, ping-pong by job
// parity), so they are one process: iteration c compacts beat g of job c / G into its half and spends AV step g
// (g < NA) on the previous job's half. softmax_av_lanes: PA slots a cycle, e = exp_table[ham - hmin] (d + 1 entries,
// registers), S += e, acc[c] += e v[key][h d + c] (exact integers: the order of the kept keys does not matter); V copy
// a serves lane a. A job's {S, acc} word leaves after its NA steps.
template <typename CONFIG_T>
void softmax_av_lanes(const unsigned g, const unsigned n_kept, const unsigned h, const unsigned half,
                      const typename CONFIG_T::key_t slot_key[2][CONFIG_T::lanes * CONFIG_T::slot_rows],
                      const typename CONFIG_T::ham_t slot_delta[2][CONFIG_T::lanes * CONFIG_T::slot_rows],
                      const typename CONFIG_T::value_t v[CONFIG_T::av_lanes][CONFIG_T::seq_len][CONFIG_T::embed_dim],
                      const typename CONFIG_T::exp_t exp_table[CONFIG_T::head_dim + 1], typename CONFIG_T::sum_t &s,
                      typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim]) {
    #pragma HLS INLINE
    const unsigned D = CONFIG_T::head_dim;
AVLanes:
    for (unsigned a = 0; a < CONFIG_T::av_lanes; a++) {
        #pragma HLS UNROLL
        const unsigned pos = g * CONFIG_T::av_lanes + a;
        if (pos < n_kept) {
            const unsigned key = slot_key[half][pos];
            const typename CONFIG_T::exp_t e = exp_table[slot_delta[half][pos]];
            s += e;
        AVElements:
            for (unsigned c = 0; c < D; c++) {
                #pragma HLS UNROLL
                acc[c] += e * mantissa_of<CONFIG_T::value_width>(v[a][key][h * D + c]);
            }
        }
    }
}

template <typename CONFIG_T>
void topn_compact_softmax_av(hls::stream<kept_beat<CONFIG_T> > &kept,
                             const typename CONFIG_T::value_t v[CONFIG_T::av_lanes][CONFIG_T::seq_len]
                                                              [CONFIG_T::embed_dim],
                             const typename CONFIG_T::exp_t exp_table[CONFIG_T::head_dim + 1],
                             hls::stream<av_word<CONFIG_T> > &avs) {
    #pragma HLS ARRAY_PARTITION variable=exp_table complete
    const unsigned G = CONFIG_T::groups, NA = CONFIG_T::av_cycles, JOBS = CONFIG_T::jobs, D = CONFIG_T::head_dim;
    typename CONFIG_T::key_t slot_key[2][CONFIG_T::lanes * CONFIG_T::slot_rows];
    typename CONFIG_T::ham_t slot_delta[2][CONFIG_T::lanes * CONFIG_T::slot_rows];
    #pragma HLS ARRAY_PARTITION variable=slot_key complete dim=0
    #pragma HLS ARRAY_PARTITION variable=slot_delta complete dim=0
    unsigned n_kept[2] = {0, 0};
    #pragma HLS ARRAY_PARTITION variable=n_kept complete
    typename CONFIG_T::sum_t s = 0;
    typename CONFIG_T::av_acc_t acc[D];
    #pragma HLS ARRAY_PARTITION variable=acc complete
    unsigned job = 0, g = 0, h_prev = 0, h = 0;
CompactAV:
    for (unsigned c = 0; c < JOBS * G + NA; c++) {
        #pragma HLS PIPELINE II=1
        const unsigned half = job & 1;
        if (job < JOBS) {
            const kept_beat<CONFIG_T> b = kept.read();
            n_kept[half] = topn_compact<CONFIG_T>(b, g, half, g == 0 ? 0 : n_kept[half], slot_key, slot_delta);
        }
        if (job > 0 && g < NA) { // AV step g of job - 1 (head h_prev)
            if (g == 0) {
                s = 0;
            AVClear:
                for (unsigned k = 0; k < D; k++) {
                    #pragma HLS UNROLL
                    acc[k] = 0;
                }
            }
            softmax_av_lanes<CONFIG_T>(g, n_kept[half ^ 1], h_prev, half ^ 1, slot_key, slot_delta, v, exp_table, s,
                                       acc);
            if (g == NA - 1) {
                av_word<CONFIG_T> w;
                w.s = s;
            AVWord:
                for (unsigned k = 0; k < D; k++) {
                    #pragma HLS UNROLL
                    w.acc[k] = acc[k];
                }
                avs.write(w);
            }
        }
        if (++g == G) {
            g = 0;
            job++;
            h_prev = h;
            h = h == CONFIG_T::num_heads - 1 ? 0 : h + 1;
        }
    }
}

// ------------------------------------------------------------------------------------------------ the core
// The core's stages: one DATAFLOW region over the memories that had_load filled (read-only here, one reader each).
template <class res_T, typename CONFIG_T>
void had_attention_stages(const ap_uint<CONFIG_T::embed_dim> q[CONFIG_T::seq_len],
                          const ap_uint<CONFIG_T::embed_dim> k[CONFIG_T::lanes][CONFIG_T::groups],
                          const bool key_valid[CONFIG_T::lanes][CONFIG_T::groups],
                          const typename CONFIG_T::value_t v[CONFIG_T::av_lanes][CONFIG_T::seq_len]
                                                            [CONFIG_T::embed_dim],
                          hls::stream<res_T> &y, const typename CONFIG_T::weight_t *wo,
                          const typename CONFIG_T::bias_t *bo, const typename CONFIG_T::exp_t *exp_table,
                          const typename CONFIG_T::recip_t *recip_table) {
    #pragma HLS DATAFLOW
    const unsigned BEATS_DEPTH = CONFIG_T::beats_fifo_depth, SCORES_DEPTH = CONFIG_T::scores_fifo_depth;
    const unsigned THRESH_DEPTH = CONFIG_T::thresholds_fifo_depth, KEPT_DEPTH = CONFIG_T::kept_fifo_depth;
    const unsigned AV_DEPTH = CONFIG_T::av_fifo_depth, CTX_DEPTH = CONFIG_T::context_fifo_depth;
    hls::stream<ham_beat<CONFIG_T> > beats("had_beats");
    hls::stream<ham_beat<CONFIG_T> > scores("had_scores");
    hls::stream<topn_threshold<CONFIG_T> > thresholds("had_thresholds");
    hls::stream<kept_beat<CONFIG_T> > kept("had_kept");
    hls::stream<av_word<CONFIG_T> > avs("had_av");
    hls::stream<context_word<CONFIG_T> > ctx("had_context");
    #pragma HLS STREAM variable=beats depth=BEATS_DEPTH
    #pragma HLS STREAM variable=scores depth=SCORES_DEPTH
    #pragma HLS STREAM variable=thresholds depth=THRESH_DEPTH
    #pragma HLS STREAM variable=kept depth=KEPT_DEPTH
    #pragma HLS STREAM variable=avs depth=AV_DEPTH
    #pragma HLS STREAM variable=ctx depth=CTX_DEPTH
    hamming_unit<CONFIG_T>(q, k, key_valid, beats);
    topn_hist<CONFIG_T>(beats, scores, thresholds);
    topn_keep<CONFIG_T>(scores, thresholds, kept);
    topn_compact_softmax_av<CONFIG_T>(kept, v, exp_table, avs);
    normalise_row<CONFIG_T>(avs, recip_table, ctx);
    out_proj<res_T, CONFIG_T>(ctx, y, wo, bo);
}

// One input: had_load fills Q, K (banked by lane), the key-valid bits and V, then the stages run. As in the RTL twin
// the memories are single (written while the stages are idle): no ping-pong copy of the L x E memories.
template <class data_T, class res_T, typename CONFIG_T>
void had_attention_dataflow(hls::stream<data_T> &x, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid,
                            hls::stream<res_T> &y,
                            const typename CONFIG_T::weight_t *wq, const typename CONFIG_T::bias_t *bq,
                            const typename CONFIG_T::weight_t *wk, const typename CONFIG_T::bias_t *bk,
                            const typename CONFIG_T::weight_t *wv, const typename CONFIG_T::bias_t *bv,
                            const typename CONFIG_T::weight_t *wo, const typename CONFIG_T::bias_t *bo,
                            const typename CONFIG_T::exp_t *exp_table, const typename CONFIG_T::recip_t *recip_table) {
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, P = CONFIG_T::lanes, G = CONFIG_T::groups;
    HAD_CSIM_STATIC ap_uint<E> q[L];
    HAD_CSIM_STATIC ap_uint<E> k[P][G];
    HAD_CSIM_STATIC bool key_valid[P][G];
    HAD_CSIM_STATIC typename CONFIG_T::value_t v[CONFIG_T::av_lanes][L][E];
    #pragma HLS ARRAY_PARTITION variable=k dim=1 complete
    #pragma HLS ARRAY_PARTITION variable=key_valid dim=1 complete
    #pragma HLS ARRAY_PARTITION variable=v dim=1 complete
    #pragma HLS ARRAY_RESHAPE variable=v dim=3 complete
    had_load<data_T, CONFIG_T>(x, valid, q, k, key_valid, v, wq, bq, wk, bk, wv, bv);
    had_attention_stages<res_T, CONFIG_T>(q, k, key_valid, v, y, wo, bo, exp_table, recip_table);
}

#ifndef __SYNTHESIS__
// The fast C-sim core on arrays (weights back in (out, in) order); mask: null = no padding, else mask[j] != 0 pads
// key j. Called only when had_fast<...>::ok (its types are modelled); returns that.
template <class data_T, class res_T, typename CONFIG_T, class mask_T>
bool had_attention_fast(const data_T *x, const mask_T *mask, res_T *y, const typename CONFIG_T::weight_t *wq,
                        const typename CONFIG_T::bias_t *bq, const typename CONFIG_T::weight_t *wk,
                        const typename CONFIG_T::bias_t *bk, const typename CONFIG_T::weight_t *wv,
                        const typename CONFIG_T::bias_t *bv, const typename CONFIG_T::weight_t *wo,
                        const typename CONFIG_T::bias_t *bo, const typename CONFIG_T::exp_t *exp_table,
                        const typename CONFIG_T::recip_t *recip_table) {
    typedef typename CONFIG_T::proj_config PC;
    typedef typename CONFIG_T::wo_config WC_T;
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = mask == 0 || mask[j] == 0;
    return fast_had_attention_core<data_T, res_T, CONFIG_T>(
        x, valid, y, row_major_weights<PC>(wq), bq, row_major_weights<PC>(wk), bk, row_major_weights<PC>(wv), bv,
        row_major_weights<WC_T>(wo), bo, exp_table, recip_table);
}

// The same on the L tokens of a stream layer and its mask word (mask null: no mask stream).
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
bool had_attention_fast_stream(hls::stream<data_T> &x, hls::stream<mask_T> *mask, hls::stream<res_T> &y,
                               const typename CONFIG_T::weight_t *wq, const typename CONFIG_T::bias_t *bq,
                               const typename CONFIG_T::weight_t *wk, const typename CONFIG_T::bias_t *bk,
                               const typename CONFIG_T::weight_t *wv, const typename CONFIG_T::bias_t *bv,
                               const typename CONFIG_T::weight_t *wo, const typename CONFIG_T::bias_t *bo,
                               const typename CONFIG_T::exp_t *exp_table,
                               const typename CONFIG_T::recip_t *recip_table) {
    static typename data_T::value_type xa[CONFIG_T::seq_len * CONFIG_T::embed_dim];
    static typename res_T::value_type ya[CONFIG_T::seq_len * CONFIG_T::embed_dim];
    ap_uint<1> pad[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) pad[j] = 0;
    if (mask) {
        const mask_T m = mask->read();
        for (unsigned j = 0; j < CONFIG_T::seq_len; j++) pad[j] = m[j] != 0;
    }
    csim_read_tokens<data_T, CONFIG_T>(x, xa);
    const bool ok = had_attention_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(
        xa, pad, ya, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);
    csim_write_tokens<res_T, CONFIG_T>(ya, y);
    return ok;
}
#endif

// ------------------------------------------------------------------------------------------------ layer functions
// io_parallel: x (L, E) row-major, one token per word of the port (hls4ml's top reshapes it cyclic factor=E).
#define HAD_ATTENTION_WEIGHT_PARAMS                                                                                    \
    const typename CONFIG_T::weight_t *wq, const typename CONFIG_T::bias_t *bq, const typename CONFIG_T::weight_t *wk, \
        const typename CONFIG_T::bias_t *bk, const typename CONFIG_T::weight_t *wv,                                    \
        const typename CONFIG_T::bias_t *bv, const typename CONFIG_T::weight_t *wo,                                    \
        const typename CONFIG_T::bias_t *bo, const typename CONFIG_T::exp_t *exp_table,                                \
        const typename CONFIG_T::recip_t *recip_table
#define HAD_ATTENTION_WEIGHT_ARGS wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table

template <class data_T, class res_T, typename CONFIG_T>
void had_attention(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                   res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], HAD_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((had_fast<data_T, res_T, CONFIG_T>::ok),
                  (had_attention_fast<data_T, res_T, CONFIG_T>(x, (const ap_uint<1> *)0, y, HAD_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<array<data_T, CONFIG_T::embed_dim> > xs("had_tokens_in");
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("had_valid");
    hls::stream<array<res_T, CONFIG_T::embed_dim> > ys("had_tokens_out");
    tokens_from_array<data_T, CONFIG_T>(x, xs);
    valid_word_all<CONFIG_T>(valid);
    had_attention_dataflow<array<data_T, CONFIG_T::embed_dim>, array<res_T, CONFIG_T::embed_dim>, CONFIG_T>(
        xs, valid, ys, HAD_ATTENTION_WEIGHT_ARGS);
    tokens_to_array<res_T, CONFIG_T>(ys, y);
    HAD_CSIM_FAST_END
}

// io_parallel with a key padding mask as a second input: mask[j] != 0 marks key j as padding (never attended).
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void had_attention_masked(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const mask_T mask[CONFIG_T::seq_len],
                          res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], HAD_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((had_fast<data_T, res_T, CONFIG_T>::ok),
                  (had_attention_fast<data_T, res_T, CONFIG_T>(x, mask, y, HAD_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<array<data_T, CONFIG_T::embed_dim> > xs("had_tokens_in");
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("had_valid");
    hls::stream<array<res_T, CONFIG_T::embed_dim> > ys("had_tokens_out");
    tokens_from_array<data_T, CONFIG_T>(x, xs);
    valid_word_from_array<mask_T, CONFIG_T>(mask, valid);
    had_attention_dataflow<array<data_T, CONFIG_T::embed_dim>, array<res_T, CONFIG_T::embed_dim>, CONFIG_T>(
        xs, valid, ys, HAD_ATTENTION_WEIGHT_ARGS);
    tokens_to_array<res_T, CONFIG_T>(ys, y);
    HAD_CSIM_FAST_END
}

// io_stream: L tokens of E values in, L out (hls4ml's nnet::array stream words).
template <class data_T, class res_T, typename CONFIG_T>
void had_attention_stream(hls::stream<data_T> &x, hls::stream<res_T> &y, HAD_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((had_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::ok),
                  (had_attention_fast_stream<data_T, array<ap_uint<1>, 1>, res_T, CONFIG_T>(x, 0, y,
                                                                                HAD_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("had_valid");
    valid_word_all<CONFIG_T>(valid);
    had_attention_dataflow<data_T, res_T, CONFIG_T>(x, valid, y, HAD_ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

// io_stream with the padding mask as one stream word of L flags.
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void had_attention_stream_masked(hls::stream<data_T> &x, hls::stream<mask_T> &mask, hls::stream<res_T> &y,
                                 HAD_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((had_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::ok),
                  (had_attention_fast_stream<data_T, mask_T, res_T, CONFIG_T>(x, &mask, y, HAD_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("had_valid");
    valid_word_from_stream<mask_T, CONFIG_T>(mask, valid);
    had_attention_dataflow<data_T, res_T, CONFIG_T>(x, valid, y, HAD_ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

#undef HAD_ATTENTION_WEIGHT_PARAMS
#undef HAD_ATTENTION_WEIGHT_ARGS

} // namespace nnet

#endif
