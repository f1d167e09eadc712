// had-hls: the parts of the attention cores that the HAD and FP layers share, written as DATAFLOW processes:
//   dense_token_step   one step of a token projection with hls4ml's ReuseFactor / Strategy (load, out_proj, and the
//                      per-token layers of nnet_had_encoder.h)
//   load               the L input tokens projected to Q, K, V, kept in the core's memories (its `store`)
//   normalise_row      the reciprocal-table normalisation, DN elements a cycle
//   out_proj           Wo over a context row, PO inputs a cycle (ping-pong row buffer)
//   tokens_from_array / tokens_to_array / valid_word_*: the io_parallel and mask adapters around a stream core
//   attention / attention_masked / attention_stream / attention_stream_masked: the layer functions hls4ml calls,
//                      one template each for both cores (CONFIG_T::core: had_core, nnet_had_attention.h, or fp_core,
//                      nnet_fp_attention.h), with ATTENTION_WEIGHT_PARAMS, the one weight/table signature
// Every number (P, PA, DN, PO, FIFO depths, the projection steps) is a static const of CONFIG_T, derived once in
// had_hls/hls/schedule.py; the stage names are the RTL twin's module names (templates/rtl/). Arithmetic contract:
// had_hls/spec.py, mirrored by had_hls/golden.py.
#ifndef NNET_ATTENTION_STAGES_H_
#define NNET_ATTENTION_STAGES_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"
#include "nnet_attention_common.h"
#include "nnet_common.h"
#include "nnet_types.h"
#ifndef __SYNTHESIS__
#include <map>
#include <vector>
#endif

// Channel arrays of the DATAFLOW regions are local, non-static variables in synthesis (UG1399's canonical form);
// in C simulation they are static so that long sequences do not overflow the stack (every call rewrites them fully
// before reading, so no state carries over).
#ifndef __SYNTHESIS__
#define HAD_CSIM_STATIC static
#else
#define HAD_CSIM_STATIC
#endif

namespace nnet {

// The shapes every attention config struct has (had_attention_config, fp_attention_config add their own; the
// per-layer config structs that had_hls/hls/attention_layers.py writes give every number).
struct attention_config {
    static const unsigned seq_len = 8;
    static const unsigned embed_dim = 8;
    static const unsigned num_heads = 1;
    static const unsigned head_dim = 8;
};

// ------------------------------------------------------------------------------------------------ weights
// The weights and tables of an attention layer, in the order hls4ml passes them (had_hls/hls/attention_layers.py):
// the Q/K/V projections (cycle-major, as load reads them), Wo (cycle-major, as out_proj reads it), the exp and the
// reciprocal table. Every function that takes them declares them with ATTENTION_WEIGHT_PARAMS (CONFIG_T: the layer's
// config struct) and passes them on with ATTENTION_WEIGHT_ARGS; load takes the first six (ATTENTION_QKV_*), the
// stages after it the last four (ATTENTION_OUTPUT_*). The fast C-sim cores get the same names for row-major copies
// of the projections (n_in * n_out <= cycles * block words).
#define ATTENTION_QKV_PARAMS                                                                                           \
    const typename CONFIG_T::weight_t wq[CONFIG_T::proj_config::cycles * CONFIG_T::proj_config::block],                \
        const typename CONFIG_T::bias_t bq[CONFIG_T::embed_dim],                                                       \
        const typename CONFIG_T::weight_t wk[CONFIG_T::proj_config::cycles * CONFIG_T::proj_config::block],            \
        const typename CONFIG_T::bias_t bk[CONFIG_T::embed_dim],                                                       \
        const typename CONFIG_T::weight_t wv[CONFIG_T::proj_config::cycles * CONFIG_T::proj_config::block],            \
        const typename CONFIG_T::bias_t bv[CONFIG_T::embed_dim]
#define ATTENTION_OUTPUT_PARAMS                                                                                        \
    const typename CONFIG_T::weight_t wo[CONFIG_T::wo_config::cycles * CONFIG_T::wo_config::block],                    \
        const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim], const typename CONFIG_T::exp_t *exp_table,            \
        const typename CONFIG_T::recip_t *recip_table
