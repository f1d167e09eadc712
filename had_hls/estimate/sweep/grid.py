"""The sweep's points and options: the grid over (L, d, N, P), the checks before any work, and the project of one
point (a single-head layer, E = d, with seeded random weights)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from had_hls.errors import UserError

if TYPE_CHECKING:
    from had_hls.config import Project

DEFAULT_SEQ_LENS = (64, 128, 256, 512, 1024, 2048, 4096)
DEFAULT_HEAD_DIMS = (16, 32, 64)


@dataclass(frozen=True)
class SweepPoint:
    """One point of the sweep."""

    seq_len: int
    head_dim: int
    top_n: int
    lanes: int

    @property
    def label(self) -> str:
        return f"L{self.seq_len}_d{self.head_dim}_N{self.top_n}_P{self.lanes}"


@dataclass(frozen=True)
class SweepOptions:
    """What each point computes (part of the cache key: had_hls.estimate.sweep.point_cache.point_key; a new field
    changes every key)."""

    fmax: bool = False
    power: bool = True
    power_max_seq_len: int = 4096
    power_window: int = 2048  # cycles of the activity window (steady-state attention after the keys are loaded)
    simulator: str | None = None  # 'verilator' / 'icarus'; None = the default (Verilator when installed)
    clock_mhz: float = 200.0
    part: str = "xcvu13p-flga2577-2-e"
    precision: dict[str, Any] | None = None  # hls.precision overrides (C++ spellings), None = defaults
    seed: int = 0
    strong_fp: bool = False  # also the strong FP baseline (8-bit Q/K, packed DSPs, shared exp tables)
    full_rows_max_seq_len: int = 1024  # beyond it only the first query rows are simulated (and compared)
    hierarchical: bool = False  # synthesis: each distinct part once (had_hls.estimate.synth_hier.prepare_hierarchical)


def grid(seq_lens: list[int], head_dims: list[int], top_ns: list[int] | None, lanes: list[int],
         n_fraction: float = 0.125) -> list[SweepPoint]:
    """The points: every (L, d, P) with each N in ``top_ns``, or N = max(1, round(n_fraction * L)) (N grows
    linearly with L, as in the paper). UserError (naming --top-n / --lanes) when some N or P is not in 1..L for
    some L: a value is never clipped silently."""
    small = min(seq_lens) if seq_lens else 0
    for flag, values in (("--top-n", top_ns or []), ("--lanes", lanes)):
        bad = [v for v in values if not 1 <= v <= small]
        if bad:
            raise UserError(
                f"{flag}: {bad[0]} is not allowed with --seq-len {','.join(map(str, seq_lens))}: every value must be "
                f"1 <= value <= L for each L (here <= {small})"
            )
    pts = []
    for L, d, p in itertools.product(seq_lens, head_dims, lanes):
        ns = top_ns or [max(1, round(n_fraction * L))]
        for n in sorted(set(ns)):
            pts.append(SweepPoint(L, d, n, p))
    return pts


def check_points(points: list[SweepPoint], opts: SweepOptions) -> None:
    """Before any work: every point fits this machine's memory (had_hls.limits: one vector, one head, E = d), and
    the precision suits every point's shape (the project schema's rules, e.g. internal widths within ap_int's
    1024 bits)."""
    from had_hls.config import ConfigError
    from had_hls.limits import check_layer_memory
    from had_hls.project import check_datapath

    for p in points:
        check_layer_memory(p.seq_len, p.head_dim, 1, 1, keys={"seq_len": "--seq-len", "embed_dim": "--head-dim",
                                                              "vectors": "vectors"})
        try:
            check_datapath(point_project(p, opts, Path(f"sweep_{p.label}.yaml")))
        except ConfigError as err:
            raise UserError(f"{err} (sweep point {p.label}; --precision sets hls.precision)") from None


def point_project(point: SweepPoint, opts: SweepOptions, path: Path) -> Project:
    """The project of one point: a single-head layer (E = d) with seeded random weights."""
    from had_hls.project import parse_project

    raw: dict[str, Any] = {
        "name": f"sweep_{point.label}",
        "model": {"seq_len": point.seq_len, "embed_dim": point.head_dim, "num_heads": 1, "top_n": point.top_n,
                  "seed": opts.seed},
        "csim": {"vectors": 1},
        "hls": {"part": opts.part, "clock_period": 1000.0 / opts.clock_mhz},
    }
    if opts.precision:
        raw["hls"]["precision"] = dict(opts.precision)
    return parse_project(raw, path)
