// had-hls: the FP attention baseline, the RTL twin's FP core in HLS (io_stream and io_parallel): standard
// softmax(Q K^T / sqrt(d)) V in fixed point, with the same load, lanes, normaliser and Wo as the HAD layer
// (nnet_had_attention.h). Mirrors golden.attention_trace (kind 'fp'); contract in had_hls/spec.py.
//
// s_ij = q_i . k_j exact (2 F_qk fractional bits); idx = round_half_up((max_j s_ij - s_ij) * inv_sqrt_d >> sh),
// clamped to T - 1; e_j = fp_exp_table[idx]; S and AV over all valid keys; ctx = normalise; y = Wo ctx.
//
//   x tokens -> fp_load --(Q, K banked by lane, key valid, V banked by lane: single memories)-->
//     fp_score_unit --beats--> fp_max_tree --scores (2G + 1)--> fp_exp_index + softmax_av_lanes
//     --{S, acc}--> normalise_row --context--> out_proj -> y tokens
// P lanes of d-term dot products a cycle (P*d multipliers), one job per G = ceil(L/P) cycles: H*G cycles a row.
#ifndef NNET_FP_ATTENTION_H_
#define NNET_FP_ATTENTION_H_

#include "nnet_attention_common.h"
#include "nnet_attention_stages.h"

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