#define ATTENTION_WEIGHT_PARAMS ATTENTION_QKV_PARAMS, ATTENTION_OUTPUT_PARAMS
#define ATTENTION_QKV_ARGS wq, bq, wk, bk, wv, bv
#define ATTENTION_OUTPUT_ARGS wo, bo, exp_table, recip_table
#define ATTENTION_WEIGHT_ARGS ATTENTION_QKV_ARGS, ATTENTION_OUTPUT_ARGS

// The members every core (CONFIG_T::core: had_core, fp_core) defines with these parameters: store (load's last step
// of token t, key t in lane bank, row: what the core's memories keep of its projections aq, ak, av) and
// dataflow<data_T, res_T> (one input: load, then the core's stages).
#define ATTENTION_STORE_PARAMS                                                                                         \
    const unsigned t, const unsigned bank, const unsigned row,                                                         \
        const typename CONFIG_T::accum_t aq[CONFIG_T::embed_dim],                                                      \
        const typename CONFIG_T::accum_t ak[CONFIG_T::embed_dim],                                                      \
        const typename CONFIG_T::accum_t av[CONFIG_T::embed_dim], q_mem q, k_mem k, v_mem v
#define ATTENTION_DATAFLOW_PARAMS                                                                                      \
    hls::stream<data_T> &x, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid, hls::stream<res_T> &y,                   \
        ATTENTION_WEIGHT_PARAMS

// ------------------------------------------------------------------------------------------------ projections
// One token through an n_out x n_in projection in `cycles` steps of `block` MACs
// (had_hls.hls.projection_plan.ProjectionPlan):
//   inputs_per_cycle BI > 0: step t multiplies inputs t*BI .. t*BI + BI - 1 with every output;
//   BI = 0 (ReuseFactor = c * n_in): step t = ob * n_in + i multiplies input i with outputs ob*BO .. ob*BO + BO - 1.
// Every output starts from its bias and accumulates its inputs in order 0..n_in-1, each += converted to acc_T (the
// order of golden.project, so any accum type is bit-exact). Weights are cycle-major: step t reads
// w[t*block .. t*block + block - 1] (lane = o*BI + k, or m), one word of ARRAY_RESHAPE cyclic factor=block.
// Strategy Resource: II = 1, `cycles` = ReuseFactor steps of n_in*n_out/RF MACs (hls4ml's dense_resource);
// Latency: one step of all n_in*n_out MACs at II = ReuseFactor with multiplier_limit multipliers (dense_latency).
// `ii` is the II of the token loop around dense_token_step.
struct dense_token_config {
    static const unsigned n_in = 8;
    static const unsigned n_out = 8;
    static const unsigned reuse_factor = 1;
    static const unsigned strategy = resource;
    static const unsigned n_zeros = 0;
    static const unsigned inputs_per_cycle = 8;
    static const unsigned outputs_per_cycle = 8;
    static const unsigned cycles = 1;
    static const unsigned block = 64;
    static const unsigned multiplier_limit = 64;
    static const unsigned ii = 1;
};

// One token word of an io_stream layer (N elements) to and from a partitioned array: the read that starts a
// token's dense_token_step steps (load, and the per-token layers of nnet_had_encoder.h) and the write of its row.
template <class data_T, unsigned N>
inline void read_token(hls::stream<data_T> &in, typename data_T::value_type tok[N]) {
    #pragma HLS INLINE
    const data_T word = in.read();
ReadToken:
    for (unsigned i = 0; i < N; i++) {
        #pragma HLS UNROLL
        tok[i] = word[i];
    }
}

template <class res_T, unsigned N, class src_T> inline void write_token(hls::stream<res_T> &out, const src_T row[N]) {
    #pragma HLS INLINE
    res_T word;
WriteToken:
    for (unsigned i = 0; i < N; i++) {
        #pragma HLS UNROLL
        word[i] = row[i];
    }
    out.write(word);
}

