// had-hls: binary Hamming scores (XNOR + popcount). Mirrors golden.sign_bits / golden.hamming_scores and
// templates/rtl/hamming_unit.v.  bit = 1 where the projected value is < 0;  ham = popcount(q xor k) in [0, d].
#ifndef NNET_HAMMING_H_
#define NNET_HAMMING_H_

#include "ap_int.h"
#include "hls_stream.h"
#include "nnet_attention_common.h"

namespace nnet {

// Sign bits of d accumulators (one head of one token): bit c = (acc[c] < 0).
template <class acc_T, unsigned D> ap_uint<D> sign_bits(const acc_T acc[D]) {
    #pragma HLS INLINE
    ap_uint<D> bits = 0;
SignBits:
    for (unsigned c = 0; c < D; c++) {
        #pragma HLS UNROLL
        bits[c] = acc[c] < 0 ? 1 : 0;
    }
    return bits;
}

// popcount(q xor k): the number of sign disagreements, equivalently (d - q.k) / 2 for the +-1 codes.
template <unsigned D, class ham_T> ham_T hamming_distance(const ap_uint<D> &q, const ap_uint<D> &k) {
    #pragma HLS INLINE
    ap_uint<D> diff = q ^ k;
    ham_T count = 0;
Popcount:
    for (unsigned c = 0; c < D; c++) {
        #pragma HLS UNROLL
        count += diff[c];
    }
    return count;
}

// One beat of a job: the distances of keys g*P .. g*P + P - 1 to the job's query and whether each is a key (not
// padding, not past L - 1).
template <typename CONFIG_T> struct ham_beat {
    typename CONFIG_T::ham_t ham[CONFIG_T::lanes];
    bool valid[CONFIG_T::lanes];
};

// hamming_unit: P lanes a cycle (II = 1). Job (i, h) = i * H + h, beat g: lane p compares head h of query i with key
// j = g*P + p, read from K bank p at row g (key j lives in bank j mod P, row j div P).
template <typename CONFIG_T>
void hamming_unit(const ap_uint<CONFIG_T::embed_dim> q[CONFIG_T::seq_len],
                  const ap_uint<CONFIG_T::embed_dim> k[CONFIG_T::lanes][CONFIG_T::groups],
                  const bool key_valid[CONFIG_T::lanes][CONFIG_T::groups], hls::stream<ham_beat<CONFIG_T> > &beats) {
    const unsigned P = CONFIG_T::lanes, G = CONFIG_T::groups, D = CONFIG_T::head_dim;
    unsigned i = 0, h = 0, g = 0;
HammingBeats:
    for (unsigned c = 0; c < CONFIG_T::jobs * G; c++) {
        #pragma HLS PIPELINE II=1
        const ap_uint<D> qh = q[i] >> (h * D);
        ham_beat<CONFIG_T> b;
    HammingLanes:
        for (unsigned p = 0; p < P; p++) {
            #pragma HLS UNROLL
            const ap_uint<D> kh = k[p][g] >> (h * D);
            b.valid[p] = g * P + p < CONFIG_T::seq_len && key_valid[p][g];
            b.ham[p] = hamming_distance<D, typename CONFIG_T::ham_t>(qh, kh);
        }
        beats.write(b);
        next_beat<CONFIG_T>(i, h, g);
    }
}

} // namespace nnet

#endif
