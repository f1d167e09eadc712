// had-hls: the counting top-N of the HAD core, by stage (RTL twin: templates/rtl/topn_*.v; rule: golden.topn_select).
//
// Keep n = min(N, valid keys) keys of a row with the smallest Hamming distance in [0, d]; ties go to the lower key
// index; padded keys are never kept. Counting instead of sorting, two passes over a job's G beats of P distances:
//   topn_hist     per-lane histograms (P banks of d bins, ping-pong by job parity; bin d is not stored: it holds
//                 whatever the others leave), then a scan of S bins a cycle (S from the RTL twin: the smallest power
//                 of two with ceil(d / S) <= G; SC = ceil(d / S) cycles, overlapping the next job's beats):
//                 cum = running count, T = first bin with cum >= n (d when none), take = n - cum(bins < T),
//                 hmin = first non-empty bin (d when none); the scan clears the bins it reads. The beats go on to a
//                 score FIFO (depth 2G + SC: topn_keep waits for T).
//   topn_keep     second pass over the stored beats: at = valid & ham == T,
//                 kept = valid & (ham < T | (at & seen + #(at lanes before p) < take)), seen += #at.
//   topn_compact  the kept keys of a beat (<= P) at consecutive positions of the job's N slots {key, ham - hmin}.
// O(L + d) work a row, 2 P (d+1) small counters, no comparator network, no L x L score buffer.
#ifndef NNET_TOPN_SELECT_H_
#define NNET_TOPN_SELECT_H_

#include "ap_int.h"
#include "hls_stream.h"
#include "nnet_hamming.h"