template <class x_T, class acc_T, typename PCONF>
inline void dense_token_step(const unsigned t, const x_T x[PCONF::n_in], acc_T acc[PCONF::n_out],
                             const typename PCONF::weight_t w[PCONF::cycles * PCONF::block],
                             const typename PCONF::bias_t b[PCONF::n_out]) {
    #pragma HLS INLINE
    const unsigned NI = PCONF::n_in, BI = PCONF::inputs_per_cycle, BO = PCONF::outputs_per_cycle;
    const unsigned B = PCONF::block;
    if (BI > 0) {
        if (t == 0) {
        BiasAll:
            for (unsigned o = 0; o < PCONF::n_out; o++) {
                #pragma HLS UNROLL
                acc[o] = b[o];
            }
        }
    MacOutputs:
        for (unsigned o = 0; o < PCONF::n_out; o++) {
            #pragma HLS UNROLL
        MacInputs:
            for (unsigned k = 0; k < (BI > 0 ? BI : 1); k++) {
                #pragma HLS UNROLL
                const unsigned i = t * BI + k;
                if (i < NI) acc[o] += x[i] * w[t * B + o * BI + k];
            }
        }
    } else {
        const unsigned ob = t / NI, i = t - ob * NI;
    MacBlock:
        for (unsigned m = 0; m < BO; m++) {
            #pragma HLS UNROLL
            const unsigned o = ob * BO + m;
            if (i == 0) acc[o] = b[o];
            acc[o] += x[i] * w[t * B + m];
        }
    }
}

#ifndef __SYNTHESIS__
// The weights of a cycle-major projection in torch's (out, in) row-major order, cached per array (fast C-sim paths;
// hls4ml's weights are constant globals). 8 spread words are re-checked on every call, so that an array refilled
// with new contents is re-read (as weight_mantissas_t does).
template <typename PCONF> const typename PCONF::weight_t *row_major_weights(const typename PCONF::weight_t *w) {
    typedef typename PCONF::weight_t w_T;
    struct entry {
        std::vector<w_T> out;
        std::vector<w_T> seen; // the 8 sampled source words at the last fill
    };
    static std::map<const void *, entry> cache;
    entry &c = cache[(const void *)w];
    const unsigned NI = PCONF::n_in, NO = PCONF::n_out, BI = PCONF::inputs_per_cycle, BO = PCONF::outputs_per_cycle;
    const unsigned N = PCONF::cycles * PCONF::block;
    bool stale = c.out.empty();
    for (unsigned k = 0; k < 8 && !stale; k++)
        stale = c.seen[k] != w[(unsigned)(((unsigned long long)k * (N - 1)) / 7)];
    if (stale) {
        c.out.assign(NI * NO, w_T(0));
        c.seen.resize(8);
        for (unsigned k = 0; k < 8; k++) c.seen[k] = w[(unsigned)(((unsigned long long)k * (N - 1)) / 7)];
        for (unsigned t = 0; t < PCONF::cycles; t++) {
            for (unsigned lane = 0; lane < PCONF::block; lane++) {
                unsigned o, i;
                if (BI > 0) {
                    o = lane / BI;
                    i = t * BI + lane % BI;
                } else {
                    o = (t / NI) * BO + lane;
                    i = t % NI;
                }
                if (i < NI) c.out[o * NI + i] = w[t * PCONF::block + lane];
            }
        }
    }
    return &c.out[0];
}
#endif

