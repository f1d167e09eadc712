"""Benchmark: the main job (`had-hls run projects/default.yaml`) in a fresh output folder: stage times and headline.

    .venv/bin/python benchmarks/main_job.py [--project projects/default.yaml] [--keep DIR]
        [--out benchmarks/results/main_job.json]

Runs the pipeline of `had-hls run` (had_hls.pipeline.run_pipeline, what the command calls) on the project into a
new temporary folder (or --keep DIR, which must not exist), and writes what the README quotes from it: wall and CPU
seconds of the whole job and of each stage, the stages' status, and the report's HAD vs FP figures (LUT-equivalents,
per-resource reductions, power, the ASIC cross-check when present, cycles per query) with the C-sim / co-simulation
verdicts. The load average before and after says whether the machine was idle.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from had_hls.io import write_json
from had_hls.project import load_project

ROOT = Path(__file__).resolve().parents[1]


def cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _shown(path: str) -> str:
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def headline(out: Path) -> dict:
    """The figures the README quotes, read back from the job's own outputs."""
    rep = json.loads((out / "report.json").read_text())
    keys = ("lut", "ff", "dsp", "bram", "lut_equivalents", "power_mw", "cycles_per_query")
    res = {
        "had": {k: rep["had"][k] for k in keys},
        "fp": {k: rep["fp"][k] for k in keys},
        "area_reduction": rep["area_reduction"],
        "reductions": rep.get("reductions"),
        "area_sensitivity": rep.get("area_sensitivity"),
        "power_reduction": rep["power_reduction"],
        "power_model": rep.get("power_model"),
        "power_crosscheck": rep.get("power_crosscheck"),
        "clock_mhz": rep["equal_throughput"]["clock_mhz"],
        "report_seconds": rep.get("seconds"),
    }
    if (out / "csim.json").is_file():
        cs = json.loads((out / "csim.json").read_text())
        res["csim_golden_mismatches"] = {"had": cs["golden_mismatches"], "fp": cs["fp_baseline"]["golden_mismatches"]}
        res["accuracy"] = cs.get("accuracy")
    if (out / "cosim.json").is_file():
        co = json.loads((out / "cosim.json").read_text())
        res["cosim_pass"] = co["pass"]
    return res


def main() -> None:
    from had_hls.pipeline import run_pipeline, summary_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=str(ROOT / "projects" / "default.yaml"))
    parser.add_argument("--keep", default=None, help="run into this folder (must not exist) and keep it")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "main_job.json"))
    args = parser.parse_args()
    project = load_project(args.project)
    with tempfile.TemporaryDirectory(prefix="main_job_") as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / project.name
        if out.exists():
            raise SystemExit(f"main_job: {out} exists: the job must start from a fresh output folder")
        load_start = os.getloadavg()
        t0, c0 = time.perf_counter(), cpu_s()
        stages = run_pipeline(project, out)
        wall, cpu = time.perf_counter() - t0, cpu_s() - c0
        load_end = os.getloadavg()
        print(summary_table(stages))
        ok = all(s.status in ("ok", "skipped") for s in stages)
        result = {
            "command": f"had-hls run {_shown(args.project)} --out <a fresh folder>",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "ok": ok,
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),
            "stages": [
                {"name": s.name, "status": s.status, "seconds": round(s.seconds, 1), "result": s.headline}
                for s in stages
            ],
            "headline": headline(out) if ok else None,
            "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in load_end],
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        }
    write_json(args.out, result)
    print(f"wrote {args.out}: {'ok' if ok else 'FAILED'} in {result['wall_s']} s wall, {result['cpu_s']} CPU-s")


if __name__ == "__main__":
    main()
