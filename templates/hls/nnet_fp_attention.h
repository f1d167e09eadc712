// had-hls: the FP attention baseline, the RTL twin's FP core in HLS (io_stream and io_parallel): standard
// softmax(Q K^T / sqrt(d)) V in fixed point, with the same load, lanes, normaliser and Wo as the HAD layer
// (nnet_had_attention.h). Mirrors golden.attention_trace (kind 'fp'); contract in had_hls/spec.py.
//
// s_ij = q_i . k_j exact (2 F_qk fractional bits); idx = round_half_up((max_j s_ij - s_ij) * inv_sqrt_d >> sh),
// clamped to T - 1; e_j = fp_exp_table[idx]; S and AV over all valid keys; ctx = normalise; y = Wo ctx.
//
//   x tokens -> load --(Q, K banked by lane, key valid, V banked by lane: single memories)-->
//     fp_score_unit --beats--> fp_max_tree --scores (2G + 1)--> fp_exp_index + softmax_av_lanes
//     --{S, acc}--> normalise_row --context--> out_proj -> y tokens
// P lanes of d-term dot products a cycle (P*d multipliers), one job per G = ceil(L/P) cycles: H*G cycles a row.
#ifndef NNET_FP_ATTENTION_H_
#define NNET_FP_ATTENTION_H_

#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"

namespace nnet {

struct fp_attention_config : attention_config {};

#ifndef __SYNTHESIS__
// ---- C-simulation speed-up (g++ only): the whole layer below on integers, bit for bit (see nnet_attention_common.h)
template <class data_T, class res_T, typename CONFIG_T>
struct fp_fast : attention_fast_base<data_T, res_T, CONFIG_T> {
    typedef attention_fast_base<data_T, res_T, CONFIG_T> base;
    typedef fixed_traits<typename CONFIG_T::qk_t> QK;
    typedef fixed_traits<typename CONFIG_T::score_t> SC;
    typedef fixed_traits<typename CONFIG_T::score_diff_t> SD;
    typedef fixed_traits<typename CONFIG_T::index_prod_t> IP;
    typedef typename base::av_word av_word;
    static const bool ok = base::ok && QK::convertible && QK::S && QK::W == (int)CONFIG_T::qk_width && QK::W <= 31 &&
                           SC::S && SC::W <= 127 && SD::S && SD::W <= 95 && IP::S && IP::W <= 127 &&
                           CONFIG_T::inv_sqrt_d < (1UL << 31) && CONFIG_T::index_shift >= 1 &&
                           CONFIG_T::exp_table_size >= 1;

    // The whole layer on integers (weights in (out, in) order), bit for bit; false when !ok (nothing done).
    static bool core(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const bool valid[CONFIG_T::seq_len],
                     res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], ATTENTION_WEIGHT_PARAMS) {
        if (!ok) return false;
        const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
        static long long q[L][E], k[L][E], v[L][E]; // qk_t, qk_t, value_t mantissas
        static double xm[L][E], ctx[L][E];
        base::inputs(x, &xm[0][0]);
        base::template project<typename CONFIG_T::qk_t>(&xm[0][0], wq, bq, &q[0][0]);
        base::template project<typename CONFIG_T::qk_t>(&xm[0][0], wk, bk, &k[0][0]);
        base::template project<typename CONFIG_T::value_t>(&xm[0][0], wv, bv, &v[0][0]);
        const unsigned SH = CONFIG_T::index_shift;
        // score_t sums and av_acc_t sums modulo 2^64 while they are <= 64 bits wide, else modulo 2^128
        typedef typename modular_word<SC::W>::type score_word;
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
                    base::accumulate(e, &v[j][h * D], total, av);
                }
                base::context_row(total, av, recip_table, &ctx[i][h * D]);
            }
        }
        base::output(&ctx[0][0], wo, bo, y);
        return true;
    }
};
#endif

// ------------------------------------------------------------------------------------------------ scores
template <typename CONFIG_T> struct score_beat {
    typename CONFIG_T::score_t s[CONFIG_T::lanes];
    bool valid[CONFIG_T::lanes];
};

template <typename CONFIG_T> struct score_max {
    typename CONFIG_T::score_t smax;
};

