"""Synthesis of the sweep's cores run elsewhere: prepare self-contained Yosys folders for every point (each naming
the cache file its result belongs in), run them on any machine with Yosys
(``python -m had_hls.estimate.synth FOLDER... --jobs N``), and import the results into the sweep's cache.
``had-hls sweep --prepare-synthesis DIR`` / ``--import-synthesis DIR``."""

from __future__ import annotations

import json
from pathlib import Path

from had_hls.estimate.sweep.grid import SweepOptions, SweepPoint
from had_hls.estimate.sweep.measure import point_designs, point_ops
from had_hls.io import write_json


def prepare_synthesis(points: list[SweepPoint], opts: SweepOptions, folder: Path) -> list[Path]:
    """Self-contained synthesis folders of the points' cores and top-N units (through the ops' prepared-synthesis
    faces, had_hls.estimate.synth), each naming the cache file its result belongs in: run them on any machine with
    Yosys (``python -m had_hls.estimate.synth FOLDER... --jobs N``), then :func:`import_synthesis`."""
    jobs: dict[Path, str] = {}
    ops = point_ops(opts)
    for point in points:
        base = folder / point.label
        designs = point_designs(point, opts, base)
        for kind, design in designs.items():
            cache_file = ops[kind].synth_cache_file(design, opts.hierarchical)
            if cache_file not in jobs.values():  # the same core at another point (an FP core for every N): once
                jobs[ops[kind].prepare_synth(design, base / kind, opts.hierarchical)] = cache_file
        had = ops["had"]  # the HAD core's top-N unit alone
        cache_file = had.topn_cache_file(designs["had"])
        if cache_file not in jobs.values():
            jobs[had.prepare_topn_synth(designs["had"], base / "topn")] = cache_file
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