// ------------------------------------------------------------------------------------------------ load
// Tokens t = 0..L-1, each in proj_config::cycles steps (II = proj_config::ii): the three projections of the token
// share its steps (3 * block MACs a step); after the last step the key-valid bit is stored and the core's `store`
// keeps what its stages read of Q, K and V (key t in lane bank t mod P, row t div P). The memories are the core's
// (q_mem, k_mem, v_mem: had_core, fp_core).
template <class data_T, typename CONFIG_T>
void load(hls::stream<data_T> &x, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid_in, typename CONFIG_T::core::q_mem q,
          typename CONFIG_T::core::k_mem k, bool key_valid[CONFIG_T::lanes][CONFIG_T::groups],
          typename CONFIG_T::core::v_mem v, ATTENTION_QKV_PARAMS) {
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
        if (s == 0) read_token<data_T, E>(x, tok);
        dense_token_step<in_t, accum_t, PC>(s, tok, aq, wq, bq);
        dense_token_step<in_t, accum_t, PC>(s, tok, ak, wk, bk);
        dense_token_step<in_t, accum_t, PC>(s, tok, av, wv, bv);
        if (s == STEPS - 1) {
            CONFIG_T::core::store(t, bank, row, aq, ak, av, q, k, v);
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

// ------------------------------------------------------------------------------------------------ stream words
template <typename CONFIG_T> struct av_word { // one job's softmax numerator sums, softmax_av_lanes -> normalise_row
    typename CONFIG_T::sum_t s;
    typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim];
};

template <typename CONFIG_T> struct context_word { // DN context elements, normalise_row -> out_proj
    typename CONFIG_T::context_t c[CONFIG_T::norm_lanes];
};

// ------------------------------------------------------------------------------------------------ softmax_av_lanes
// The pieces of softmax_av_lanes that both cores share (inlined into their AV loops): a job's sums cleared, one lane
// (S += e, acc[c] += e v[c] over head h's d values of one key's V row), the job's {S, acc} word to normalise_row.
template <typename CONFIG_T>
inline void av_clear(typename CONFIG_T::sum_t &s, typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim]) {
    #pragma HLS INLINE
    s = 0;
AVClear:
    for (unsigned k = 0; k < CONFIG_T::head_dim; k++) {
        #pragma HLS UNROLL
        acc[k] = 0;
    }
}

template <typename CONFIG_T>
inline void av_lane(const typename CONFIG_T::exp_t e, const typename CONFIG_T::value_t v_row[CONFIG_T::embed_dim],
                    const unsigned h, typename CONFIG_T::sum_t &s,
                    typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim]) {
    #pragma HLS INLINE
    const unsigned D = CONFIG_T::head_dim;
    s += e;
AVElements:
    for (unsigned c = 0; c < D; c++) {
        #pragma HLS UNROLL
        acc[c] += e * mantissa_of<CONFIG_T::value_width>(v_row[h * D + c]);
    }
}

template <typename CONFIG_T>
inline void av_word_write(hls::stream<av_word<CONFIG_T> > &avs, const typename CONFIG_T::sum_t s,
                          const typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim]) {
    #pragma HLS INLINE
    av_word<CONFIG_T> w;
    w.s = s;
AVWord:
    for (unsigned k = 0; k < CONFIG_T::head_dim; k++) {
        #pragma HLS UNROLL
        w.acc[k] = acc[k];
    }
    avs.write(w);
}

// ------------------------------------------------------------------------------------------------ normalise_row
// Per job (query i, head h): the {S, acc[d]} word of softmax_av_lanes -> d context elements, DN a cycle over
// NC = d / DN cycles (one recip_table read a cycle; S is held, r recomputed so that II = 1 carries no recurrence).
template <typename CONFIG_T>
void normalise_row(hls::stream<av_word<CONFIG_T> > &avs,
                   const typename CONFIG_T::recip_t recip_table[1 << CONFIG_T::recip_index_bits],
                   hls::stream<context_word<CONFIG_T> > &ctx) {
    const unsigned DN = CONFIG_T::norm_lanes, NC = CONFIG_T::norm_cycles;
    typename CONFIG_T::sum_t s = 0;
    typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim];
    #pragma HLS ARRAY_PARTITION variable=acc complete
    unsigned step = 0;
NormaliseJobs:
    for (unsigned c = 0; c < CONFIG_T::jobs * NC; c++) {
        #pragma HLS PIPELINE II=1
        if (step == 0) {
            const av_word<CONFIG_T> w = avs.read();
            s = w.s;
        NormaliseHold:
            for (unsigned k = 0; k < CONFIG_T::head_dim; k++) {
                #pragma HLS UNROLL
                acc[k] = w.acc[k];
            }
        }
        const norm_scale<CONFIG_T> sc = normalise_scale<CONFIG_T>(s, recip_table);
        context_word<CONFIG_T> out;
    NormaliseLanes:
        for (unsigned k = 0; k < DN; k++) {
            #pragma HLS UNROLL
            out.c[k] = normalise_element<CONFIG_T>(acc[step * DN + k], sc);
        }
        ctx.write(out);
        step = step == NC - 1 ? 0 : step + 1;
    }
}