namespace nnet {

template <typename CONFIG_T> struct topn_threshold { // one job's scan result, topn_hist -> topn_keep
    typename CONFIG_T::ham_t thresh;
    typename CONFIG_T::count_t take;
    typename CONFIG_T::ham_t hmin;
};

template <typename CONFIG_T> struct kept_beat { // topn_keep -> topn_compact
    bool kept[CONFIG_T::lanes];
    typename CONFIG_T::ham_t delta[CONFIG_T::lanes]; // ham - hmin of a kept lane
};

// topn_hist: one loop, II = 1: iteration c takes beat g of job c / G into the histograms of its parity and forwards it
// to the score FIFO, and spends scan step g (g < SC) on the previous job's histograms (the other parity); the last
// SC iterations scan the last job.
template <typename CONFIG_T>
void topn_hist(hls::stream<ham_beat<CONFIG_T> > &beats, hls::stream<ham_beat<CONFIG_T> > &scores,
               hls::stream<topn_threshold<CONFIG_T> > &thresholds) {
    typedef typename CONFIG_T::count_t count_t;
    typedef typename CONFIG_T::ham_t ham_t;
    const unsigned P = CONFIG_T::lanes, G = CONFIG_T::groups, D = CONFIG_T::head_dim;
    const unsigned S = CONFIG_T::scan_bins, SC = CONFIG_T::scan_cycles, JOBS = CONFIG_T::jobs;
    count_t hist[2][P][D];
    #pragma HLS ARRAY_PARTITION variable=hist complete dim=0
    count_t nvalid[2];
    #pragma HLS ARRAY_PARTITION variable=nvalid complete
HistClear:
    for (unsigned b = 0; b < D; b++) {
        #pragma HLS UNROLL
        for (unsigned p = 0; p < P; p++) {
            #pragma HLS UNROLL
            hist[0][p][b] = 0;
            hist[1][p][b] = 0;
        }
    }
    nvalid[0] = 0;
    nvalid[1] = 0;
    count_t n_row = 0, cum = 0, below = 0;
    ham_t thresh = 0, hmin = D;
    bool found = false, nonzero = false;
    unsigned job = 0, g = 0;
HistBeats:
    for (unsigned c = 0; c < JOBS * G + SC; c++) {
        #pragma HLS PIPELINE II=1
        const unsigned par = job & 1;
        if (job < JOBS) {
            const ham_beat<CONFIG_T> b = beats.read();
            count_t nv = g == 0 ? count_t(0) : nvalid[par];
        HistLanes:
            for (unsigned p = 0; p < P; p++) {
                #pragma HLS UNROLL
                if (b.valid[p]) {
                    if (b.ham[p] < D) hist[par][p][b.ham[p]]++;
                    nv++;
                }
            }
            nvalid[par] = nv;
            scores.write(b);
        }
        if (job > 0 && g < SC) { // scan step g of job - 1
            const unsigned sp = par ^ 1;
            if (g == 0) {
                n_row = nvalid[sp] < CONFIG_T::top_n ? nvalid[sp] : count_t(CONFIG_T::top_n);
                cum = 0;
                below = 0;
                thresh = 0;
                hmin = D;
                found = false;
                nonzero = false;
            }
        HistScan:
            for (unsigned s = 0; s < S; s++) {
                #pragma HLS UNROLL
                const unsigned bin = g * S + s;
                if (bin < D) {
                    count_t cnt = 0;
                HistSum:
                    for (unsigned p = 0; p < P; p++) {
                        #pragma HLS UNROLL
                        cnt += hist[sp][p][bin];
                        hist[sp][p][bin] = 0;
                    }
                    if (!found && cum + cnt >= n_row) {
                        thresh = bin;
                        below = cum;
                        found = true;
                    }
                    if (!nonzero && cnt != 0) {
                        hmin = bin;
                        nonzero = true;
                    }
                    cum += cnt;
                }
            }
            if (g == SC - 1) {
                topn_threshold<CONFIG_T> t;
                t.thresh = found ? thresh : ham_t(D); // n not reached below d: the rest are at distance d
                t.take = n_row - (found ? below : cum);
                t.hmin = hmin;
                thresholds.write(t);
            }
        }
        if (++g == G) {
            g = 0;
            job++;
        }
    }
}

// topn_keep: the second pass, one stored beat a cycle (II = 1); the job's threshold is read with its first beat.
template <typename CONFIG_T>
void topn_keep(hls::stream<ham_beat<CONFIG_T> > &scores, hls::stream<topn_threshold<CONFIG_T> > &thresholds,
               hls::stream<kept_beat<CONFIG_T> > &kept) {
    typedef typename CONFIG_T::count_t count_t;
    const unsigned P = CONFIG_T::lanes, G = CONFIG_T::groups;
    topn_threshold<CONFIG_T> t;
    count_t seen = 0;
    unsigned g = 0;
KeepBeats:
    for (unsigned c = 0; c < CONFIG_T::jobs * G; c++) {
        #pragma HLS PIPELINE II=1
        if (g == 0) {
            t = thresholds.read();
            seen = 0;
        }
        const ham_beat<CONFIG_T> b = scores.read();
        kept_beat<CONFIG_T> out;
        count_t rank = seen;
    KeepLanes:
        for (unsigned p = 0; p < P; p++) {
            #pragma HLS UNROLL
            const bool at = b.valid[p] && b.ham[p] == t.thresh;
            out.kept[p] = b.valid[p] && (b.ham[p] < t.thresh || (at && rank < t.take));
            out.delta[p] = b.ham[p] - t.hmin;
            if (at) rank++;
        }
        seen = rank;
        kept.write(out);
        g = g == G - 1 ? 0 : g + 1;
    }
}

// topn_compact: the kept lanes of beat g, in lane (= key) order, to slots n, n + 1, ... of the half `half`
// (key index g*P + p, ham - hmin); returns the new count. Inlined into the process that owns the slots.
template <typename CONFIG_T>
unsigned topn_compact(const kept_beat<CONFIG_T> &b, const unsigned g, const unsigned half, unsigned n,
                      typename CONFIG_T::key_t slot_key[2][CONFIG_T::lanes * CONFIG_T::slot_rows],
                      typename CONFIG_T::ham_t slot_delta[2][CONFIG_T::lanes * CONFIG_T::slot_rows]) {
    #pragma HLS INLINE
    const unsigned P = CONFIG_T::lanes, SLOTS = CONFIG_T::lanes * CONFIG_T::slot_rows;
CompactLanes:
    for (unsigned p = 0; p < P; p++) {
        #pragma HLS UNROLL
        if (b.kept[p] && n < SLOTS) {
            slot_key[half][n] = g * P + p;
            slot_delta[half][n] = b.delta[p];
            n++;
        }
    }
    return n;
}

} // namespace nnet

#endif
