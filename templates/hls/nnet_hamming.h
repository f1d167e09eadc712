// had-hls: binary Hamming scores (XNOR + popcount). Mirrors golden.sign_bits / golden.hamming_scores and
// templates/rtl/hamming_unit.v.  bit = 1 where the projected value is < 0;  ham = popcount(q xor k) in [0, d].
#ifndef NNET_HAMMING_H_
#define NNET_HAMMING_H_

#include "ap_int.h"

namespace nnet {

// Sign bits of d accumulators (one head of one token): bit c = (acc[c] < 0).
template <class acc_T, unsigned D> ap_uint<D> sign_bits(const acc_T acc[D]) {
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

} // namespace nnet

#endif
