"""Benchmark: hierarchical against flat synthesis of both cores, at two shapes where flat synthesis finishes.

    .venv/bin/python benchmarks/synth_flows.py [--jobs 2] [--out benchmarks/results/synth_flows.json]
    .venv/bin/python benchmarks/synth_flows.py --prepare DIR     # folders only; run them on a many-core host:
    python -m had_hls.estimate.synth DIR/*/ --jobs 16
    .venv/bin/python benchmarks/synth_flows.py --collect DIR     # results back -> JSON

Flat: ``synth_xilinx -flatten`` of the whole core. Hierarchical: ``synth_xilinx`` without ``-flatten``, so each
distinct module (a lane, an adder tree, a bank, the top-N unit's pieces) is synthesised once whatever its instance
count, then the mapped netlist is flattened for the counts (had_hls.estimate.synth.prepare_xilinx). The shapes: the
default project's layer 0 (L = 49, E = 64, H = 4, N = 16, P = 4) and the paper's point (L = 512, d = 64, N = 64,
P = 8, 16-bit exp table, as benchmarks/report_point.py). Per resource the hierarchical count must be within 5% of
the flat one (``agree_within_5pct``); the JSON records the synthesis seconds of both flows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from had_hls.estimate.synth import prepare_xilinx, run_batch, yosys_version
from had_hls.io import write_json

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "synth_flows.json"
RESOURCES = ("lut", "ff", "dsp", "bram")


def designs() -> dict[str, object]:
    """{shape label: {kind: RtlDesign}} of the two shapes."""
    from had_hls.estimate.sweep import SweepOptions, SweepPoint, point_project
    from had_hls.layer import build_specs
    from had_hls.project import load_project
    from had_hls.rtl.generate import design_for

    out = {}
    project = load_project(ROOT / "projects" / "default.yaml")
    lanes = project.section("rtl").lanes
    out["default"] = {k: design_for(s, lanes) for k, s in zip(("had", "fp"), build_specs(project), strict=True)}
    point = SweepPoint(512, 64, 64, 8)
    opts = SweepOptions(precision={"exp_table": "ap_ufixed<16,1,AP_RND,AP_SAT>"})
    with tempfile.TemporaryDirectory() as tmp:
        paper = point_project(point, opts, Path(tmp) / "project.yaml")
        out["paper"] = {k: design_for(s, 8) for k, s in zip(("had", "fp"), build_specs(paper), strict=True)}
    return out


def prepare(folder: Path) -> list[Path]:
    dirs = []
    for shape, ds in designs().items():
        for kind, d in ds.items():
            for flow in ("flat", "hierarchical"):
                dirs.append(prepare_xilinx(d, folder / f"{shape}_{kind}_{flow}", hierarchical=flow == "hierarchical"))
    return dirs


def collect(folder: Path, wall_s: float | None, where: str) -> dict:
    rows = []
    for shape in ("default", "paper"):
        for kind in ("had", "fp"):
            row: dict = {"shape": shape, "kind": kind}
            for flow in ("flat", "hierarchical"):
                r = folder / f"{shape}_{kind}_{flow}" / "result.json"
                if r.is_file():
                    res = json.loads(r.read_text())
                    row[flow] = {k: res[k] for k in RESOURCES} | {"seconds": res["seconds"],
                                                                   "logic_levels": res["timing"]["logic_levels"]}
            if "flat" in row and "hierarchical" in row:
                dev = {k: (row["hierarchical"][k] / row["flat"][k] - 1.0) if row["flat"][k] else 0.0
                       for k in RESOURCES}
                row["relative_difference"] = dev
                row["agree_within_5pct"] = all(abs(v) <= 0.05 for v in dev.values())
                row["speedup"] = row["flat"]["seconds"] / max(row["hierarchical"]["seconds"], 1e-9)
            rows.append(row)
    return {"tool": yosys_version(), "rows": rows, "all_agree": all(r.get("agree_within_5pct") for r in rows),
            "wall_s": wall_s, "machine": where}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--prepare", default=None)
    ap.add_argument("--collect", default=None)
    ap.add_argument("--machine", default=None)
    a = ap.parse_args(argv)
    here = f"{os.cpu_count()} cores, {platform.platform()}"
    if a.prepare:
        print(f"prepared {len(prepare(Path(a.prepare).resolve()))} folders under {a.prepare}")
        return 0
    if a.collect:
        res = collect(Path(a.collect).resolve(), None, a.machine or here)
    else:
        work = Path(tempfile.mkdtemp(prefix="synth_flows-"))
        try:
            dirs = prepare(work)
            t0 = time.perf_counter()
            run_batch(dirs, a.jobs)
            res = collect(work, round(time.perf_counter() - t0, 1), here)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    write_json(a.out, res)
    print(f"wrote {a.out}: hierarchical within 5% of flat everywhere: {res['all_agree']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
