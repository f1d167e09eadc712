// had-hls: the parts of the attention cores that the HAD and FP layers share, written as DATAFLOW processes:
//   dense_token_step   one step of a token projection with hls4ml's ReuseFactor / Strategy (load, out_proj, and the
//                      per-token layers of nnet_had_encoder.h)
//   normalise_row      the reciprocal-table normalisation, DN elements a cycle
//   out_proj           Wo over a context row, PO inputs a cycle (ping-pong row buffer)
//   tokens_from_array / tokens_to_array / valid_word_*: the io_parallel and mask adapters around a stream core
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

// ------------------------------------------------------------------------------------------------ projections
// One token through an n_out x n_in projection in `cycles` steps of `block` MACs (had_hls.hls.schedule.ProjectionPlan):
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
    for (unsigned k = 0; k < 8 && !stale; k++) stale = c.seen[k] != w[(unsigned)(((unsigned long long)k * (N - 1)) / 7)];
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

// ------------------------------------------------------------------------------------------------ stream words
template <typename CONFIG_T> struct av_word { // one job's softmax numerator sums, softmax_av_lanes -> normalise_row
    typename CONFIG_T::sum_t s;
    typename CONFIG_T::av_acc_t acc[CONFIG_T::head_dim];
};

template <typename CONFIG_T> struct context_word { // DN context elements, normalise_row -> out_proj
    typename CONFIG_T::context_t c[CONFIG_T::norm_lanes];
};

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
            if (s == STEPS - 1) {
                res_T out;
            OutToken:
                for (unsigned o = 0; o < E; o++) {
                    #pragma HLS UNROLL
                    out[o] = acc[o];
                }
                y.write(out);
            }
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

template <class mask_T, typename CONFIG_T>
void valid_word_from_array(const mask_T mask[CONFIG_T::seq_len], hls::stream<ap_uint<CONFIG_T::seq_len> > &valid) {
    ap_uint<CONFIG_T::seq_len> w;
ValidBits:
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) {
        #pragma HLS UNROLL
        w[j] = mask[j] == 0;
    }
    valid.write(w);
}

template <class mask_T, typename CONFIG_T>
void valid_word_from_stream(hls::stream<mask_T> &mask, hls::stream<ap_uint<CONFIG_T::seq_len> > &valid) {
    const mask_T m = mask.read();
    ap_uint<CONFIG_T::seq_len> w;
ValidBits:
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) {
        #pragma HLS UNROLL
        w[j] = m[j] == 0;
    }
    valid.write(w);
}

#ifndef __SYNTHESIS__
// Fast C-sim of a stream layer: the L input tokens (and the mask word) as arrays for an array-form integer core.
template <class data_T, typename CONFIG_T>
void csim_read_tokens(hls::stream<data_T> &x, typename data_T::value_type *xa) {
    for (unsigned t = 0; t < CONFIG_T::seq_len; t++) {
        const data_T in = x.read();
        for (unsigned e = 0; e < CONFIG_T::embed_dim; e++) xa[t * CONFIG_T::embed_dim + e] = in[e];
    }
}

template <class res_T, typename CONFIG_T>
void csim_write_tokens(const typename res_T::value_type *ya, hls::stream<res_T> &y) {
    for (unsigned t = 0; t < CONFIG_T::seq_len; t++) {
        res_T out;
        for (unsigned e = 0; e < CONFIG_T::embed_dim; e++) out[e] = ya[t * CONFIG_T::embed_dim + e];
        y.write(out);
    }
}
#endif

} // namespace nnet

#endif
