// had-hls: HAD multi-head self-attention, the RTL twin's machine in HLS (io_stream and io_parallel).
// Mirrors golden.attention_trace (kind 'had'); contract in had_hls/spec.py; every parameter below comes from the
// config struct, derived once in had_hls/hls/schedule.py (docs/hls.md has the stage table).
//
// One input: `load` fills the memories, then the stages run as one DATAFLOW region (UG1399 canonical form:
// process calls joined by local channels, one producer and one consumer each). One job per (query row i, head h),
// G = ceil(L/P) beats of P keys; a job enters every G cycles, so a query row costs H*G cycles in steady state and
// the stages of consecutive jobs overlap:
//
//   x tokens -> load --(Q bits, K bits banked by lane, key valid, V: single memories, as the RTL twin's)-->
//     hamming_unit --beats--> topn_hist --scores (2G + SC)--> topn_keep --kept--> topn_compact + softmax_av_lanes
//     --{S, acc}--> normalise_row --context--> out_proj -> y tokens
//
// load projects each token with hls4ml's ReuseFactor / Strategy (proj_config): Q and K keep only their sign bits
// (L x d bits per head), V is kept in value_t, PA copies (one read port per AV lane). There is no L x L buffer:
// the distances of a job live in the score FIFO for about two jobs.
#ifndef NNET_HAD_ATTENTION_H_
#define NNET_HAD_ATTENTION_H_

#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"
#include "nnet_hamming.h"
#include "nnet_topn_select.h"

namespace nnet {

struct had_attention_config : attention_config {
    static const unsigned top_n = 4;
};

#ifndef __SYNTHESIS__
// ---- C-simulation speed-up (g++ only): the whole layer below on integers, bit for bit (see nnet_attention_common.h)
template <class data_T, class res_T, typename CONFIG_T>
struct had_fast : attention_fast_base<data_T, res_T, CONFIG_T> {
    typedef attention_fast_base<data_T, res_T, CONFIG_T> base;
    typedef typename base::weight_t weight_t;
    typedef typename base::bias_t bias_t;
    typedef typename base::accum_t accum_t;
    typedef typename base::av_word av_word;
    static const bool ok = base::ok && CONFIG_T::head_dim <= 64 &&
                           (1ULL << fixed_traits<typename CONFIG_T::ham_t>::W) > CONFIG_T::head_dim &&
                           fixed_traits<typename CONFIG_T::count_t>::W < 32 &&
                           (1ULL << fixed_traits<typename CONFIG_T::count_t>::W) > CONFIG_T::seq_len &&
                           CONFIG_T::top_n <= CONFIG_T::seq_len;