// ------------------------------------------------------------------------------------------------ out_proj
// Wo over each query row's context (E elements, arriving in order as H*NC words of DN): the words of row r go into
// half r % 2 of a ping-pong row buffer while the MAC steps of row r - 1 read the other half, PO inputs a cycle
// (WC = ceil(E / PO) steps, E*PO multipliers); one output token per row. Loop period max(H*NC, WC) <= H*G.
template <class res_T, typename CONFIG_T>
void out_proj(hls::stream<context_word<CONFIG_T> > &ctx, hls::stream<res_T> &y,
              const typename CONFIG_T::weight_t wo[CONFIG_T::wo_config::cycles * CONFIG_T::wo_config::block],
              const typename CONFIG_T::bias_t bo[CONFIG_T::embed_dim]) {
    typedef typename CONFIG_T::wo_config WC_T;
    const unsigned E = CONFIG_T::embed_dim, DN = CONFIG_T::norm_lanes;
    const unsigned READS = CONFIG_T::num_heads * CONFIG_T::norm_cycles, STEPS = WC_T::cycles;
    const unsigned PERIOD = CONFIG_T::out_period;
    const unsigned ROW_BANKS = CONFIG_T::row_banks;
    const unsigned WB = WC_T::block;
    #pragma HLS ARRAY_RESHAPE variable=wo cyclic factor=WB
    typename CONFIG_T::context_t row[2][E];
    #pragma HLS ARRAY_PARTITION variable=row dim=1 complete
    #pragma HLS ARRAY_PARTITION variable=row dim=2 cyclic factor=ROW_BANKS
    typename CONFIG_T::accum_t acc[E];
    #pragma HLS ARRAY_PARTITION variable=acc complete
    unsigned r = 0, s = 0;
OutRows:
    for (unsigned c = 0; c < CONFIG_T::seq_len * PERIOD + STEPS; c++) {
        #pragma HLS PIPELINE II=1
        const unsigned half = r & 1;
        if (r < CONFIG_T::seq_len && s < READS) {
            const context_word<CONFIG_T> w = ctx.read();
        OutStore:
            for (unsigned k = 0; k < DN; k++) {
                #pragma HLS UNROLL
                row[half][s * DN + k] = w.c[k];
            }
        }
        if (r > 0 && s < STEPS) {
            dense_token_step<typename CONFIG_T::context_t, typename CONFIG_T::accum_t, WC_T>(s, row[half ^ 1], acc, wo,
                                                                                              bo);
            if (s == STEPS - 1) write_token<res_T, E>(y, acc);
        }
        if (++s == PERIOD) {
            s = 0;
            r++;
        }
    }
}

// ------------------------------------------------------------------------------------------------ adapters
// io_parallel around a stream core: the (L, E) input array, read one token (one word of the port reshaped cyclic
// factor=E) a cycle, and the output array written one token a cycle.
template <class data_T, typename CONFIG_T>
void tokens_from_array(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                       hls::stream<array<data_T, CONFIG_T::embed_dim> > &xs) {
TokensIn:
    for (unsigned t = 0; t < CONFIG_T::seq_len; t++) {
        #pragma HLS PIPELINE II=1
        array<data_T, CONFIG_T::embed_dim> tok;
        for (unsigned e = 0; e < CONFIG_T::embed_dim; e++) {
            #pragma HLS UNROLL
            tok[e] = x[t * CONFIG_T::embed_dim + e];
        }
        xs.write(tok);
    }
}

template <class res_T, typename CONFIG_T>
void tokens_to_array(hls::stream<array<res_T, CONFIG_T::embed_dim> > &ys,
                     res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim]) {
TokensOut:
    for (unsigned t = 0; t < CONFIG_T::seq_len; t++) {
        #pragma HLS PIPELINE II=1
        const array<res_T, CONFIG_T::embed_dim> tok = ys.read();
        for (unsigned e = 0; e < CONFIG_T::embed_dim; e++) {
            #pragma HLS UNROLL
            y[t * CONFIG_T::embed_dim + e] = tok[e];
        }
    }
}

