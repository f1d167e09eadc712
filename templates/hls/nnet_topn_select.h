// had-hls: top-N selection of one query row by counting, no sorting. Mirrors golden.topn_select and
// templates/rtl/topn_select.v.
//
// Scores are Hamming distances in [0, d]. Pass 1 builds a (d+1)-bin histogram of the valid keys' distances;
// the threshold T is the first distance whose cumulative count reaches n = min(N, valid keys); pass 2 keeps, in
// key order, every key with ham < T and the first (n - count(ham < T)) keys with ham == T.  This is exactly the
// had-hls tie rule (smallest distance first, then lower key index) in O(L + d) work and O(d log L) bits of state,
// against O(L log L) comparisons and an N-entry sorted buffer for a sorter.
#ifndef NNET_TOPN_SELECT_H_
#define NNET_TOPN_SELECT_H_

#include "ap_int.h"

namespace nnet {

template <typename CONFIG_T>
void topn_select_row(const typename CONFIG_T::ham_t ham[CONFIG_T::seq_len], const bool valid[CONFIG_T::seq_len],
                     bool kept[CONFIG_T::seq_len]) {
    typedef typename CONFIG_T::count_t count_t;
    count_t hist[CONFIG_T::head_dim + 1];
    #pragma HLS ARRAY_PARTITION variable=hist complete
HistClear:
    for (unsigned t = 0; t <= CONFIG_T::head_dim; t++) {
        #pragma HLS UNROLL
        hist[t] = 0;
    }
    count_t n_valid = 0;
Histogram:
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) {
        #pragma HLS PIPELINE II=1
        if (valid[j]) {
            hist[ham[j]]++;
            n_valid++;
        }
    }
    count_t n_row = n_valid < CONFIG_T::top_n ? n_valid : count_t(CONFIG_T::top_n);
    count_t cum = 0, below = 0;
    typename CONFIG_T::ham_t thresh = 0;
    bool found = false;
Threshold:
    for (unsigned t = 0; t <= CONFIG_T::head_dim; t++) {
        #pragma HLS UNROLL
        if (!found && cum + hist[t] >= n_row) {
            thresh = t;
            below = cum;
            found = true;
        }
        cum += hist[t];
    }
    count_t take = n_row - below;
    count_t seen = 0;
Select:
    for (unsigned j = 0; j < CONFIG_T::seq_len; j++) {
        #pragma HLS PIPELINE II=1
        bool at = valid[j] && ham[j] == thresh;
        kept[j] = valid[j] && (ham[j] < thresh || (at && seen < take));
        if (at) seen++;
    }
}

} // namespace nnet

#endif
