"""The sweep run: check every input, take the cached points, run the missing ones on the executor (local processes
or a Dask cluster), cache each finished point at once, and write the results. ``had-hls sweep`` calls
:func:`run_sweep`."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from had_hls.errors import UserError
from had_hls.estimate.sweep.executor import check_cluster_address, executor_name, make_executor
from had_hls.estimate.sweep.grid import SweepOptions, SweepPoint, check_points
from had_hls.estimate.sweep.measure import run_point
from had_hls.estimate.sweep.point_cache import cached_point, point_file, remove_partial_writes
from had_hls.estimate.sweep.results import sweep_summary, write_sweep
from had_hls.io import write_json


def run_sweep(points: list[SweepPoint], out_dir: str | Path, opts: SweepOptions | None = None,
              jobs: int | None = None, cluster: str | None = None, quiet: bool = False) -> dict[str, Any]:
    """Run the missing points in parallel, write ``<out>/sweep.json`` and the plots; returns the sweep dict.

    Every input is checked before any work (UserError: --jobs, --cluster, --out, the memory of each point). A
    finished point is written to ``<out>/cache/point-<key>.json`` at once and atomically, so a sweep stopped by
    Ctrl-C or SIGTERM keeps every finished point and the next run resumes from there; the points' working folders
    live in a temporary folder beside ``<out>``, removed at the end (the logs of failed points are kept under
    ``<out>/logs/<point>/``)."""
    from had_hls.io import check_output_dir

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
    remove_partial_writes(cache)  # of a sweep killed (SIGKILL) while writing an entry
    try:
        return _run_sweep(points, out, cache, opts, jobs, cluster, quiet)
    except BaseException:
        remove_partial_writes(cache)  # a worker killed while writing an entry
        for d in reversed(made):  # a stop before the first finished point leaves no empty folders
            with contextlib.suppress(OSError):
                d.rmdir()
        raise


def _run_sweep(points: list[SweepPoint], out: Path, cache: Path, opts: SweepOptions, jobs: int | None,
               cluster: str | None, quiet: bool) -> dict[str, Any]:
    """The cached points, then the missing ones on the executor (a failing point is reported, the others go on),
    then the results (had_hls.estimate.sweep.results)."""
    from had_hls.io import scratch_dir

    t0 = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for p in points:
        path = point_file(cache, p, opts)
        hit = cached_point(path)
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
        sweep = sweep_summary(ordered, opts, executor_name(jobs, cluster), time.perf_counter() - t0)
        write_sweep(out, sweep, work, failed_work)
    return sweep
