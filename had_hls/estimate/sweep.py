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
POWER_METHOD = ("rtl_activity: per resource, count after synthesis x the co-simulation's mean toggle rate over the "
                "steady-state window x energy per toggle (had_hls.estimate.power.power_mw); not the report's "
                "gate-level model")


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
    strong_fp: bool = False  # also the strong FP baseline (8-bit Q/K, packed DSPs, shared exp tables)
    full_rows_max_seq_len: int = 1024  # beyond it only the first query rows are simulated (and compared)
    hierarchical: bool = False  # synthesis: each distinct part once (had_hls.estimate.synth.prepare_hierarchical)


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


_CLUSTER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")


def check_cluster_address(address: str) -> str:
    """A Dask scheduler address ``[scheme://]host:port`` (scheme: tcp, tls, ucx, ws, wss; inproc://...), else
    UserError naming --cluster. Checked before any work; whether a scheduler answers there is checked on connect."""
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    allowed = "give a Dask scheduler address tcp://HOST:PORT (or tls://, ucx://, ws://, wss://, inproc://)"
    if scheme not in _CLUSTER_SCHEMES:
        raise UserError(f"--cluster: {address!r} is not allowed: unknown scheme {scheme!r}; {allowed}")
    if scheme == "inproc":
        if not rest:
            raise UserError(f"--cluster: {address!r} is not allowed: {allowed}")
        return text
    host, colon, port = rest.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535 or "/" in host or " " in host:
        raise UserError(f"--cluster: {address!r} is not allowed: {allowed}")
    return text


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