// The key-valid word of one input (bit j = key j is not padding): every key, or from a (L,) padding mask
// (mask[j] != 0 marks key j as padding) given as an array (io_parallel) or as one stream word (io_stream).
template <typename CONFIG_T> void valid_word_all(hls::stream<ap_uint<CONFIG_T::seq_len> > &valid) {
    ap_uint<CONFIG_T::seq_len> w = 0;
    w = ~w;
    valid.write(w);
}

template <typename CONFIG_T, class mask_T> inline ap_uint<CONFIG_T::seq_len> valid_bits(const mask_T &mask) {
    #pragma HLS INLINE
    ap_uint<CONFIG_T::seq_len> w;
ValidBits:
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) {
        #pragma HLS UNROLL
        w[j] = mask[j] == 0;
    }
    return w;
}

template <class mask_T, typename CONFIG_T>
void valid_word_from_array(const mask_T mask[CONFIG_T::seq_len], hls::stream<ap_uint<CONFIG_T::seq_len> > &valid) {
    valid.write(valid_bits<CONFIG_T>(mask));
}

template <class mask_T, typename CONFIG_T>
void valid_word_from_stream(hls::stream<mask_T> &mask, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid) {
    const mask_T m = mask.read();
    valid.write(valid_bits<CONFIG_T>(m));
}

#ifndef __SYNTHESIS__
// The fast C-sim of an io_stream layer (the attention layers here, the per-token layers of nnet_had_encoder.h):
// the TOKENS words of the stream as an array for the array-form integer paths, and back.
template <class data_T, unsigned TOKENS, unsigned N>
void csim_stream_to_array(hls::stream<data_T> &data, typename data_T::value_type *xa) {
    for (unsigned l = 0; l < TOKENS; l++) read_token<data_T, N>(data, &xa[l * N]);
}
template <class res_T, unsigned TOKENS, unsigned N>
void csim_array_to_stream(const typename res_T::value_type *ya, hls::stream<res_T> &res) {
    for (unsigned l = 0; l < TOKENS; l++) write_token<res_T, N>(res, &ya[l * N]);
}
#endif

#ifndef __SYNTHESIS__
// ------------------------------------------------------------------------------------------------ fast C-sim cores
// What the integer C-sim paths of both cores share (had_fast, fp_fast derive from it): the conditions under which
// they model every type (ok), the input mantissas, one job's S and AV sums (exact, modulo 2^64 or 2^128), its context
// row (wrapped to sum_t / av_acc_t, then normalised as normalise_row does), and Wo over the context rows into y.
template <class data_T, class res_T, typename CONFIG_T> struct attention_fast_base {
    typedef typename CONFIG_T::weight_t weight_t;
    typedef typename CONFIG_T::bias_t bias_t;
    typedef typename CONFIG_T::accum_t accum_t;
    typedef typename CONFIG_T::context_t context_t;
    typedef fixed_traits<context_t> CTX;
    typedef fixed_traits<typename CONFIG_T::value_t> VAL;
    typedef fixed_traits<typename CONFIG_T::exp_t> EXP;
    typedef typename normalise_fast<CONFIG_T>::av_word av_word;
    static const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim, D = CONFIG_T::head_dim;
    static const bool ok = project_fast<data_T, weight_t, bias_t, accum_t, E>::ok &&
                           project_fast<context_t, weight_t, bias_t, accum_t, E>::ok && VAL::convertible && VAL::S &&
                           CONFIG_T::value_width == VAL::W && fixed_traits<res_T>::convertible && CTX::ok && CTX::S &&
                           CTX::W == (int)CONFIG_T::context_width && EXP::W <= 32 && !EXP::S &&
                           normalise_fast<CONFIG_T>::ok && CONFIG_T::head_dim * CONFIG_T::num_heads == E;

    static void inputs(const data_T *x, double *xm) {
        for (unsigned k = 0; k < L * E; k++) xm[k] = (double)fixed_mantissa(x[k]);
    }

    // A projection of the L input rows xm (mantissas), kept as T mantissas (Q, K or V).
    template <class T> static void project(const double *xm, const weight_t *w, const bias_t *b, long long *out) {
        static long long acc[L * E];
        fast_project_rows<data_T, weight_t, bias_t, accum_t, E, E>(xm, L, w, b, 0, acc);
        for (unsigned k = 0; k < L * E; k++) out[k] = (long long)fixed_quantize<T>(acc[k], fixed_traits<accum_t>::F);
    }

    // S += e, acc[c] += e v_j[c] for one kept (or valid) key j of the job; vj: its d values (value_t mantissas).
    static void accumulate(const unsigned long long e, const long long *vj, unsigned long long &s, av_word av[D]) {
        s += e;
        for (unsigned c = 0; c < D; c++) av[c] += (av_word)e * (av_word)vj[c]; // modulo 2^64 (2^128)
    }

    // The job's d context values (context_t mantissas, as doubles: the Wo input) from its S and AV sums.
    static void context_row(const unsigned long long s, const av_word av[D],
                            const typename CONFIG_T::recip_t *recip_table, double *ctx) {
        wide_int av_m[D];
        long long ctx_m[D];
        for (unsigned c = 0; c < D; c++)
            av_m[c] = wrap_bits<fixed_traits<typename CONFIG_T::av_acc_t>::W, true>((wide_int)av[c]);
        fast_normalise_row<CONFIG_T>(
            (unsigned long long)wrap_bits<fixed_traits<typename CONFIG_T::sum_t>::W, false>((wide_int)s), av_m,
            recip_table, ctx_m);
        for (unsigned c = 0; c < D; c++) ctx[c] = (double)ctx_m[c];
    }

    // y = Wo ctx + bo, token by token (ctx: L x E context rows).
    static void output(const double *ctx, const weight_t *wo, const bias_t *bo, res_T *y) {
        static long long acc[L * E];
        fast_project_rows<context_t, weight_t, bias_t, accum_t, E, E>(ctx, L, wo, bo, 0, acc);
        for (unsigned k = 0; k < L * E; k++) fixed_assign_exact(y[k], acc[k], fixed_traits<accum_t>::F);
    }
};
#endif