// fp_score_unit: P lanes of d-term dot products a cycle (P*d multipliers, exact score_t), lane p = key g*P + p.
template <typename CONFIG_T>
void fp_score_unit(const ap_int<CONFIG_T::qk_width> q[CONFIG_T::seq_len][CONFIG_T::embed_dim],
                   const ap_int<CONFIG_T::qk_width> k[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
                   const bool key_valid[CONFIG_T::lanes][CONFIG_T::groups], hls::stream<score_beat<CONFIG_T> > &beats) {
    const unsigned P = CONFIG_T::lanes, G = CONFIG_T::groups, D = CONFIG_T::head_dim;
    unsigned i = 0, h = 0, g = 0;
ScoreBeats:
    for (unsigned c = 0; c < CONFIG_T::jobs * G; c++) {
        #pragma HLS PIPELINE II=1
        score_beat<CONFIG_T> b;
    ScoreLanes:
        for (unsigned p = 0; p < P; p++) {
            #pragma HLS UNROLL
            typename CONFIG_T::score_t dot = 0;
        ScoreTerms:
            for (unsigned e = 0; e < D; e++) {
                #pragma HLS UNROLL
                dot += q[i][h * D + e] * k[p][g][h * D + e];
            }
            b.s[p] = dot;
            b.valid[p] = g * P + p < CONFIG_T::seq_len && key_valid[p][g];
        }
        beats.write(b);
        next_beat<CONFIG_T>(i, h, g);
    }
}

// fp_max_tree: the running max of the job's valid scores; the beats go on to the score FIFO, the max follows the
// job's last beat.
template <typename CONFIG_T>
void fp_max_tree(hls::stream<score_beat<CONFIG_T> > &beats, hls::stream<score_beat<CONFIG_T> > &scores,
                   hls::stream<score_max<CONFIG_T> > &maxima) {
    const unsigned P = CONFIG_T::lanes, G = CONFIG_T::groups;
    typename CONFIG_T::score_t smax = 0;
    bool any = false;
    unsigned g = 0;
MaxBeats:
    for (unsigned c = 0; c < CONFIG_T::jobs * G; c++) {
        #pragma HLS PIPELINE II=1
        const score_beat<CONFIG_T> b = beats.read();
        if (g == 0) any = false;
    MaxLanes:
        for (unsigned p = 0; p < P; p++) {
            #pragma HLS UNROLL
            if (b.valid[p] && (!any || b.s[p] > smax)) {
                smax = b.s[p];
                any = true;
            }
        }
        scores.write(b);
        if (g == G - 1) {
            score_max<CONFIG_T> m;
            m.smax = smax;
            maxima.write(m);
            g = 0;
        } else {
            g++;
        }
    }
}

// fp_exp_index: idx = min(T - 1, round_half_up((smax - s) inv_sqrt_d >> sh)).
template <typename CONFIG_T>
unsigned fp_exp_index(const typename CONFIG_T::score_t smax, const typename CONFIG_T::score_t s) {
    #pragma HLS INLINE
    typename CONFIG_T::score_diff_t diff = smax - s;
    typename CONFIG_T::index_prod_t scaled = diff * typename CONFIG_T::index_prod_t(CONFIG_T::inv_sqrt_d);
    scaled += typename CONFIG_T::index_prod_t(1) << (CONFIG_T::index_shift - 1);
    scaled >>= CONFIG_T::index_shift;
    return scaled >= CONFIG_T::exp_table_size ? CONFIG_T::exp_table_size - 1 : unsigned(scaled);
}

// The dense softmax_av_lanes: the P keys of beat g (V bank p, row g), e for every valid key, S += e, acc += e v.
template <typename CONFIG_T>
void softmax_av_lanes(const score_beat<CONFIG_T> &b, const typename CONFIG_T::score_t smax, const unsigned g,
                      const unsigned h,
                      const typename CONFIG_T::value_t v[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
                      const typename CONFIG_T::exp_t exp_table[CONFIG_T::exp_table_size], typename CONFIG_T::sum_t &s,
                      typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim]) {
    #pragma HLS INLINE
AVLanes:
    for (unsigned p = 0; p < CONFIG_T::lanes; p++) {
        #pragma HLS UNROLL
        if (b.valid[p]) av_lane<CONFIG_T>(exp_table[fp_exp_index<CONFIG_T>(smax, b.s[p])], v[p][g], h, s, acc);
    }
}

// The second pass over a job's stored beats (II = 1, P table reads a cycle: a multi-port ROM).
template <typename CONFIG_T>
void fp_exp_softmax_av(hls::stream<score_beat<CONFIG_T> > &scores, hls::stream<score_max<CONFIG_T> > &maxima,
                       const typename CONFIG_T::value_t v[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
                       const typename CONFIG_T::exp_t exp_table[CONFIG_T::exp_table_size],
                       hls::stream<av_word<CONFIG_T> > &avs) {
    #pragma HLS BIND_STORAGE variable=exp_table type=rom_np impl=bram
    const unsigned G = CONFIG_T::groups, D = CONFIG_T::head_dim;
    typename CONFIG_T::score_t smax = 0;
    typename CONFIG_T::sum_t s = 0;
    typename CONFIG_T::av_acc_t acc[D];
    #pragma HLS ARRAY_PARTITION variable=acc complete
    unsigned g = 0, h = 0;
ExpAV:
    for (unsigned c = 0; c < CONFIG_T::jobs * G; c++) {
        #pragma HLS PIPELINE II=1
        if (g == 0) {
            smax = maxima.read().smax;
            av_clear<CONFIG_T>(s, acc);
        }
        const score_beat<CONFIG_T> b = scores.read();
        softmax_av_lanes<CONFIG_T>(b, smax, g, h, v, exp_table, s, acc);
        if (g == G - 1) {
            av_word_write<CONFIG_T>(avs, s, acc);
            g = 0;
            h = h == CONFIG_T::num_heads - 1 ? 0 : h + 1;
        } else {
            g++;
        }
    }
}

// ------------------------------------------------------------------------------------------------ the core
// The core's stages: one DATAFLOW region over the memories that load filled (read-only here, one reader each).
template <class res_T, typename CONFIG_T>
void fp_attention_stages(const ap_int<CONFIG_T::qk_width> q[CONFIG_T::seq_len][CONFIG_T::embed_dim],
                         const ap_int<CONFIG_T::qk_width> k[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
                         const bool key_valid[CONFIG_T::lanes][CONFIG_T::groups],
                         const typename CONFIG_T::value_t v[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
                         hls::stream<res_T> &y, ATTENTION_OUTPUT_PARAMS) {
    #pragma HLS DATAFLOW
    const unsigned BEATS_DEPTH = CONFIG_T::beats_fifo_depth, SCORES_DEPTH = CONFIG_T::scores_fifo_depth;
    const unsigned THRESH_DEPTH = CONFIG_T::thresholds_fifo_depth, AV_DEPTH = CONFIG_T::av_fifo_depth;
    const unsigned CTX_DEPTH = CONFIG_T::context_fifo_depth;
    hls::stream<score_beat<CONFIG_T> > beats("fp_beats");
    hls::stream<score_beat<CONFIG_T> > scores("fp_scores");
    hls::stream<score_max<CONFIG_T> > maxima("fp_maxima");
    hls::stream<av_word<CONFIG_T> > avs("fp_av");
    hls::stream<context_word<CONFIG_T> > ctx("fp_context");
    #pragma HLS STREAM variable=beats depth=BEATS_DEPTH
    #pragma HLS STREAM variable=scores depth=SCORES_DEPTH
    #pragma HLS STREAM variable=maxima depth=THRESH_DEPTH
    #pragma HLS STREAM variable=avs depth=AV_DEPTH
    #pragma HLS STREAM variable=ctx depth=CTX_DEPTH
    fp_score_unit<CONFIG_T>(q, k, key_valid, beats);
    fp_max_tree<CONFIG_T>(beats, scores, maxima);
    fp_exp_softmax_av<CONFIG_T>(scores, maxima, v, exp_table, avs);
    normalise_row<CONFIG_T>(avs, recip_table, ctx);
    out_proj<res_T, CONFIG_T>(ctx, y, wo, bo);
}

// ------------------------------------------------------------------------------------------------ the core
// fp_core<CONFIG_T> (the config's `core`): the core as the layer functions of nnet_attention_stages.h call it.
template <typename CONFIG_T> struct fp_core {
    // The memories load fills and the stages read: Q, and K and V banked by lane (key j in bank j mod P, row j div
    // P: the score lanes and the dense AV read the P keys of a beat, one per bank), Q and K as qk_t mantissas.
    typedef ap_int<CONFIG_T::qk_width> q_mem[CONFIG_T::seq_len][CONFIG_T::embed_dim];
    typedef ap_int<CONFIG_T::qk_width> k_mem[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim];
    typedef typename CONFIG_T::value_t v_mem[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim];
#ifndef __SYNTHESIS__
    template <class data_T, class res_T> struct fast : fp_fast<data_T, res_T, CONFIG_T> {};
#endif

    // load's last step of token t (key t in lane bank, row): its Q and K as qk_t mantissas, its V.
    static void store(ATTENTION_STORE_PARAMS) {
        #pragma HLS INLINE
        const unsigned QW = CONFIG_T::qk_width;
    LoadStore:
        for (unsigned e = 0; e < CONFIG_T::embed_dim; e++) {
            #pragma HLS UNROLL
            q[t][e] = mantissa_of<QW>(typename CONFIG_T::qk_t(aq[e]));
            k[bank][row][e] = mantissa_of<QW>(typename CONFIG_T::qk_t(ak[e]));
            v[bank][row][e] = av[e];
        }
    }

    // One input: load fills Q, K and V (banked by lane) and the key-valid bits, then the stages run (single
    // memories, as the RTL twin's).
    template <class data_T, class res_T> static void dataflow(ATTENTION_DATAFLOW_PARAMS) {
        HAD_CSIM_STATIC q_mem q;
        HAD_CSIM_STATIC k_mem k;
        HAD_CSIM_STATIC bool key_valid[CONFIG_T::lanes][CONFIG_T::groups];
        HAD_CSIM_STATIC v_mem v;
        #pragma HLS ARRAY_RESHAPE variable=q dim=2 complete
        #pragma HLS ARRAY_PARTITION variable=k dim=1 complete
        #pragma HLS ARRAY_RESHAPE variable=k dim=3 complete
        #pragma HLS ARRAY_PARTITION variable=key_valid dim=1 complete
        #pragma HLS ARRAY_PARTITION variable=v dim=1 complete
        #pragma HLS ARRAY_RESHAPE variable=v dim=3 complete
        load<data_T, CONFIG_T>(x, valid, q, k, key_valid, v, ATTENTION_QKV_ARGS);
        fp_attention_stages<res_T, CONFIG_T>(q, k, key_valid, v, y, ATTENTION_OUTPUT_ARGS);
    }
};

} // namespace nnet

#endif
