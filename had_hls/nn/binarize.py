"""Binarization of queries and keys, as HAD trains it.

Every mode maps a pre-activation ``x`` (a query or key element) and its calibrated scale ``sigma`` to a
*normalized* code ``b(x)`` in [-1, 1]; the binarized tensor is ``sigma * b(x)``. Attention code multiplies the
codes first and applies ``sigma_Q * sigma_K / sqrt(d)`` afterwards, so that hard-mode dot products are exact
integers and ties stay ties: with d = 16 the N-th and (N+1)-th distances of a row tie in most rows at N = 8 of 16
keys (tests/test_topn.py::test_boundary_ties_are_the_common_case), so the tie rule decides which keys are kept.

Modes
-----
``float``  : b(x) = x / sigma                       (the teacher: no binarization)
``tanh``   : b(x) = max(c, 1) * tanh(x / (c*sigma))  (scaled tanh with temperature c)
``ste``    : b(x) = sign(x) forward; d b / d x = 1/sigma where |x/sigma| <= 2, else 0 (straight-through)
``hard``   : b(x) = sign(x), no gradient             (inference)

sign(0) is +1 everywhere in had-hls (the hardware's bit is 1 exactly where x < 0).

The scaled-tanh form: sigma * tanh(x/(c*sigma)) tends to sigma*sign(x) as c -> 0 but, at c = 5, shrinks the
logits ~25x, so a student starts far below its teacher. The factor max(c, 1) undoes that shrink for c >= 1
(for small |x|, max(c,1)*tanh(x/(c sigma)) ~ x/sigma: the teacher's logits), and is exactly 1 for c <= 1, where
the curve sharpens towards the sign: |b(x) - sign(x)| <= 2 exp(-2|x|/(c sigma)) for c <= 1.
"""

from __future__ import annotations

from enum import StrEnum

import torch

STE_WINDOW = 2.0
"""The straight-through estimator passes gradient only where |x / sigma| <= STE_WINDOW."""


class BinarizeMode(StrEnum):
    FLOAT = "float"
    TANH = "tanh"
    STE = "ste"
    HARD = "hard"

    @classmethod
    def parse(cls, value: str | BinarizeMode) -> BinarizeMode:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise ValueError(f"binarize mode {value!r} is not one of: {allowed}") from None


def sign_pm1(x: torch.Tensor) -> torch.Tensor:
    """sign with sign(0) = +1: returns a tensor of exactly -1.0 and +1.0."""
    return torch.where(x < 0, -torch.ones_like(x), torch.ones_like(x))


def ste_sign(u: torch.Tensor) -> torch.Tensor:
    """Forward sign_pm1(u); backward: gradient 1 where |u| <= STE_WINDOW, 0 elsewhere (u = x / sigma)."""
    window = torch.clamp(u, -STE_WINDOW, STE_WINDOW)
    return window + (sign_pm1(u) - window).detach()


def scaled_tanh(u: torch.Tensor, c: float) -> torch.Tensor:
    """max(c, 1) * tanh(u / c) for u = x / sigma; c > 0."""
    if c <= 0:
        raise ValueError(f"tanh temperature c must be > 0, got {c}")
    return max(c, 1.0) * torch.tanh(u / c)


def binary_code(x: torch.Tensor, sigma: torch.Tensor, mode: BinarizeMode, c: float = 1.0) -> torch.Tensor:
    """Normalized code b(x) of the module docstring; the binarized tensor is sigma * b(x)."""
    u = x / sigma
    if mode is BinarizeMode.FLOAT:
        return u
    if mode is BinarizeMode.TANH:
        return scaled_tanh(u, c)
    if mode is BinarizeMode.STE:
        return ste_sign(u)
    return sign_pm1(u).detach()


def binarize(x: torch.Tensor, sigma: torch.Tensor, mode: BinarizeMode | str, c: float = 1.0) -> torch.Tensor:
    """sigma * b(x): the binarized queries or keys themselves (forward sigma*sign(x) in ste/hard modes)."""
    return sigma * binary_code(x, sigma, BinarizeMode.parse(mode), c)
