"""One Linear in hls4ml: the valid ReuseFactors, the one had-hls picks, and the :class:`ProjectionPlan` of a token.

A projection of n_in inputs to n_out outputs takes RF cycles a token (hls4ml's ReuseFactor) with n_in n_out / RF
multipliers. :func:`valid_reuse_factors` are hls4ml's own (FPGABackend._validate_reuse_factor);
:func:`matched_reuse_factor` is had-hls's choice when the project gives none (the fewest multipliers that keep up
with the attention core, within :data:`UNROLL_LIMIT`). A :class:`ProjectionPlan` fixes the order of the MACs and the
cycle-major weight layout the C++ reads (nnet::dense_token_config, templates/hls/nnet_attention_stages.h).

Arithmetic contract: every output starts from its bias and accumulates its inputs in order 0..n_in-1 (golden.project's
order), so the result is bit-exact with golden for any accumulator type; only the grouping of MACs into cycles changes
with RF. The attention layers (:mod:`had_hls.hls.schedule`) and the encoder's Linear layers
(:mod:`had_hls.hls.encoder_ir`) both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Strategy = Literal["latency", "resource"]
STRATEGIES: tuple[str, ...] = ("Latency", "Resource")
UNROLL_LIMIT = 4096  # operations in one pipelined region: Vivado/Vitis HLS stop with XFORM 203-504 above it


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def strategy_name(value: str) -> Strategy:
    """hls4ml's Strategy spelling (Latency, Resource, any case) -> 'latency' / 'resource'; ValueError otherwise."""
    s = str(value).lower()
    if s not in ("latency", "resource"):
        raise ValueError(f"Strategy {value!r} is not allowed; allowed: {', '.join(STRATEGIES)}")
    return s  # type: ignore[return-value]


def valid_reuse_factors(n_in: int, n_out: int) -> list[int]:
    """hls4ml's valid ReuseFactors of an n_in x n_out dense (FPGABackend._validate_reuse_factor): RF divides
    n_in * n_out, and either RF divides n_in (RF <= n_in) or RF is a multiple of n_in dividing n_in * n_out."""
    total = n_in * n_out
    out = [rf for rf in range(1, n_in + 1) if n_in % rf == 0]
    out += [k * n_in for k in range(2, n_out + 1) if n_out % k == 0]
    return sorted(rf for rf in set(out) if total % rf == 0)