    // The whole layer on integers (weights in (out, in) order), bit for bit; false when !ok (nothing done).
    static bool core(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const bool valid[CONFIG_T::seq_len],
                     res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], ATTENTION_WEIGHT_PARAMS) {
        if (!ok) return false;
        const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
        static unsigned long long qbits[L][H], kbits[L][H];
        static long long v[L][E], acc[L][E];
        static double xm[L][E], ctx[L][E]; // input mantissas; context_t mantissas (the Wo input)
        base::inputs(x, &xm[0][0]);
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
        base::template project<typename CONFIG_T::value_t>(&xm[0][0], wv, bv, &v[0][0]);
        unsigned long long e_tab[D + 1];
        for (unsigned i = 0; i <= D; i++) e_tab[i] = (unsigned long long)fixed_mantissa(exp_table[i]);
        unsigned n_valid = 0;
        for (unsigned j = 0; j < L; j++) n_valid += valid[j] ? 1 : 0;
        const unsigned n_row = n_valid < CONFIG_T::top_n ? n_valid : CONFIG_T::top_n;
        unsigned ham[L];
        unsigned kept[L]; // indices of the kept keys, in key order
        for (unsigned h = 0; h < H; h++) {
            for (unsigned i = 0; i < L; i++) {
                // counting top-N (topn_hist + topn_keep): histogram of the valid keys' distances, threshold, keys in
                // order
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
                for (unsigned k = 0; k < n_kept; k++)
                    base::accumulate(e_tab[ham[kept[k]] - hmin], &v[kept[k]][h * D], s, av);
                base::context_row(s, av, recip_table, &ctx[i][h * D]);
            }
        }
        base::output(&ctx[0][0], wo, bo, y);
        return true;
    }
};
#endif

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
AVLanes:
    for (unsigned a = 0; a < CONFIG_T::av_lanes; a++) {
        #pragma HLS UNROLL
        const unsigned pos = g * CONFIG_T::av_lanes + a;
        if (pos < n_kept) av_lane<CONFIG_T>(exp_table[slot_delta[half][pos]], v[a][slot_key[half][pos]], h, s, acc);
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
            if (g == 0) av_clear<CONFIG_T>(s, acc);
            softmax_av_lanes<CONFIG_T>(g, n_kept[half ^ 1], h_prev, half ^ 1, slot_key, slot_delta, v, exp_table, s,
                                       acc);
            if (g == NA - 1) av_word_write<CONFIG_T>(avs, s, acc);
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
// The core's stages: one DATAFLOW region over the memories that load filled (read-only here, one reader each).
template <class res_T, typename CONFIG_T>
void had_attention_stages(const ap_uint<CONFIG_T::embed_dim> q[CONFIG_T::seq_len],
                          const ap_uint<CONFIG_T::embed_dim> k[CONFIG_T::lanes][CONFIG_T::groups],
                          const bool key_valid[CONFIG_T::lanes][CONFIG_T::groups],
                          const typename CONFIG_T::value_t v[CONFIG_T::av_lanes][CONFIG_T::seq_len]
                                                            [CONFIG_T::embed_dim],
                          hls::stream<res_T> &y, ATTENTION_OUTPUT_PARAMS) {
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

// ------------------------------------------------------------------------------------------------ the core
// had_core<CONFIG_T> (the config's `core`): the core as the layer functions of nnet_attention_stages.h call it.
template <typename CONFIG_T> struct had_core {
    // The memories load fills and the stages read: Q and K sign bits (K banked by lane: key j in bank j mod P, row
    // j div P), V in value_t, PA copies (one read port per AV lane).
    typedef ap_uint<CONFIG_T::embed_dim> q_mem[CONFIG_T::seq_len];
    typedef ap_uint<CONFIG_T::embed_dim> k_mem[CONFIG_T::lanes][CONFIG_T::groups];
    typedef typename CONFIG_T::value_t v_mem[CONFIG_T::av_lanes][CONFIG_T::seq_len][CONFIG_T::embed_dim];
#ifndef __SYNTHESIS__
    template <class data_T, class res_T> struct fast : had_fast<data_T, res_T, CONFIG_T> {};
#endif

    // load's last step of token t (key t in lane bank, row): the sign bits of its Q and K, its V in every copy.
    static void store(ATTENTION_STORE_PARAMS) {
        #pragma HLS INLINE
        q[t] = sign_bits<typename CONFIG_T::accum_t, CONFIG_T::embed_dim>(aq);
        k[bank][row] = sign_bits<typename CONFIG_T::accum_t, CONFIG_T::embed_dim>(ak);
    LoadValue:
        for (unsigned a = 0; a < CONFIG_T::av_lanes; a++) {
            #pragma HLS UNROLL
            for (unsigned e = 0; e < CONFIG_T::embed_dim; e++) {
                #pragma HLS UNROLL
                v[a][t][e] = av[e];
            }
        }
    }

    // One input: load fills Q, K (banked by lane), the key-valid bits and V, then the stages run. As in the RTL
    // twin the memories are single (written while the stages are idle): no ping-pong copy of the L x E memories.
    template <class data_T, class res_T> static void dataflow(ATTENTION_DATAFLOW_PARAMS) {
        HAD_CSIM_STATIC q_mem q;
        HAD_CSIM_STATIC k_mem k;
        HAD_CSIM_STATIC bool key_valid[CONFIG_T::lanes][CONFIG_T::groups];
        HAD_CSIM_STATIC v_mem v;
        #pragma HLS ARRAY_PARTITION variable=k dim=1 complete
        #pragma HLS ARRAY_PARTITION variable=key_valid dim=1 complete
        #pragma HLS ARRAY_PARTITION variable=v dim=1 complete
        #pragma HLS ARRAY_RESHAPE variable=v dim=3 complete
        load<data_T, CONFIG_T>(x, valid, q, k, key_valid, v, ATTENTION_QKV_ARGS);
        had_attention_stages<res_T, CONFIG_T>(q, k, key_valid, v, y, ATTENTION_OUTPUT_ARGS);
    }
};

} // namespace nnet

#endif
