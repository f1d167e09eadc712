"""Per-step schedules: the scaled-tanh temperature c and the learning rate."""

from __future__ import annotations

import math
from typing import Literal


def progress(step: int, steps: int) -> float:
    """p = step / (steps - 1) in [0, 1] for step in 0..steps-1; p = 1 for a one-step stage."""
    if steps < 1 or not 0 <= step < steps:
        raise ValueError(f"step {step} is outside 0..{steps - 1}")
    return 1.0 if steps == 1 else step / (steps - 1)


def tanh_c(step: int, steps: int, start: float, end: float, kind: Literal["exponential", "linear"]) -> float:
    """Temperature of step ``step`` of ``steps``: start at step 0, end at the last step.

    exponential: c = start * (end / start)^p (geometric: equal ratios per step);  linear: c = start + (end - start) p.
    """
    p = progress(step, steps)
    if kind == "exponential":
        return start * (end / start) ** p
    if kind == "linear":
        return start + (end - start) * p
    raise ValueError(f"c_decay {kind!r} is not one of: exponential, linear")


def lr_factor(step: int, steps: int, kind: Literal["constant", "cosine"], warmup: int = 0) -> float:
    """Multiplier of the base learning rate: linear warm-up over ``warmup`` steps, then constant or
    cosine 0.5 (1 + cos(pi t)) with t going 0 -> 1 from the end of warm-up to the step after the last."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if kind == "constant":
        return 1.0
    span = max(1, steps - warmup)
    t = min(1.0, (step - warmup) / span)
    return 0.5 * (1.0 + math.cos(math.pi * t))
