"""The torch side of the encoder's non-attention layers: leaf modules that hls4ml's PyTorch front end can trace.

hls4ml 1.3.0's PyTorch front end covers Linear, ReLU and residual ``add`` on ``(L, E)`` (with
:mod:`had_hls.hls.frontend_fixes`), but not the rest of a ViT encoder:

- ``LayerNorm``: hls4ml converts it, but its 1/sqrt table is indexed linearly over var in [0, 1] and clamps above
  (``table_range_power2`` is unsigned), so a residual stream with var > 1 gets a wrong scale (pinned by
  tests/test_model_convert_layers.py). :class:`SeqLayerNorm` -> ``HADLayerNorm``: 1/sqrt from a (parity, mantissa)
  table, exact to the table's resolution for any variance.
- ``GELU``: no handler. :class:`LUTGELU` -> ``HADGELU``: a table over [-2^RB, 2^RB), identity above, 0 below.
- ``mean(dim=1)`` / ``x[:, 0]`` (pooling over tokens): no handler. :class:`TokenPool` -> ``HADTokenPool``.
- positional table (an ``nn.Parameter`` added to the tokens) and CLS token: no handler for ``get_attr``.
  :class:`TokenEmbedding` -> ``HADTokenEmbed``: patch/token Linear + positional table (+ CLS row), one layer.
- Linear on ``(L, E)``: :class:`SeqLinear` -> ``HADDenseSeq`` (the same Linear per token, weights (out, in) as
  torch stores them): hls4ml's own route (Dense -> pointwise Conv1D) works with the front-end fix but g++ takes
  much longer on its unrolled code; see model_convert's ``dense`` option.

Each torch module is an ``HLS4MLModule`` leaf with the float semantics of the layer it replaces; its hardware
knobs travel as the module attribute ``hw`` (a :class:`EncoderHW`). Where the rest lives: the hls4ml IR layers and
their tables in :mod:`had_hls.hls.encoder_ir`, the C++ config structs and calls in
:mod:`had_hls.hls.encoder_templates`, the PyTorch handlers and ``register()`` in :mod:`had_hls.hls.encoder_parsers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import hls4ml
import hls4ml.utils.torch
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from had_hls.fixed import FixedType


@dataclass(frozen=True)
class EncoderHW:
    """Internal types and table sizes of the encoder layers (from the project's ``convert:`` section)."""

    weight: FixedType = FixedType(16, 4)
    bias: FixedType = FixedType(16, 6)
    accum: FixedType = FixedType(40, 16)
    ln_var: FixedType = FixedType(48, 18, signed=False)
    ln_table: FixedType = FixedType(18, 1, signed=False)
    ln_inv_std: FixedType = FixedType(32, 10, signed=False)
    ln_table_bits: int = 10
    ln_scale: FixedType = FixedType(16, 4)
    gelu_table: FixedType = FixedType(18, 5)
    gelu_table_bits: int = 11
    gelu_range_bits: int = 2


class TokenEmbedding(hls4ml.utils.torch.HLS4MLModule):
    """(B, L_in, K) patch/token vectors -> (B, L, E): Linear, then [CLS row first], then + positional table."""

    def __init__(self, linear: nn.Linear, pos: torch.Tensor | None, cls: torch.Tensor | None) -> None:
        super().__init__()
        self.linear = linear
        self.pos = None if pos is None else nn.Parameter(pos.detach().reshape(-1, linear.out_features).clone())
        self.cls = None if cls is None else nn.Parameter(cls.detach().reshape(1, linear.out_features).clone())
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.linear(x)
        if self.cls is not None:
            t = torch.cat([self.cls.expand(t.shape[0], 1, -1).to(t.dtype), t], dim=1)
        return t if self.pos is None else t + self.pos.to(t.dtype)

    def bias2d(self, seq_in: int) -> np.ndarray:
        """(L, E) float table: Linear bias + positional row (the CLS row: cls + pos[0])."""
        e = self.linear.out_features
        b = np.zeros(e) if self.linear.bias is None else self.linear.bias.detach().double().numpy()
        rows = [b] * seq_in
        if self.cls is not None:
            rows = [self.cls.detach().double().numpy()[0]] + rows
        table = np.stack(rows)
        if self.pos is not None:
            table = table + self.pos.detach().double().numpy()[: table.shape[0]]
        return table


class SeqLinear(hls4ml.utils.torch.HLS4MLModule):
    """The same Linear on every token: (B, L, n_in) -> (B, L, n_out)."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.linear = linear
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class SeqLayerNorm(hls4ml.utils.torch.HLS4MLModule):
    """LayerNorm over the last axis of (B, L, E)."""

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        if len(norm.normalized_shape) != 1 or not norm.elementwise_affine:
            raise ValueError("only LayerNorm(E) over the feature axis with elementwise_affine is supported")
        self.norm = norm
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


class LUTGELU(hls4ml.utils.torch.HLS4MLModule):
    """GELU (exact erf form or tanh approximation, as the wrapped module) elementwise."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate=self.approximate)


class TokenPool(hls4ml.utils.torch.HLS4MLModule):
    """(B, L, E) -> (B, E): mean over tokens (``mean``) or the first token (``cls``)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        if mode not in ("mean", "cls"):
            raise ValueError(f"pool mode must be 'mean' or 'cls', got {mode!r}")
        self.mode = mode
        self.hw = EncoderHW()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1) if self.mode == "mean" else x[:, 0]


__all__ = ["EncoderHW", "LUTGELU", "SeqLayerNorm", "SeqLinear", "TokenEmbedding", "TokenPool"]