// ------------------------------------------------------------------------------------------------ layer functions
// The four layer functions hls4ml calls, for both cores (hls4ml's `kernel` pattern): CONFIG_T::core is had_core or
// fp_core (nnet_had_attention.h, nnet_fp_attention.h), with
//   dataflow<data_T, res_T>(x, valid, y, weights)   the core on token streams (load, then the stages; synthesized)
//   fast<data_T, res_T>::ok, ::core(x, valid, y, weights)   its integer C-sim path (g++ only)
// The io_parallel forms wrap the core in the token adapters above, as one DATAFLOW region; the key-valid word comes
// from every key, or from the padding mask (mask[j] != 0 marks key j as padding, never attended).
#ifndef __SYNTHESIS__
// The fast C-sim core on arrays (weights back in (out, in) order); mask: null = no padding, else mask[j] != 0 pads
// key j. Called only when CONFIG_T::core::fast<...>::ok (its types are modelled); returns that.
template <class data_T, class res_T, typename CONFIG_T, class mask_T>
bool attention_fast(const data_T *x, const mask_T *mask, res_T *y, ATTENTION_WEIGHT_PARAMS) {
    typedef typename CONFIG_T::proj_config PC;
    typedef typename CONFIG_T::wo_config WC_T;
    bool valid[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = mask == 0 || mask[j] == 0;
    return CONFIG_T::core::template fast<data_T, res_T>::core(
        x, valid, y, row_major_weights<PC>(wq), bq, row_major_weights<PC>(wk), bk, row_major_weights<PC>(wv), bv,
        row_major_weights<WC_T>(wo), bo, exp_table, recip_table);
}

// The same on the L tokens of a stream layer and its mask word (mask null: no mask stream).
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
bool attention_fast_stream(hls::stream<data_T> &x, hls::stream<mask_T> *mask, hls::stream<res_T> &y,
                           ATTENTION_WEIGHT_PARAMS) {
    static typename data_T::value_type xa[CONFIG_T::seq_len * CONFIG_T::embed_dim];
    static typename res_T::value_type ya[CONFIG_T::seq_len * CONFIG_T::embed_dim];
    ap_uint<1> pad[CONFIG_T::seq_len];
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) pad[j] = 0;
    if (mask) {
        const mask_T m = mask->read();
        for (unsigned j = 0; j < CONFIG_T::seq_len; j++) pad[j] = m[j] != 0;
    }
    csim_stream_to_array<data_T, CONFIG_T::seq_len, CONFIG_T::embed_dim>(x, xa);
    const bool ok = attention_fast<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(
        xa, pad, ya, ATTENTION_WEIGHT_ARGS);
    csim_array_to_stream<res_T, CONFIG_T::seq_len, CONFIG_T::embed_dim>(ya, y);
    return ok;
}
#endif

