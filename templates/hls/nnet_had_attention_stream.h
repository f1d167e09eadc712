// had-hls: HAD attention in io_stream, three layers under the top-level DATAFLOW, connected by hls::stream:
//
//   x tokens --> hamming_score_stream --(one row of L Hamming distances per (query i, head h))-->
//            topn_select_stream --(N slots {valid, key index, ham - ham_min} per row)-->
//            sparse_softmax_av_stream (+ x tokens again, for V) --> y tokens
//
// No L x L score buffer exists: a row of L distances lives only between the score and top-N layers (one FIFO
// element), the K memory is L x H x d bits. Arithmetic identical to nnet_had_attention.h / golden.attention_trace;
// padded keys travel as the distance d + 1, which the top-N layer never keeps.
#ifndef NNET_HAD_ATTENTION_STREAM_H_
#define NNET_HAD_ATTENTION_STREAM_H_

#include "hls_stream.h"
#include "nnet_attention_common.h"
#include "nnet_hamming.h"
#include "nnet_topn_select.h"

namespace nnet {

struct hamming_score_stream_config {
    static const unsigned seq_len = 8;
    static const unsigned embed_dim = 8;
    static const unsigned num_heads = 1;
    static const unsigned head_dim = 8;
};

// Layer 1: Q/K projections to sign bits (the K bit memory), then one row of L distances per (i, h).
template <class data_T, class res_T, typename CONFIG_T>
void hamming_score_stream_core(hls::stream<data_T> &x, const bool valid[CONFIG_T::seq_len], hls::stream<res_T> &scores,
                               const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                               const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                               const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                               const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim]) {
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename data_T::value_type in_t;
    ap_uint<D> qbits[L][H], kbits[L][H];
    accum_t acc[E];
    in_t token[E];
ReadTokens:
    for (unsigned t = 0; t < L; t++) {
        data_T in = x.read();
        for (unsigned c = 0; c < E; c++) token[c] = in[c];
        project_token<in_t, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(token, wq, bq, acc);
        for (unsigned h = 0; h < H; h++) qbits[t][h] = sign_bits<accum_t, D>(&acc[h * D]);
        project_token<in_t, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(token, wk, bk, acc);
        for (unsigned h = 0; h < H; h++) kbits[t][h] = sign_bits<accum_t, D>(&acc[h * D]);
    }
ScoreRows:
    for (unsigned i = 0; i < L; i++) {
        for (unsigned h = 0; h < H; h++) {
            res_T row;
        Keys:
            for (unsigned j = 0; j < L; j++) {
                #pragma HLS PIPELINE II=1
                row[j] = valid[j] ? typename res_T::value_type(hamming_distance<D, typename CONFIG_T::ham_t>(qbits[i][h], kbits[j][h]))
                                  : typename res_T::value_type(D + 1);
            }
            scores.write(row);
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void hamming_score_stream(hls::stream<data_T> &x, hls::stream<res_T> &scores,
                          const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                          const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                          const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                          const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim]) {
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = true;
    hamming_score_stream_core<data_T, res_T, CONFIG_T>(x, valid, scores, wq, bq, wk, bk);
}

template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void hamming_score_stream_masked(hls::stream<data_T> &x, hls::stream<mask_T> &mask, hls::stream<res_T> &scores,
                                 const typename CONFIG_T::weight_t wq[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                                 const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],
                                 const typename CONFIG_T::weight_t wk[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                                 const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim]) {
    bool valid[CONFIG_T::seq_len];
    mask_T m = mask.read();
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = m[j] == 0;
    hamming_score_stream_core<data_T, res_T, CONFIG_T>(x, valid, scores, wq, bq, wk, bk);
}

// Layer 2: counting top-N of one row (nnet_topn_select.h), emitted as N slots in key order:
// slot = valid << (index_bits + ham_bits) | key index << ham_bits | (ham - min kept ham).
template <class data_T, class res_T, typename CONFIG_T>
void topn_select_stream(hls::stream<data_T> &scores, hls::stream<res_T> &selected) {
    const unsigned L = CONFIG_T::seq_len, D = CONFIG_T::head_dim;
    const unsigned HB = CONFIG_T::ham_bits, IB = CONFIG_T::index_bits;
Rows:
    for (unsigned r = 0; r < L * CONFIG_T::num_heads; r++) {
        data_T row = scores.read();
        typename CONFIG_T::ham_t ham[L];
        bool valid[L], kept[L];
        for (unsigned j = 0; j < L; j++) {
            #pragma HLS UNROLL
            ham[j] = row[j];
            valid[j] = row[j] <= D;
        }
        topn_select_row<CONFIG_T>(ham, valid, kept);
        typename CONFIG_T::ham_t hmin = D;
    MinKept:
        for (unsigned j = 0; j < L; j++) {
            #pragma HLS PIPELINE II=1
            if (kept[j] && ham[j] < hmin) hmin = ham[j];
        }
        res_T out;
        unsigned slot = 0;
    Emit:
        for (unsigned j = 0; j < L; j++) {
            #pragma HLS PIPELINE II=1
            if (kept[j]) {
                typename res_T::value_type word = 1;
                word = (word << IB) | j;
                word = (word << HB) | (ham[j] - hmin);
                out[slot++] = word;
            }
        }
        for (; slot < CONFIG_T::top_n; slot++) out[slot] = 0; // fewer valid keys than N: empty slots
        selected.write(out);
    }
}

// Layer 3: V projection (buffered, L x E), then per query token: for each head the sparse softmax-AV over the
// N slots and the reciprocal normalisation, then Wo; one output token per query.
template <class sel_T, class data_T, class res_T, typename CONFIG_T>
void sparse_softmax_av_stream(hls::stream<sel_T> &selected, hls::stream<data_T> &x, hls::stream<res_T> &y,
                              const typename CONFIG_T::weight_t wv[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                              const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim],
                              const typename CONFIG_T::weight_t wo[CONFIG_T::embed_dim * CONFIG_T::embed_dim],
                              const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim],
                              const typename CONFIG_T::exp_t exp_table[CONFIG_T::head_dim + 1],
                              const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits]) {
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, H = CONFIG_T::num_heads, D = CONFIG_T::head_dim;
    const unsigned HB = CONFIG_T::ham_bits, IB = CONFIG_T::index_bits;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename data_T::value_type in_t;
    static typename CONFIG_T::value_t v[L][E];
    accum_t acc[E];
    in_t token[E];
ValueTokens:
    for (unsigned t = 0; t < L; t++) {
        data_T in = x.read();
        for (unsigned c = 0; c < E; c++) token[c] = in[c];
        project_token<in_t, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(token, wv, bv, acc);
        for (unsigned o = 0; o < E; o++) v[t][o] = acc[o];
    }
    typename CONFIG_T::context_t ctx[E];
Queries:
    for (unsigned i = 0; i < L; i++) {
        for (unsigned h = 0; h < H; h++) {
            sel_T sel = selected.read();
            typename CONFIG_T::sum_t s = 0;
            typename CONFIG_T::av_acc_t av[D];
            for (unsigned c = 0; c < D; c++) av[c] = 0;
        Slots:
            for (unsigned n = 0; n < CONFIG_T::top_n; n++) {
                #pragma HLS PIPELINE II=1
                typename sel_T::value_type word = sel[n];
                if (!word[IB + HB]) continue;
                unsigned j = word.range(IB + HB - 1, HB);
                unsigned delta = word.range(HB - 1, 0);
                typename CONFIG_T::exp_t e = exp_table[delta];
                s += e;
                for (unsigned c = 0; c < D; c++) av[c] += e * mantissa_of<CONFIG_T::value_width>(v[j][h * D + c]);
            }
            normalise_row<CONFIG_T>(s, av, recip_table, &ctx[h * D]);
        }
        project_token<typename CONFIG_T::context_t, typename CONFIG_T::weight_t, typename CONFIG_T::bias_t, accum_t, E, E>(
            ctx, wo, bo, acc);
        res_T out;
        for (unsigned o = 0; o < E; o++) out[o] = acc[o];
        y.write(out);
    }
}

} // namespace nnet

#endif