def point_project(point: SweepPoint, opts: SweepOptions, path: Path):
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
    from had_hls.estimate import area
    from had_hls.estimate.point import fmax_point, synth_point, topn_point
    from had_hls.estimate.power import power_mw, vcd_activity
    from had_hls.estimate.report import memory_bits
    from had_hls.layer import make_vectors
    from had_hls.rtl.sim import default_simulator
    from had_hls.verify.rtlsim import cosim_layer

    t0 = time.perf_counter()
    wdir = Path(work) / point.label
    cdir = Path(cache)
    project = point_project(point, opts, wdir / "project.yaml")
    designs = point_designs(point, opts, wdir)
    specs = {k: d.spec for k, d in designs.items()}
    res: dict[str, Any] = {**asdict(point), "label": point.label}
    sim_ok = opts.power and point.seq_len <= opts.power_max_seq_len
    x = mask = None
    if sim_ok:
        x, mask = make_vectors(project, 1)
        simulator = opts.simulator or default_simulator()
    for kind, spec in specs.items():
        design = designs[kind]
        syn = synth_point(design, wdir / kind / "xcup", cdir, hierarchical=opts.hierarchical)
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
            # long sequences: the rows that cover the activity window (and the cycles per query), not all L
            rows = None
            if point.seq_len > opts.full_rows_max_seq_len:
                per_row = spec.num_heads * design.groups
                rows = min(point.seq_len, 3 + -(-(opts.power_window + design.pipeline_depth) // per_row))
            cs = cosim_layer(spec, x, mask, None, wdir / kind / "sim", simulator, point.lanes, vcd_vectors=1,
                             vcd_start=start, vcd_cycles=start + opts.power_window, design=design, max_rows=rows)
            r["rows_simulated"] = cs.get("rows_simulated", point.seq_len)
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
    if "fp_strong" in res:
        res["area_reduction_vs_strong_fp"] = 1.0 - res["had"]["lut_equivalents"] / res["fp_strong"]["lut_equivalents"]
        pw = (res["had"]["power_mw"], res["fp_strong"]["power_mw"])
        res["power_reduction_vs_strong_fp"] = None if None in pw else 1.0 - pw[0] / pw[1]
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def point_designs(point: SweepPoint, opts: SweepOptions, folder: Path) -> dict[str, Any]:
    """{kind: RtlDesign} of one point (had, fp, and fp_strong with ``opts.strong_fp``), as run_point builds them."""
    from had_hls.estimate.point import with_precision
    from had_hls.layer import build_specs
    from had_hls.rtl.generate import design_for
    from had_hls.spec import strong_fp_precision

    project = point_project(point, opts, folder / "project.yaml")
    specs = dict(zip(("had", "fp"), build_specs(project), strict=True))
    if opts.strong_fp:
        specs["fp_strong"] = with_precision(specs["fp"], strong_fp_precision(specs["fp"].precision))
    return {k: design_for(s, point.lanes, "strong" if k == "fp_strong" else "standard") for k, s in specs.items()}


def prepare_synthesis(points: list[SweepPoint], opts: SweepOptions, folder: Path) -> list[Path]:
    """Self-contained synthesis folders of the points' cores and top-N units (had_hls.estimate.synth), each naming
    the cache file its result belongs in: run them on any machine with Yosys
    (``python -m had_hls.estimate.synth FOLDER... --jobs N``), then ``import_synthesis``."""
    from had_hls.estimate.point import synth_key, topn_key
    from had_hls.estimate.synth import prepare_topn, prepare_xilinx

    jobs: dict[Path, str] = {}
    for point in points:
        base = folder / point.label
        for kind, design in point_designs(point, opts, base).items():
            cache_file = f"synth-{synth_key(design, opts.hierarchical)}.json"
            if cache_file not in jobs.values():  # the same core at another point (an FP core for every N): once
                jobs[prepare_xilinx(design, base / kind, opts.hierarchical)] = cache_file
        d, p, n, L = point.head_dim, point.lanes, point.top_n, point.seq_len
        cache_file = f"topn-{topn_key(d, p, n, L)}.json"
        if cache_file not in jobs.values():
            jobs[prepare_topn(d, p, n, L, base / "topn")] = cache_file
    for path, cache_file in jobs.items():
        job = json.loads((path / "synth_job.json").read_text())
        (path / "synth_job.json").write_text(json.dumps(job | {"cache": cache_file}))
    return list(jobs)


def import_synthesis(folder: Path, cache: Path) -> dict[str, str]:
    """The results of prepared folders (run elsewhere) into a step cache, as the step would have written them;
    returns {folder: cache file or why not}."""
    cache.mkdir(parents=True, exist_ok=True)
    done: dict[str, str] = {}
    for job_file in sorted(folder.rglob("synth_job.json")):
        job = json.loads(job_file.read_text())
        if job.get("flow") in ("part", "rest"):  # a run inside a hierarchical folder (composed into its result)
            continue
        where = str(job_file.parent.relative_to(folder))
        result = job_file.parent / "result.json"
        if "cache" not in job:
            done[where] = "no cache name (not prepared by prepare_synthesis)"
        elif result.is_file():
            write_json(cache / job["cache"], json.loads(result.read_text()))
            done[where] = job["cache"]
        else:
            err = job_file.parent / "error.txt"
            done[where] = "no result" + (f": {err.read_text().strip()}" if err.is_file() else "")
    return done
def _worker_init() -> None:
    """Pool workers leave Ctrl-C to the main process, which ends them (no traceback from every worker)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def make_executor(jobs: int | None, cluster: str | None) -> Iterator[cf.Executor]:
    """ProcessPoolExecutor(jobs or all cores), or the executor of a Dask distributed cluster at ``cluster``
    (``distributed.Client(address).get_executor()``, the client closed on exit).

    Left by an exception (Ctrl-C, SIGTERM, a failure): the local workers and everything they started are killed at
    once, queued points cancelled (a cluster's futures cancelled, its client closed); nothing waits for them."""
    from had_hls.procs import kill_tree

    if cluster:
        try:
            from distributed import Client
        except ImportError:
            raise MissingToolError(
                f"--cluster {cluster}: the Dask distributed client is not installed: pip install 'dask[distributed]'"
            ) from None
        try:
            client = Client(cluster, timeout=f"{CLUSTER_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as err:
            raise UserError(f"--cluster {cluster}: no Dask scheduler answers there ({err})") from None
        ex = client.get_executor()
        try:
            yield ex
        except BaseException:
            ex.shutdown(wait=False)  # cancels its futures
            raise
        finally:
            client.close()
        return
    # spawn, not fork: a forked child of a process that has used torch's thread pool can hang in torch calls
    ex = cf.ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1, mp_context=mp.get_context("spawn"),
                                initializer=_worker_init)
    try:
        yield ex
    except BaseException:
        kill_tree(list(getattr(ex, "_processes", None) or {}))
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    ex.shutdown(wait=True)


def run_sweep(points: list[SweepPoint], out_dir: str | Path, opts: SweepOptions | None = None,
              jobs: int | None = None, cluster: str | None = None, quiet: bool = False) -> dict[str, Any]:
    """Run the missing points in parallel, write ``<out>/sweep.json`` and the plots; returns the sweep dict.

    Every input is checked before any work (UserError: --jobs, --cluster, --out, the memory of each point). A
    finished point is written to ``<out>/cache/point-<key>.json`` at once and atomically, so a sweep stopped by
    Ctrl-C or SIGTERM keeps every finished point and the next run resumes from there; the points' working folders
    live in a temporary folder beside ``<out>``, removed at the end (the logs of failed points are kept under
    ``<out>/logs/<point>/``)."""
    from had_hls.io import check_output_dir, scratch_dir

    opts = opts or SweepOptions()
    if not points:
        raise UserError("sweep: no points (give at least one L, d and P)")
    if jobs is not None and jobs < 1:
        raise UserError(f"--jobs: {jobs} is not allowed: must be >= 1")
    if cluster is not None:
        check_cluster_address(cluster)
    out = check_output_dir(out_dir)
    check_points(points, opts)
    cache = out / "cache"
    made = [d for d in (out, cache) if not d.exists()]
    cache.mkdir(parents=True, exist_ok=True)
    _remove_partial_writes(cache)  # of a sweep killed (SIGKILL) while writing an entry
    try:
        return _run_sweep(points, out, cache, opts, jobs, cluster, quiet, scratch_dir)
    except BaseException:
        _remove_partial_writes(cache)  # a worker killed while writing an entry
        for d in reversed(made):  # a stop before the first finished point leaves no empty folders
            with contextlib.suppress(OSError):
                d.rmdir()
        raise


def _remove_partial_writes(cache: Path) -> None:
    """Temporary files of atomic writes (had_hls.io.atomic_write_text) whose writer was killed."""
    for tmp in cache.glob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)


def _cached_point(path: Path) -> dict[str, Any] | None:
    """A cache entry, None when it is missing or unreadable (then the point runs again)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "label" in data else None


def _run_sweep(points, out, cache, opts, jobs, cluster, quiet, scratch_dir) -> dict[str, Any]:
    t0 = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for p in points:
        path = cache / f"point-{point_key(p, opts)}.json"
        hit = _cached_point(path)
        if hit is not None:
            results[p.label] = hit | {"cached": True}
        else:
            todo.append((p, path))
    if not quiet:
        print(f"sweep: {len(points)} points, {len(points) - len(todo)} cached, {len(todo)} to run", flush=True)
    failed_work: list[str] = []
    with scratch_dir(out, "work") as work:
        if todo:
            with make_executor(jobs, cluster) as ex:
                futs = {ex.submit(run_point, p, opts, str(work), str(cache)): (p, path) for p, path in todo}
                for fut in cf.as_completed(futs):
                    p, path = futs[fut]
                    try:
                        r = fut.result()
                    except Exception as err:  # noqa: BLE001 - one failing point is reported, the others go on
                        results[p.label] = {**asdict(p), "label": p.label, "error": f"{type(err).__name__}: {err}"}
                        if (work / p.label).is_dir():
                            failed_work.append(p.label)
                            results[p.label]["logs"] = f"logs/{p.label}"
                        if not quiet:
                            print(f"  {p.label}: FAILED {err}", flush=True)
                        continue
                    write_json(path, r)  # atomic: a stopped sweep keeps only whole entries
                    results[p.label] = r | {"cached": False}
                    if not quiet:
                        print(f"  {p.label}: area -{100 * r['area_reduction']:.1f}% ({r['seconds']:.0f} s)",
                              flush=True)
        ordered = [results[p.label] for p in points]
        sweep = {
            "points": ordered,
            "options": asdict(opts),
            "computed": sum(1 for r in ordered if r.get("cached") is False),
            "cached": sum(1 for r in ordered if r.get("cached") is True),
            "failed": sum(1 for r in ordered if "error" in r),
            "failed_points": [{"label": r["label"], "error": r["error"], **({"logs": r["logs"]} if "logs" in r else {})}
                              for r in ordered if "error" in r],
            "power_method": POWER_METHOD if opts.power else None,
            "executor": f"dask {cluster}" if cluster
            else f"concurrent.futures.ProcessPoolExecutor({jobs or os.cpu_count()})",
            "seconds": round(time.perf_counter() - t0, 1),
        }
        with staged_output(out) as stage:
            from had_hls.estimate.plots import sweep_plots

            for label in failed_work:  # the logs of failed points, kept under <out>/logs/<point>/
                for log in (work / label).rglob("*.log"):
                    dest = stage / "logs" / label / log.relative_to(work / label)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(log.read_bytes())
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
