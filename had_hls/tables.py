"""The attention layer's integer lookup tables: the HAD and FP exp tables and the softmax reciprocal table.

Each entry is a mantissa of its :class:`~had_hls.precision.Precision` type (``exp_table`` / ``recip_table``,
``ap_ufixed<W,1>`` with F fractional bits): round half up of ``value * 2^F``, clamped to [0, 2^W - 1].

    exp_table[t]    = round(2^F_e exp(-2 alpha t)),              t = 0..d     (HAD: t Hamming steps behind the best)
    fp_exp_table[t] = round(2^F_e exp(-t 2^-k_step)),            t = 0..T-1   (FP: t steps of 2^-k below the row max)
    recip_table[i]  = round(2^F_r / (1 + (i + 1/2) 2^-R)),       i < 2^R      (1/m at the midpoint of each bin)

How golden, the C++ and the RTL index them: the datapath contract in had_hls/spec.py.
"""

from __future__ import annotations

import numpy as np

from had_hls.fixed import FixedType
from had_hls.precision import Precision


def had_exp_table(alpha: float, head_dim: int, prec: Precision) -> np.ndarray:
    """exp_table[t] = round(2^F_e exp(-2 alpha t)), t = 0..d: weight of a key t Hamming steps behind the best."""
    t = np.arange(head_dim + 1, dtype=np.float64)
    return _round_table(np.exp(-2.0 * alpha * t), prec.exp_table)


def fp_exp_table(prec: Precision) -> np.ndarray:
    """fp_exp_table[t] = round(2^F_e exp(-t 2^-k)), t = 0..T-1: weight of a key t steps of 2^-k below the row max."""
    t = np.arange(prec.fp_exp_table_size, dtype=np.float64)
    return _round_table(np.exp(-t * 2.0**-prec.fp_exp_step_bits), prec.exp_table)


def recip_table(prec: Precision) -> np.ndarray:
    """recip_table[i] = round(2^F_r / (1 + (i + 1/2) 2^-R)), i < 2^R: 1/m at the midpoint of each mantissa bin."""
    r = prec.recip_index_bits
    m = 1.0 + (np.arange(1 << r, dtype=np.float64) + 0.5) * 2.0**-r
    return _round_table(1.0 / m, prec.recip_table)


def _round_table(values: np.ndarray, t: FixedType) -> np.ndarray:
    return np.clip(np.floor(np.ldexp(values, t.frac) + 0.5), 0, t.max_int).astype(np.int64)
