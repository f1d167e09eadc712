"""A provable bound on |golden - torch| for one attention layer, when torch uses the spec's dequantized weights.

Torch (float64, exact softmax) and the golden model then differ only by the fixed-point steps of the datapath.
Per query row and head, with w_j the exact softmax weights over the kept keys and V_max = max |V| of the row:

  softmax weights  ||w_hat - w||_1 <= 2 n 2^-(F_e+1)            exp-table rounding, relative to S >= 1
                                    + eta                        reciprocal: 2^-(R+1) (mid-point bin) + 2^-F_r
                                    + (e^{2 delta} - 1)          FP only: logit error delta (q/k rounding, index step)
                                    + n e^{-(T - 1.5) 2^-k}       FP only: keys clamped at the table end
  context          |ctx_hat - ctx| <= ||w_hat - w||_1 V_max + (1 + eta) e_v + 2^-(F_ctx+1)
  output           |y_hat - y|     <= max_o sum_c |Wo[o][c]| |ctx_hat - ctx|_max + e_acc + e_res

e_v, e_res: the value / result types' rounding errors (half an LSB when rounding, one LSB when truncating);
e_acc: zero when the accumulator keeps every product bit. HAD top-N sets are identical in torch and golden here:
the accumulators are exact, so the sign bits are too.
"""

from __future__ import annotations

import math

import numpy as np

from had_hls.fixed import FixedType
from had_hls.golden import GoldenTrace
from had_hls.spec import AttentionSpec


def rounding_error(t: FixedType) -> float:
    """Largest error of one conversion to ``t`` (ignoring overflow)."""
    return t.lsb / 2 if t.quant.startswith("AP_RND") else t.lsb


def accumulation_error(spec: AttentionSpec, in_frac: int, n_in: int) -> float:
    p = spec.precision
    if p.accum.frac >= in_frac + p.weight.frac and p.accum.frac >= p.bias.frac:
        return 0.0
    return (n_in + 1) * rounding_error(p.accum)


def output_error_bound(spec: AttentionSpec, trace: GoldenTrace) -> float:
    """Bound on max |golden y - torch y| for one input whose golden trace is ``trace``."""
    p = spec.precision
    n = spec.keys_per_query
    eta = 2.0 ** -(p.recip_index_bits + 1) + 2.0**-p.recip_table.frac
    w_err = 2 * n * 2.0 ** -(p.exp_table.frac + 1) + eta
    if spec.kind == "fp":
        w_err += math.expm1(2 * _fp_logit_error(spec, trace))
        step = 2.0**-p.fp_exp_step_bits
        w_err += n * math.exp(-(p.fp_exp_table_size - 1.5) * step)
    v_max = float(np.abs(p.value.to_float(trace.v)).max()) + rounding_error(p.value)
    ctx_err = w_err * v_max + (1 + eta) * rounding_error(p.value) + p.context.lsb / 2
    wo = np.abs(p.weight.to_float(spec.o.weight)).sum(axis=1).max()
    acc_err = accumulation_error(spec, p.context.frac, spec.embed_dim)
    return float(wo * ctx_err + acc_err + rounding_error(p.result))


def _fp_logit_error(spec: AttentionSpec, trace: GoldenTrace) -> float:
    """Largest error of one FP logit (s_max - s_j) / sqrt(d) as the golden model forms it, s_max's shift aside."""
    p = spec.precision
    d = spec.head_dim
    acc = p.accum.to_float
    q_max = float(np.abs(acc(trace.q_acc)).max())
    k_max = float(np.abs(acc(trace.k_acc)).max())
    e = rounding_error(p.qk)
    score_err = d * ((q_max + e) * e + (k_max + e) * e)  # |q^k^ - qk| per dot product, both rounded
    diff_max = float(np.abs(trace.scores).max()) * 2 * 2.0 ** (-2 * p.qk.frac) + 2 * score_err
    isq_err = diff_max * 0.5 * 2.0**-p.fp_inv_sqrt_frac
    index_err = 0.5 * 2.0**-p.fp_exp_step_bits
    return 2 * score_err / math.sqrt(d) + isq_err + index_err