// io_parallel: the core between the token adapters, x and y (L, E) row-major, one token per word of the port
// (hls4ml's top reshapes it cyclic factor=E).
template <class data_T, class res_T, typename CONFIG_T>
void attention_arrays(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim],
                      hls::stream<ap_uint<CONFIG_T::seq_len> > &valid,
                      res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], ATTENTION_WEIGHT_PARAMS) {
    #pragma HLS DATAFLOW
    hls::stream<array<data_T, CONFIG_T::embed_dim> > xs("attention_tokens_in");
    hls::stream<array<res_T, CONFIG_T::embed_dim> > ys("attention_tokens_out");
    tokens_from_array<data_T, CONFIG_T>(x, xs);
    CONFIG_T::core::template dataflow<array<data_T, CONFIG_T::embed_dim>, array<res_T, CONFIG_T::embed_dim> >(
        xs, valid, ys, ATTENTION_WEIGHT_ARGS);
    tokens_to_array<res_T, CONFIG_T>(ys, y);
}

template <class data_T, class res_T, typename CONFIG_T>
void attention(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim],
               res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((CONFIG_T::core::template fast<data_T, res_T>::ok),
                  (attention_fast<data_T, res_T, CONFIG_T>(x, (const ap_uint<1> *)0, y, ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("attention_valid");
    valid_word_all<CONFIG_T>(valid);
    attention_arrays<data_T, res_T, CONFIG_T>(x, valid, y, ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

// io_parallel with a key padding mask as a second input.
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void attention_masked(const data_T x[CONFIG_T::seq_len * CONFIG_T::embed_dim], const mask_T mask[CONFIG_T::seq_len],
                      res_T y[CONFIG_T::seq_len * CONFIG_T::embed_dim], ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((CONFIG_T::core::template fast<data_T, res_T>::ok),
                  (attention_fast<data_T, res_T, CONFIG_T>(x, mask, y, ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("attention_valid");
    valid_word_from_array<mask_T, CONFIG_T>(mask, valid);
    attention_arrays<data_T, res_T, CONFIG_T>(x, valid, y, ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

// io_stream: L tokens of E values in, L out (hls4ml's nnet::array stream words).
template <class data_T, class res_T, typename CONFIG_T>
void attention_stream(hls::stream<data_T> &x, hls::stream<res_T> &y, ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((CONFIG_T::core::template fast<typename data_T::value_type, typename res_T::value_type>::ok),
                  (attention_fast_stream<data_T, array<ap_uint<1>, 1>, res_T, CONFIG_T>(x, 0, y,
                                                                                 ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("attention_valid");
    valid_word_all<CONFIG_T>(valid);
    CONFIG_T::core::template dataflow<data_T, res_T>(x, valid, y, ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

// io_stream with the padding mask as one stream word of L flags.
template <class data_T, class mask_T, class res_T, typename CONFIG_T>
void attention_stream_masked(hls::stream<data_T> &x, hls::stream<mask_T> &mask, hls::stream<res_T> &y,
                             ATTENTION_WEIGHT_PARAMS) {
    HAD_CSIM_FAST((CONFIG_T::core::template fast<typename data_T::value_type, typename res_T::value_type>::ok),
                  (attention_fast_stream<data_T, mask_T, res_T, CONFIG_T>(x, &mask, y, ATTENTION_WEIGHT_ARGS)))
    #pragma HLS DATAFLOW
    hls::stream<ap_uint<CONFIG_T::seq_len> > valid("attention_valid");
    valid_word_from_stream<mask_T, CONFIG_T>(mask, valid);
    CONFIG_T::core::template dataflow<data_T, res_T>(x, valid, y, ATTENTION_WEIGHT_ARGS);
    HAD_CSIM_FAST_END
}

} // namespace nnet

#endif