// ------------------------------------------------------------------------------------------------ load
// As had_load, but Q and K are kept as qk_t mantissas, and V is banked by lane like K (the dense AV reads the P keys
// of a beat, one per bank).
template <class data_T, typename CONFIG_T>
void fp_load(hls::stream<data_T> &x, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid_in,
             ap_int<CONFIG_T::qk_width> q[CONFIG_T::seq_len][CONFIG_T::embed_dim],
             ap_int<CONFIG_T::qk_width> k[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
             bool key_valid[CONFIG_T::lanes][CONFIG_T::groups],
             typename CONFIG_T::value_t v[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
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
    const unsigned QW = CONFIG_T::qk_width;
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
        LoadStore:
            for (unsigned e = 0; e < E; e++) {
                #pragma HLS UNROLL
                q[t][e] = mantissa_of<QW>(typename CONFIG_T::qk_t(aq[e]));
                k[bank][row][e] = mantissa_of<QW>(typename CONFIG_T::qk_t(ak[e]));
                v[bank][row][e] = av[e];
            }
            key_valid[bank][row] = valid[t];
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
        if (++g == G) {
            g = 0;
            if (++h == CONFIG_T::num_heads) {
                h = 0;
                i++;
            }
        }
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
    const unsigned D = CONFIG_T::head_dim;
AVLanes:
    for (unsigned p = 0; p < CONFIG_T::lanes; p++) {
        #pragma HLS UNROLL
        if (b.valid[p]) {
            const typename CONFIG_T::exp_t e = exp_table[fp_exp_index<CONFIG_T>(smax, b.s[p])];
            s += e;
        AVElements:
            for (unsigned c = 0; c < D; c++) {
                #pragma HLS UNROLL
                acc[c] += e * mantissa_of<CONFIG_T::value_width>(v[p][g][h * D + c]);
            }
        }
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
            s = 0;
        AVClear:
            for (unsigned k = 0; k < D; k++) {
                #pragma HLS UNROLL
                acc[k] = 0;
            }
        }
        const score_beat<CONFIG_T> b = scores.read();
        softmax_av_lanes<CONFIG_T>(b, smax, g, h, v, exp_table, s, acc);
        if (g == G - 1) {
            av_word<CONFIG_T> w;
            w.s = s;
        AVWord:
            for (unsigned k = 0; k < D; k++) {
                #pragma HLS UNROLL
                w.acc[k] = acc[k];
            }
            avs.write(w);
            g = 0;
            h = h == CONFIG_T::num_heads - 1 ? 0 : h + 1;
        } else {
            g++;
        }
    }
}

// ------------------------------------------------------------------------------------------------ the core
// The core's stages: one DATAFLOW region over the memories that fp_load filled (read-only here, one reader each).
template <class res_T, typename CONFIG_T>
void fp_attention_stages(const ap_int<CONFIG_T::qk_width> q[CONFIG_T::seq_len][CONFIG_T::embed_dim],
                         const ap_int<CONFIG_T::qk_width> k[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
                         const bool key_valid[CONFIG_T::lanes][CONFIG_T::groups],
                         const typename CONFIG_T::value_t v[CONFIG_T::lanes][CONFIG_T::groups][CONFIG_T::embed_dim],
                         hls::stream<res_T> &y, const typename CONFIG_T::weight_t *wo,
                         const typename CONFIG_T::bias_t *bo, const typename CONFIG_T::exp_t *exp_table,
                         const typename CONFIG_T::recip_t *recip_table) {
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

// One input: fp_load fills Q, K and V (banked by lane) and the key-valid bits, then the stages run (single memories,
// as the RTL twin's).
template <class data_T, class res_T, typename CONFIG_T>
void fp_attention_dataflow(hls::stream<data_T> &x, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid,
                           hls::stream<res_T> &y,
                           const typename CONFIG_T::weight_t *wq, const typename CONFIG_T::bias_t *bq,
                           const typename CONFIG_T::weight_t *wk, const typename CONFIG_T::bias_t *bk,
                           const typename CONFIG_T::weight_t *wv, const typename CONFIG_T::bias_t *bv,
                           const typename CONFIG_T::weight_t *wo, const typename CONFIG_T::bias_t *bo,
                           const typename CONFIG_T::exp_t *exp_table, const typename CONFIG_T::recip_t *recip_table) {
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, P = CONFIG_T::lanes, G = CONFIG_T::groups;
    const unsigned QW = CONFIG_T::qk_width;
    HAD_CSIM_STATIC ap_int<QW> q[L][E];
    HAD_CSIM_STATIC ap_int<QW> k[P][G][E];
    HAD_CSIM_STATIC bool key_valid[P][G];
    HAD_CSIM_STATIC typename CONFIG_T::value_t v[P][G][E];
    #pragma HLS ARRAY_RESHAPE variable=q dim=2 complete
    #pragma HLS ARRAY_PARTITION variable=k dim=1 complete
    #pragma HLS ARRAY_RESHAPE variable=k dim=3 complete
    #pragma HLS ARRAY_PARTITION variable=key_valid dim=1 complete
    #pragma HLS ARRAY_PARTITION variable=v dim=1 complete
    #pragma HLS ARRAY_RESHAPE variable=v dim=3 complete
    fp_load<data_T, CONFIG_T>(x, valid, q, k, key_valid, v, wq, bq, wk, bk, wv, bv);
    fp_attention_stages<res_T, CONFIG_T>(q, k, key_valid, v, y, wo, bo, exp_table, recip_table);
}

#ifndef __SYNTHESIS__
// The fast C-sim core on arrays (weights back in (out, in) order); mask: null = no padding, else mask[j] != 0 pads
// key j. Called only when fp_fast<...>::ok (its types are modelled); returns that.
template <class data_T, class res_T, typename CONFIG_T, class mask_T>
bool fp_attention_fast(const data_T *x, const mask_T *mask, res_T *y, const typename CONFIG_T::weight_t *wq,
                        const typename CONFIG_T::bias_t *bq, const typename CONFIG_T::weight_t *wk,
                        const typename CONFIG_T::bias_t *bk, const typename CONFIG_T::weight_t *wv,
                        const typename CONFIG_T::bias_t *bv, const typename CONFIG_T::weight_t *wo,
                        const typename CONFIG_T::bias_t *bo, const typename CONFIG_T::exp_t *exp_table,
                        const typename CONFIG_T::recip_t *recip_table) {
    typedef typename CONFIG_T::proj_config PC;
    typedef typename CONFIG_T::wo_config WC_T;
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = mask == 0 || mask[j] == 0;
    return fast_fp_attention_core<data_T, res_T, CONFIG_T>(
        x, valid, y, row_major_weights<PC>(wq), bq, row_major_weights<PC>(wk), bk, row_major_weights<PC>(wv), bv,
        row_major_weights<WC_T>(wo), bo, exp_table, recip_table);
}

// The same on the L tokens of a stream layer and its mask word (mask null: no mask stream).
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
bool fp_attention_fast_stream(hls::stream<data_T> &x, hls::stream<mask_T> *mask, hls::stream<res_T> &y,
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
    const bool ok = fp_attention_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(
        xa, pad, ya, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);
    csim_write_tokens<res_T, CONFIG_T>(ya, y);
    return ok;
}
#endif

// ------------------------------------------------------------------------------------------------ layer functions
#define FP_ATTENTION_WEIGHT_PARAMS                                                                                     \
    const typename CONFIG_T::weight_t *wq, const typename CONFIG_T::bias_t *bq, const typename CONFIG_T::weight_t *wk, \
        const typename CONFIG_T::bias_t *bk, const typename CONFIG_T::weight_t *wv,                                    \
        const typename CONFIG_T::bias_t *bv, const typename CONFIG_T::weight_t *wo,                                    \
        const typename CONFIG_T::bias_t *bo, const typename CONFIG_T::exp_t *exp_table,                                \
        const typename CONFIG_T::recip_t *recip_table
#define FP_ATTENTION_WEIGHT_ARGS wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table

template <class data_T, class res_T, typename CONFIG_T>
void fp_attention(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                  res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], FP_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((fp_fast<data_T, res_T, CONFIG_T>::ok),
                  (fp_attention_fast<data_T, res_T, CONFIG_T>(x, (const ap_uint<1> *)0, y, FP_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<array<data_T, CONFIG_T::embed_dim> > xs("fp_tokens_in");
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("fp_valid");
    hls::stream<array<res_T, CONFIG_T::embed_dim> > ys("fp_tokens_out");
    tokens_from_array<data_T, CONFIG_T>(x, xs);
    valid_word_all<CONFIG_T>(valid);
    fp_attention_dataflow<array<data_T, CONFIG_T::embed_dim>, array<res_T, CONFIG_T::embed_dim>, CONFIG_T>(
        xs, valid, ys, FP_ATTENTION_WEIGHT_ARGS);
    tokens_to_array<res_T, CONFIG_T>(ys, y);
    HAD_CSIM_FAST_END
}

template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void fp_attention_masked(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const mask_T mask[CONFIG_T::seq_len],
                         res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], FP_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((fp_fast<data_T, res_T, CONFIG_T>::ok),
                  (fp_attention_fast<data_T, res_T, CONFIG_T>(x, mask, y, FP_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<array<data_T, CONFIG_T::embed_dim> > xs("fp_tokens_in");
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("fp_valid");
    hls::stream<array<res_T, CONFIG_T::embed_dim> > ys("fp_tokens_out");
    tokens_from_array<data_T, CONFIG_T>(x, xs);
    valid_word_from_array<mask_T, CONFIG_T>(mask, valid);
    fp_attention_dataflow<array<data_T, CONFIG_T::embed_dim>, array<res_T, CONFIG_T::embed_dim>, CONFIG_T>(
        xs, valid, ys, FP_ATTENTION_WEIGHT_ARGS);
    tokens_to_array<res_T, CONFIG_T>(ys, y);
    HAD_CSIM_FAST_END
}

template <class data_T, class res_T, typename CONFIG_T>
void fp_attention_stream(hls::stream<data_T> &x, hls::stream<res_T> &y, FP_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((fp_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::ok),
                  (fp_attention_fast_stream<data_T, array<ap_uint<1>, 1>, res_T, CONFIG_T>(x, 0, y,
                                                                                FP_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("fp_valid");
    valid_word_all<CONFIG_T>(valid);
    fp_attention_dataflow<data_T, res_T, CONFIG_T>(x, valid, y, FP_ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void fp_attention_stream_masked(hls::stream<data_T> &x, hls::stream<mask_T> &mask, hls::stream<res_T> &y,
                                FP_ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((fp_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>::ok),
                  (fp_attention_fast_stream<data_T, mask_T, res_T, CONFIG_T>(x, &mask, y, FP_ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("fp_valid");
    valid_word_from_stream<mask_T, CONFIG_T>(mask, valid);
    fp_attention_dataflow<data_T, res_T, CONFIG_T>(x, valid, y, FP_ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

#undef FP_ATTENTION_WEIGHT_PARAMS
#undef FP_ATTENTION_WEIGHT_ARGS

} // namespace nnet

#endif
