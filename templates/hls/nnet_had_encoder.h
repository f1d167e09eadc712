// had-hls: the non-attention layers of a HAD encoder on [seq, feature] data, for whole-model projects, one header a
// layer as hls4ml's nnet_utils; each layer in an io_stream form (`<name>_stream`: one token per stream word, the
// form had-hls convert generates) and an io_parallel form (arrays, used by the comparison routes of the whole-model
// C-sim):
//   nnet_seq_dense.h       token_embed: Linear over each patch/token vector + positional table (+ CLS row),
//                          (L_in, K) -> (L, E); dense_seq: the same Linear on every token
//   nnet_seq_layernorm.h   layernorm_seq: LayerNorm over the feature axis of every token, 1/sqrt by a (mantissa,
//                          parity) table
//   nnet_gelu_lut.h        gelu_lut: GELU by a table over [-2^RB, 2^RB); identity above, 0 below
//   nnet_token_pool.h      token_pool: mean over tokens, or the CLS token: (L, E) -> (E)
// The Linear layers take hls4ml's ReuseFactor / Strategy (dense_token_step, nnet_attention_stages.h: n_in*n_out/RF
// multipliers, RF cycles a token, weights cycle-major); GELU reads `lanes` table entries a cycle (a multi-port ROM).
// The Python side: the layers in had_hls/hls/encoder_layers.py, table contents and types in encoder_ir.py, the
// header list in encoder_templates.py (HEADERS).
// hls4ml 1.3.0's own LayerNormalization indexes its 1/sqrt table linearly over var in [0, 2^-table_range_power2]
// <= [0, 1] and clamps above: a residual stream with var > 1 (every ViT here) gets a wrong scale; its PyTorch front
// end has no GELU and no mean over tokens.
#ifndef NNET_HAD_ENCODER_H_
#define NNET_HAD_ENCODER_H_

#include "nnet_gelu_lut.h"
#include "nnet_seq_dense.h"
#include "nnet_seq_layernorm.h"
#include "nnet_token_pool.h"

#endif
