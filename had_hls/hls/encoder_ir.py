"""The hls4ml IR layers of the encoder's non-attention parts, and the tables they hold.

``HADTokenEmbed``, ``HADDenseSeq``, ``HADLayerNorm``, ``HADGELU`` and ``HADTokenPool`` (:data:`LAYERS`) are what the
torch leaves of :mod:`had_hls.hls.encoder_layers` become in the ModelGraph. Each declares its output shape and adds
its weights as hls4ml weight variables in the types of its :class:`~had_hls.hls.encoder_layers.EncoderHW`.

Fixed-point contract: every weight and table value is rounded to the nearest point of its type's grid and saturated
(:func:`quantize_to`: AP_RND_CONV, AP_SAT), so hls4ml writes it exactly. The Linear layers honour hls4ml's
ReuseFactor and Strategy through a :class:`had_hls.hls.projection_plan.ProjectionPlan` (attribute ``plan``; weights
emitted cycle-major as the plan reads them); HADGELU's ReuseFactor is its cycles a token. Tables:

    rsqrt_table[p 2^R + j] = 1/sqrt(2^p (1 + (j + 1/2) 2^-R)),  p in {0, 1}, j < 2^R   (1/sqrt of a mantissa in [1, 4))
    gelu_table[i]          = GELU(-2^RB + (i + 1/2) 2^(RB + 1 - TB)),  i < 2^TB         (bin centres over [-2^RB, 2^RB))
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from hls4ml.model.attributes import ConfigurableAttribute
from hls4ml.model.layers import Layer

from had_hls.fixed import FixedType
from had_hls.hls.encoder_layers import EncoderHW
from had_hls.hls.projection_plan import ProjectionPlan, strategy_name
from had_hls.hls.weights import hls_precision


# ------------------------------------------------------------------------------------------------ tables
def quantize_to(t: FixedType, values: np.ndarray) -> np.ndarray:
    """Float values rounded to the nearest point of ``t``'s grid, saturated (so hls4ml writes them exactly)."""
    r = replace(t, quant="AP_RND_CONV", overflow="AP_SAT")
    return r.to_float(r.from_float(np.asarray(values, dtype=np.float64)))


def rsqrt_table(bits: int, t: FixedType) -> np.ndarray:
    """table[p * 2^R + j] = 1/sqrt(2^p (1 + (j + 1/2) 2^-R)), p in {0, 1}: 1/sqrt of a mantissa in [1, 4)."""
    j = np.arange(1 << bits, dtype=np.float64)
    m = 1.0 + (j + 0.5) * 2.0**-bits
    return quantize_to(t, np.concatenate([1.0 / np.sqrt(m), 1.0 / np.sqrt(2.0 * m)]))


def gelu_table(table_bits: int, range_bits: int, approximate: str, t: FixedType) -> np.ndarray:
    """GELU at the centres of 2^TB bins over [-2^RB, 2^RB)."""
    step = 2.0 ** (range_bits + 1 - table_bits)
    x = -(2.0**range_bits) + (np.arange(1 << table_bits) + 0.5) * step
    y = F.gelu(torch.tensor(x, dtype=torch.float64), approximate=approximate).numpy()
    return quantize_to(t, y)



# ------------------------------------------------------------------------------------------------ IR layers
def _weights(layer: Layer, name: str, data: np.ndarray, t: FixedType) -> None:
    layer.add_weights_variable(
        name=name, var_name=f"{name}{{index}}", precision=hls_precision(t), data=quantize_to(t, data).reshape(-1)
    )


_REUSE = ConfigurableAttribute("reuse_factor", default=1, description="ReuseFactor (cycles a token)")


class _DenseLayer(Layer):
    """A Linear per token: ReuseFactor / Strategy -> :class:`ProjectionPlan` (attr ``plan``), cycle-major weights."""

    _expected_attributes = [_REUSE]

    def plan(self) -> ProjectionPlan:
        n_in, n_out = self.get_attr("n_in"), self.get_attr("n_out")
        try:
            strategy = strategy_name(self.model.config.get_strategy(self))
            plan = ProjectionPlan.for_reuse(n_in, n_out, int(self.get_attr("reuse_factor")), strategy)
        except ValueError as err:
            raise ValueError(f"layer {self.name}: {err}") from None
        self.set_attr("plan", plan)
        return plan


class HADTokenEmbed(_DenseLayer):
    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable([self.get_attr("seq_len"), self.get_attr("n_out")])
        _weights(self, "weight", self.plan().layout(self.get_attr("weight_data")), hw.weight)
        _weights(self, "bias2d", self.get_attr("bias2d_data"), hw.bias)


class HADDenseSeq(_DenseLayer):
    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable([self.get_attr("seq_len"), self.get_attr("n_out")])
        _weights(self, "weight", self.plan().layout(self.get_attr("weight_data")), hw.weight)
        _weights(self, "bias", self.get_attr("bias_data"), hw.bias)


class HADLayerNorm(Layer):
    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable([self.get_attr("seq_len"), self.get_attr("n_in")])
        _weights(self, "scale", self.get_attr("scale_data"), hw.ln_scale)
        _weights(self, "bias", self.get_attr("bias_data"), hw.bias)
        eps = max(float(self.get_attr("epsilon")), 2.0**-hw.ln_var.frac)
        _weights(self, "epsilon", np.array([eps]), hw.ln_var)
        _weights(self, "rsqrt_table", rsqrt_table(hw.ln_table_bits, hw.ln_table), hw.ln_table)


class HADGELU(Layer):
    """GELU by table; ReuseFactor = cycles a token (ceil(F / RF) table reads a cycle in the io_stream form)."""

    _expected_attributes = [_REUSE]

    def initialize(self) -> None:
        hw: EncoderHW = self.get_attr("hw")
        self.add_output_variable(list(self.get_attr("shape")))
        table = gelu_table(hw.gelu_table_bits, hw.gelu_range_bits, self.get_attr("approximate"), hw.gelu_table)
        _weights(self, "table", table, hw.gelu_table)


class HADTokenPool(Layer):
    def initialize(self) -> None:
        self.add_output_variable([self.get_attr("n_in")])


LAYERS: dict[str, type[Layer]] = {
    "HADTokenEmbed": HADTokenEmbed,
    "HADDenseSeq": HADDenseSeq,
    "HADLayerNorm": HADLayerNorm,
    "HADGELU": HADGELU,
    "HADTokenPool": HADTokenPool,
}


__all__ = ["LAYERS", "HADDenseSeq", "HADGELU", "HADLayerNorm", "HADTokenEmbed", "HADTokenPool", "gelu_table",
           "quantize_to", "rsqrt_table"]