def matched_reuse_factor(n_in: int, n_out: int, budget: int, copies: int = 1, limit: int = UNROLL_LIMIT) -> int:
    """The ReuseFactor had-hls picks when the project gives none: among the valid ones whose pipelined loop body
    (``copies`` projections of n_in n_out / RF MACs) stays within the unroll limit, the largest <= ``budget`` cycles
    a token (the fewest multipliers that keep up with the core); when none keeps up, the smallest (the fastest one
    Vitis can build; the design check then shows the slower stage)."""
    valid = valid_reuse_factors(n_in, n_out)
    buildable = [rf for rf in valid if copies * (n_in * n_out // rf) <= limit] or [max(valid)]
    fast = [rf for rf in buildable if rf <= max(1, budget)]
    return max(fast) if fast else min(buildable)


@dataclass(frozen=True)
class ProjectionPlan:
    """One token through an n_out x n_in projection: ``cycles`` steps of ``block`` MACs each.

    inputs_per_cycle > 0 (RF <= n_in, and Wo): step t multiplies inputs t BI .. t BI + BI - 1 with every output;
    otherwise (RF = c n_in): step t = ob n_in + i multiplies input i with outputs ob BO .. ob BO + BO - 1.
    Every output accumulates its inputs in order 0..n_in-1 (golden.project's order, so any accum type is bit-exact).
    The weights are emitted cycle-major (:meth:`layout`): step t reads the ``block`` words w[t B .. t B + B - 1],
    one ARRAY_RESHAPE word. Latency strategy: one step of n_in n_out MACs at II = RF (hls4ml's dense_latency).
    """

    n_in: int
    n_out: int
    reuse_factor: int
    strategy: Strategy = "resource"
    inputs_per_cycle: int = 0  # BI; 0 = output blocks (RF > n_in)

    @staticmethod
    def for_reuse(n_in: int, n_out: int, reuse_factor: int, strategy: Strategy) -> ProjectionPlan:
        if reuse_factor not in valid_reuse_factors(n_in, n_out):
            valid = valid_reuse_factors(n_in, n_out)
            raise ValueError(
                f"ReuseFactor {reuse_factor} is not allowed for a {n_in} x {n_out} projection; "
                f"allowed: {', '.join(map(str, valid))}"
            )
        bi = n_in if strategy == "latency" else (n_in // reuse_factor if reuse_factor <= n_in else 0)
        return ProjectionPlan(n_in, n_out, reuse_factor, strategy, bi)

    @staticmethod
    def inputs_per_step(n_in: int, n_out: int, inputs: int) -> ProjectionPlan:
        """A Resource-style projection taking ``inputs`` inputs a cycle (ceil(n_in / inputs) cycles, Wo)."""
        inputs = max(1, min(inputs, n_in))
        return ProjectionPlan(n_in, n_out, ceil_div(n_in, inputs), "resource", inputs)

    @property
    def outputs_per_cycle(self) -> int:
        """BO: outputs touched by one step."""
        return self.n_out if self.inputs_per_cycle else self.n_out * self.n_in // self.reuse_factor

    @property
    def cycles(self) -> int:
        """Steps (loop iterations) a token; Latency: 1 (at II = RF)."""
        if self.strategy == "latency":
            return 1
        return ceil_div(self.n_in, self.inputs_per_cycle) if self.inputs_per_cycle else self.reuse_factor

    @property
    def block(self) -> int:
        """MACs of one step (the unrolled multiplications of the pipelined loop body)."""
        return self.n_out * self.inputs_per_cycle if self.inputs_per_cycle else self.outputs_per_cycle

    @property
    def ii(self) -> int:
        return self.reuse_factor if self.strategy == "latency" else 1

    @property
    def cycles_per_token(self) -> int:
        return self.cycles * self.ii

    @property
    def multipliers(self) -> int:
        """Multiplier instances: n_in n_out / RF (Latency: the ALLOCATION limit of dense_latency)."""
        return ceil_div(self.n_in * self.n_out, self.cycles_per_token)

    @property
    def weight_words(self) -> int:
        return self.cycles * self.block

    def lane_index(self, step: int, lane: int) -> tuple[int, int]:
        """(output o, input i) multiplied at ``step`` by ``lane``; i >= n_in marks a padding lane."""
        if self.inputs_per_cycle:
            bi = self.inputs_per_cycle
            return lane // bi, step * bi + lane % bi
        return (step // self.n_in) * self.outputs_per_cycle + lane, step % self.n_in

    def layout(self, weight: np.ndarray) -> np.ndarray:
        """Weights (n_out, n_in) -> the flat cycle-major array the C++ reads (padding lanes hold 0)."""
        weight = np.asarray(weight)
        t = np.arange(self.cycles)[:, None]
        lane = np.arange(self.block)[None, :]
        if self.inputs_per_cycle:
            bi = self.inputs_per_cycle
            o, i = np.broadcast_arrays(lane // bi, t * bi + lane % bi)
        else:
            o, i = np.broadcast_arrays((t // self.n_in) * self.outputs_per_cycle + lane, t % self.n_in)
        out = np.zeros((self.cycles, self.block), dtype=weight.dtype)
        real = i < self.n_in
        out[real] = weight[o[real], i[real]]
        return out.reshape(-1)

    def config_lines(self, indent: str = "    ") -> list[str]:
        """The static consts of a C++ projection config (nnet::dense_token_config)."""
        return [
            f"{indent}static const unsigned n_in = {self.n_in};",
            f"{indent}static const unsigned n_out = {self.n_out};",
            f"{indent}static const unsigned reuse_factor = {self.reuse_factor};",
            f"{indent}static const unsigned strategy = nnet::{self.strategy};",
            f"{indent}static const unsigned n_zeros = 0;",
            f"{indent}static const unsigned inputs_per_cycle = {self.inputs_per_cycle};",
            f"{indent}static const unsigned outputs_per_cycle = {self.outputs_per_cycle};",
            f"{indent}static const unsigned cycles = {self.cycles};",
            f"{indent}static const unsigned block = {self.block};",
            f"{indent}static const unsigned multiplier_limit = {self.multipliers};",
            f"{indent}static const unsigned ii = {self.ii};",
        ]


__all__ = [
    "STRATEGIES",
    "UNROLL_LIMIT",
    "ProjectionPlan",
    "Strategy",
    "ceil_div",
    "matched_reuse_factor",
    "strategy_name",
    "valid_reuse_factors",
]
