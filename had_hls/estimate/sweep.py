"""Design-space sweep: HAD vs FP cores over L, d, N and P; the counting top-N unit against N.

Each point is one single-head layer (E = d, H = 1) with seeded random weights, sigma calibrated like
``had-hls csim`` does for a project without checkpoint. Per point: Yosys synthesis of both cores, optionally the
ECP5 Fmax proxy, power from a co-simulation VCD of that point (seeded random inputs; the activity window is
``power_window`` cycles of steady-state attention from cycle L + 8, when the keys are loaded, so the file does
not grow as L^2; points with L > ``power_max_seq_len`` get no power), ``cycles_per_query`` measured in the same
co-simulation (null where it does not run), ``cycles_per_query_model`` the cores' cycle formula H * ceil(L / P)
at every point (the co-simulation checks it where it runs), and the top-N unit alone.

Parallelism goes through a standard executor: ``concurrent.futures.ProcessPoolExecutor`` on this machine's cores,
or a Dask distributed cluster (``Client(address).get_executor()``) when a cluster address is given. Every point is
cached as ``<cache>/point-<key>.json`` (key: the point, the precision, the RTL sources, the tool versions):
a rerun computes only the points that are missing.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import itertools
import json
import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from had_hls.errors import MissingToolError, UserError
from had_hls.io import staged_output, write_json

DEFAULT_SEQ_LENS = (64, 128, 256, 512, 1024, 2048, 4096)
DEFAULT_HEAD_DIMS = (16, 32, 64)
CLUSTER_TIMEOUT_S = 20  # how long to wait for a Dask scheduler to answer


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
    """What each point computes (part of the cache key)."""

    fmax: bool = False
    power: bool = True
    power_max_seq_len: int = 4096
    power_window: int = 2048  # cycles of the activity window (steady-state attention after the keys are loaded)
    simulator: str | None = None  # 'verilator' / 'icarus'; None = the default (Verilator when installed)
    clock_mhz: float = 200.0
    part: str = "xcvu13p-flga2577-2-e"
    precision: dict[str, Any] | None = None  # hls.precision overrides (C++ spellings), None = defaults
    seed: int = 0


def grid(seq_lens: list[int], head_dims: list[int], top_ns: list[int] | None, lanes: list[int],
         n_fraction: float = 0.125) -> list[SweepPoint]:
    """The points: every (L, d, P) with each N in ``top_ns`` (clipped to L), or N = max(1, round(n_fraction * L))
    (N grows linearly with L, as in the paper)."""
    pts = []
    for L, d, p in itertools.product(seq_lens, head_dims, lanes):
        ns = top_ns or [max(1, round(n_fraction * L))]
        for n in sorted({min(n, L) for n in ns}):
            pts.append(SweepPoint(L, d, n, p))
    return pts


def point_project(point: SweepPoint, opts: SweepOptions, path: Path):
    """The project of one point: a single-head layer (E = d) with seeded random weights."""
    from had_hls.config import parse_project

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


def point_key(point: SweepPoint, opts: SweepOptions) -> str:
    """Cache key of a point: the point, the options, the RTL sources, the test bench, the power model and the tool
    versions."""
    from had_hls.estimate import power
    from had_hls.estimate.levels import LEVELS_VERSION
    from had_hls.estimate.synth import yosys_version
    from had_hls.rtl.generate import RTL_SOURCES, RTL_TEMPLATE_DIR, TB_DIR, TB_SOURCE

    h = hashlib.sha256(json.dumps([asdict(point), asdict(opts), yosys_version(), LEVELS_VERSION],
                                  sort_keys=True).encode())
    for path in [*(RTL_TEMPLATE_DIR / name for name in RTL_SOURCES), TB_DIR / TB_SOURCE, Path(power.__file__)]:
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def run_point(point: SweepPoint, opts: SweepOptions, work: str, cache: str) -> dict[str, Any]:
    """Everything of one point (runs in a worker process); returns its JSON-able result."""
    import had_hls.rtl  # noqa: F401
    from had_hls.estimate import area
    from had_hls.estimate.point import fmax_point, synth_point, topn_point
    from had_hls.estimate.power import power_mw, vcd_activity
    from had_hls.estimate.report import memory_bits
    from had_hls.rtl.generate import design_for
    from had_hls.rtl.sim import default_simulator
    from had_hls.verify.cosim import cosim_layer
    from had_hls.verify.csim import build_specs, make_vectors

    t0 = time.perf_counter()
    wdir = Path(work) / point.label
    cdir = Path(cache)
    project = point_project(point, opts, wdir / "project.yaml")
    specs = dict(zip(("had", "fp"), build_specs(project), strict=True))
    res: dict[str, Any] = {**asdict(point), "label": point.label}
    sim_ok = opts.power and point.seq_len <= opts.power_max_seq_len
    x = mask = None
    if sim_ok:
        x, mask = make_vectors(project, 1)
        simulator = opts.simulator or default_simulator()
    for kind, spec in specs.items():
        design = design_for(spec, point.lanes)
        syn = synth_point(design, wdir / kind / "xcup", cdir)
        r: dict[str, Any] = {k: syn[k] for k in ("lut", "ff", "dsp", "bram", "carry", "uram")}
        r["lut_equivalents"] = area.lut_equivalents(syn, opts.part)
        r["k_memory_bits"] = memory_bits(syn["memories"], "kmem")
        r["fmax_mhz"] = fmax_point(design, wdir / kind / "ecp5", cdir, opts.clock_mhz)["fmax_mhz"] if opts.fmax \
            else None
        r["cycles_per_query_model"] = spec.num_heads * design.groups  # the formula; the measurement below
        r["cycles_per_query"] = None  # measured only: null where the point is not co-simulated
        r["power_mw"] = None
        if sim_ok:
            start = point.seq_len + 8  # first input loaded: the window holds attention only
            cs = cosim_layer(spec, x, mask, None, wdir / kind / "sim", simulator, point.lanes, vcd_vectors=1,
                             vcd_start=start, vcd_cycles=start + opts.power_window)
            if cs["golden_mismatches"] or cs["ctx_mismatches"]:
                raise RuntimeError(f"{point.label} {kind}: co-simulation differs from golden")
            r["cycles_per_query"] = cs["cycles_per_query"]
            act = vcd_activity(wdir / kind / "sim" / "activity.vcd")
            r["power_mw"] = power_mw(syn, act, opts.clock_mhz)["power_mw"]
            r["alpha_logic"] = act.alpha_logic
            for junk in ("obj_dir", "activity.vcd"):
                p = wdir / kind / "sim" / junk
                if p.is_dir():
                    import shutil

                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
        r["logic_levels"] = syn["timing"]["logic_levels"]
        r["fmax_model_mhz"] = syn["timing"]["fmax_model_mhz"]
        if kind == "had":
            tn = topn_point(point.head_dim, point.lanes, point.top_n, point.seq_len, wdir / "topn", cdir)
            r["topn_lut"], r["topn_ff"], r["topn_bram"] = tn["lut"], tn["ff"], tn["bram"]
        res[kind] = r
    res["area_reduction"] = 1.0 - res["had"]["lut_equivalents"] / res["fp"]["lut_equivalents"]
    pw = (res["had"]["power_mw"], res["fp"]["power_mw"])
    res["power_reduction"] = None if None in pw else 1.0 - pw[0] / pw[1]
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


@contextlib.contextmanager
def make_executor(jobs: int | None, cluster: str | None) -> Iterator[cf.Executor]:
    """ProcessPoolExecutor(jobs or all cores), or the executor of a Dask distributed cluster at ``cluster``
    (``distributed.Client(address).get_executor()``, the client closed on exit)."""
    if cluster:
        try:
            from distributed import Client
        except ImportError:
            raise MissingToolError(
                f"--cluster {cluster}: the Dask distributed client is not installed: pip install 'dask[distributed]'"
            ) from None
        try:
            client = Client(cluster, timeout=f"{CLUSTER_TIMEOUT_S}s")
        except (OSError, TimeoutError) as err:
            raise UserError(f"--cluster {cluster}: no Dask scheduler answers there ({err})") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
        return
    # spawn, not fork: a forked child of a process that has used torch's thread pool can hang in torch calls
    ex = cf.ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1, mp_context=mp.get_context("spawn"))
    try:
        yield ex
    finally:
        ex.shutdown(wait=True)


def run_sweep(points: list[SweepPoint], out_dir: str | Path, opts: SweepOptions | None = None,
              jobs: int | None = None, cluster: str | None = None, quiet: bool = False) -> dict[str, Any]:
    """Run the missing points in parallel, write ``<out>/sweep.json`` and the plots; returns the sweep dict."""
    opts = opts or SweepOptions()
    if not points:
        raise UserError("sweep: no points (give at least one L, d and P)")
    out = Path(out_dir).resolve()
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    t0 = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for p in points:
        path = cache / f"point-{point_key(p, opts)}.json"
        if path.is_file():
            results[p.label] = json.loads(path.read_text()) | {"cached": True}
        else:
            todo.append((p, path))
    if not quiet:
        print(f"sweep: {len(points)} points, {len(points) - len(todo)} cached, {len(todo)} to run", flush=True)
    if todo:
        with make_executor(jobs, cluster) as ex:
            futs = {ex.submit(run_point, p, opts, str(work), str(cache)): (p, path) for p, path in todo}
            for fut in cf.as_completed(futs):
                p, path = futs[fut]
                try:
                    r = fut.result()
                except Exception as err:  # noqa: BLE001 - one failing point is reported, the others go on
                    results[p.label] = {**asdict(p), "label": p.label, "error": f"{type(err).__name__}: {err}"}
                    if not quiet:
                        print(f"  {p.label}: FAILED {err}", flush=True)
                    continue
                write_json(path, r)
                results[p.label] = r | {"cached": False}
                if not quiet:
                    print(f"  {p.label}: area -{100 * r['area_reduction']:.1f}% ({r['seconds']:.0f} s)", flush=True)
    ordered = [results[p.label] for p in points]
    sweep = {
        "points": ordered,
        "options": asdict(opts),
        "computed": sum(1 for r in ordered if r.get("cached") is False),
        "cached": sum(1 for r in ordered if r.get("cached") is True),
        "failed": sum(1 for r in ordered if "error" in r),
        "executor": f"dask {cluster}" if cluster
        else f"concurrent.futures.ProcessPoolExecutor({jobs or os.cpu_count()})",
        "seconds": round(time.perf_counter() - t0, 1),
    }
    with staged_output(out) as stage:
        from had_hls.estimate.plots import sweep_plots

        sweep["plots"] = [p.name for p in sweep_plots(ordered, stage)]
        write_json(stage / "sweep.json", sweep)
    return sweep


def format_sweep(sweep: dict[str, Any]) -> str:
    """A table for the terminal."""
    lines = [f"{'point':<22} {'HAD LUT-eq':>11} {'FP LUT-eq':>11} {'area -%':>8} {'HAD mW':>8} {'FP mW':>8} "
             f"{'cyc/q':>7} {'topN LUT':>9}"]
    for r in sweep["points"]:
        if "error" in r:
            lines.append(f"{r['label']:<22} FAILED: {r['error'][:80]}")
            continue
        h, f = r["had"], r["fp"]
        hp = "n/a" if h["power_mw"] is None else f"{h['power_mw']:.2f}"
        fp_ = "n/a" if f["power_mw"] is None else f"{f['power_mw']:.2f}"
        cyc = f"{h['cycles_per_query']:g}" if h.get("cycles_per_query") is not None else \
            f"{h['cycles_per_query_model']}*"
        lines.append(f"{r['label']:<22} {h['lut_equivalents']:>11,.0f} {f['lut_equivalents']:>11,.0f} "
                     f"{100 * r['area_reduction']:>7.1f}% {hp:>8} {fp_:>8} {cyc:>7} "
                     f"{h['topn_lut']:>9,}")
    if any("error" not in r and r["had"].get("cycles_per_query") is None for r in sweep["points"]):
        lines.append("*: cycles per query from the formula H ceil(L/P) (cycles_per_query_model): not co-simulated")
    lines.append(f"{len(sweep['points'])} points: {sweep['computed']} computed, {sweep['cached']} from the cache, "
                 f"{sweep['failed']} failed, {sweep['seconds']} s ({sweep['executor']})")
    return "\n".join(lines)
