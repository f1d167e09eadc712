// had-hls: io_stream adapters for the fused attention layers (FP baseline; HAD when not split into stages):
// read the L token stream into the layer's array form, run the io_parallel core, stream the L output tokens.
#ifndef NNET_ATTENTION_STREAM_ADAPTER_H_
#define NNET_ATTENTION_STREAM_ADAPTER_H_

#include "hls_stream.h"
#include "nnet_fp_attention.h"
#include "nnet_had_attention.h"

namespace nnet {

template <class data_T, class res_T, typename CONFIG_T, typename CORE>
void attention_stream_adapter(hls::stream<data_T> &x, const bool valid[CONFIG_T::seq_len], hls::stream<res_T> &y,
                              CORE core) {
    const unsigned L = CONFIG_T::seq_len, E = CONFIG_T::embed_dim;
    static typename data_T::value_type xa[L * E];
    static typename res_T::value_type ya[L * E];
    for (unsigned t = 0; t < L; t++) {
        data_T in = x.read();
        for (unsigned c = 0; c < E; c++) xa[t * E + c] = in[c];
    }
    core(xa, valid, ya);
    for (unsigned t = 0; t < L; t++) {
        res_T out;
        for (unsigned c = 0; c < E; c++) out[c] = ya[t * E + c];
        y.write(out);
    }
}

#define NNET_ATTENTION_STREAM(NAME, CORE, TABLE_SIZE)                                                                  \
    template <class data_T, class res_T, typename CONFIG_T>                                                            \
    void NAME##_stream(hls::stream<data_T> &x, hls::stream<res_T> &y, const typename CONFIG_T::weight_t *wq,            \
                       const typename CONFIG_T::bias_t *bq, const typename CONFIG_T::weight_t *wk,                     \
                       const typename CONFIG_T::bias_t *bk, const typename CONFIG_T::weight_t *wv,                     \
                       const typename CONFIG_T::bias_t *bv, const typename CONFIG_T::weight_t *wo,                     \
                       const typename CONFIG_T::bias_t *bo, const typename CONFIG_T::exp_t *exp_table,                 \
                       const typename CONFIG_T::recip_t *recip_table) {                                                \
        bool valid[CONFIG_T::seq_len];                                                                                 \
        for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = true;                                              \
        attention_stream_adapter<data_T, res_T, CONFIG_T>(                                                             \
            x, valid, y, [&](const typename data_T::value_type *xa, const bool *va, typename res_T::value_type *ya) { \
                CORE<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(                               \
                    xa, va, ya, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);                               \
            });                                                                                                        \
    }                                                                                                                  \
    template <class data_T, class mask_T, class res_T, typename CONFIG_T>                                              \
    void NAME##_stream_masked(hls::stream<data_T> &x, hls::stream<mask_T> &mask, hls::stream<res_T> &y,                \
                              const typename CONFIG_T::weight_t *wq, const typename CONFIG_T::bias_t *bq,              \
                              const typename CONFIG_T::weight_t *wk, const typename CONFIG_T::bias_t *bk,              \
                              const typename CONFIG_T::weight_t *wv, const typename CONFIG_T::bias_t *bv,              \
                              const typename CONFIG_T::weight_t *wo, const typename CONFIG_T::bias_t *bo,              \
                              const typename CONFIG_T::exp_t *exp_table, const typename CONFIG_T::recip_t *recip_table) { \
        bool valid[CONFIG_T::seq_len];                                                                                 \
        mask_T m = mask.read();                                                                                        \
        for (unsigned j = 0; j < CONFIG_T::seq_len; j++) valid[j] = m[j] == 0;                                         \
        attention_stream_adapter<data_T, res_T, CONFIG_T>(                                                             \
            x, valid, y, [&](const typename data_T::value_type *xa, const bool *va, typename res_T::value_type *ya) { \
                CORE<typename data_T::value_type, typename res_T::value_type, CONFIG_T>(                               \
                    xa, va, ya, wq, bq, wk, bk, wv, bv, wo, bo, exp_table, recip_table);                               \
            });                                                                                                        \
    }

NNET_ATTENTION_STREAM(fp_attention, fp_attention_core, exp_table_size)
NNET_ATTENTION_STREAM(had_attention, had_attention_core, head_dim + 1)

#undef NNET_ATTENTION_STREAM

} // namespace nnet

#endif
