"""Benchmark: the hierarchical synthesis flow against flat synthesis of both cores.

    .venv/bin/python benchmarks/synth_flows.py [--jobs 2] [--out benchmarks/results/synth_flows.json]
    .venv/bin/python benchmarks/synth_flows.py --prepare DIR     # folders only (needs Yosys: the hierarchical
    python -m had_hls.estimate.synth DIR/*/ --jobs 16 --timeout 560   # ones are elaborated here); run elsewhere
    .venv/bin/python benchmarks/synth_flows.py --import DIR      # results back -> JSON
    .venv/bin/python benchmarks/synth_flows.py --small ...       # small shapes only (local validation)

``--timeout`` applies to each Yosys run (a part or the rest of a hierarchical folder, a flat core). Preparing the
L = 8192 row takes minutes before any folder appears: the point's spec calibration runs the float attention over
L x L (had_hls.verify.csim), and the hierarchical folders are elaborated by Yosys when prepared.

Flat: ``synth_xilinx -flatten`` of the whole core. Hierarchical (had_hls.estimate.synth_hier.prepare_hierarchical): the
core elaborated once, its replicated or large modules chosen from the elaborated hierarchy, each distinct one
synthesised flat once, the rest flat with them as black boxes, resources = rest + sum(instances x part). Shapes:
the default project's layer 0 (L = 49, E = 64, H = 4, N = 16, P = 4), the paper's point (L = 512, d = 64, N = 64,
P = 8, 16-bit exp table, as benchmarks/report_point.py), both flows; L = 8192 (d = 64, N = 64, P = 8) hierarchical
only. Per row: the resources of each flow, the relative differences, ``agree_within_5pct`` (every resource within
5 %), CPU seconds (user + system of the Yosys processes, summed over a flow's runs, elaboration included) and wall
seconds (first start to last end; the runs go in parallel).
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

from had_hls.estimate.synth import prepare_xilinx, run_batch
from had_hls.estimate.yosys import yosys_version
from had_hls.io import write_json

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "synth_flows.json"
RESOURCES = ("lut", "ff", "dsp", "bram")
EXP16 = {"exp_table": "ap_ufixed<16,1,AP_RND,AP_SAT>"}
# label: (L, d, N, P, exp_table override, flows); "default" = the default project's layer 0
SHAPES = {
    "default": (None, None, None, None, None, ("flat", "hierarchical")),
    "paper": (512, 64, 64, 8, EXP16, ("flat", "hierarchical")),
    "L8192": (8192, 64, 64, 8, EXP16, ("hierarchical",)),
}
SMALL = {
    "L64_d16_P4": (64, 16, 8, 4, None, ("flat", "hierarchical")),
    "L128_d32_P8": (128, 32, 16, 8, None, ("flat", "hierarchical")),
}


def designs(shapes: dict) -> dict[str, dict]:
    """{shape label: {kind: RtlDesign}}."""
    from had_hls.estimate.sweep import SweepOptions, SweepPoint, point_designs
    from had_hls.layer import build_layer
    from had_hls.ops import pair
    from had_hls.project import load_project

    out = {}
    for label, (L, d, n, p, prec, _) in shapes.items():
        if L is None:
            project = load_project(ROOT / "projects" / "default.yaml")
            lanes = project.section("rtl").lanes
            layer = build_layer(project)
            out[label] = {k: o.rtl_design(o.spec(project, layer), lanes) for k, o in pair().items()}
            continue
        with tempfile.TemporaryDirectory() as tmp:
            ds = point_designs(SweepPoint(L, d, n, p), SweepOptions(precision=prec), Path(tmp))
        out[label] = {k: ds[k] for k in ("had", "fp")}
    return out


def prepare(folder: Path, shapes: dict) -> list[Path]:
    dirs = []
    for shape, ds in designs(shapes).items():
        for kind, d in ds.items():
            for flow in shapes[shape][5]:
                t0 = time.perf_counter()
                dirs.append(prepare_xilinx(d, folder / f"{shape}_{kind}_{flow}", hierarchical=flow == "hierarchical"))
                print(f"prepared {dirs[-1].name} in {time.perf_counter() - t0:.1f} s", flush=True)
    return dirs


def _flow_row(res: dict) -> dict:
    h = res.get("hierarchy") or {}
    # CPU: the Yosys processes' user + system time (pyosys); without it, the runs' wall seconds summed
    cpu = res.get("cpu_seconds")
    out = {k: res[k] for k in RESOURCES} | {
        "cpu_seconds": cpu if cpu is not None else h.get("run_seconds", res["seconds"]),
        "cpu_measured": cpu is not None,
        "wall_seconds": h.get("wall_seconds") or res["seconds"],
        "logic_levels": res["timing"]["logic_levels"]}
    if h:
        out["yosys_runs"] = h["yosys_runs"]
        out["parts"] = [{k: p[k] for k in ("module", "instances", "lut", "ff", "dsp", "bram", "seconds")}
                        | {"cpu_seconds": (h.get("cpu_seconds_by_run") or {}).get(p["name"])} for p in h["parts"]]
    return out


def collect(folder: Path, shapes: dict, wall_s: float | None, where: str) -> dict:
    rows = []
    for shape in shapes:
        for kind in ("had", "fp"):
            row: dict = {"shape": shape, "kind": kind}
            for flow in ("flat", "hierarchical"):
                r = folder / f"{shape}_{kind}_{flow}" / "result.json"
                if r.is_file():
                    row[flow] = _flow_row(json.loads(r.read_text()))
            if "flat" in row and "hierarchical" in row:
                f, h = row["flat"], row["hierarchical"]
                dev = {k: (h[k] / f[k] - 1.0) if f[k] else (0.0 if not h[k] else 1.0) for k in RESOURCES}
                row["relative_difference"] = dev
                row["agree_within_5pct"] = all(abs(v) <= 0.05 for v in dev.values())
                row["cpu_speedup"] = f["cpu_seconds"] / max(h["cpu_seconds"], 1e-9)
                row["wall_speedup"] = f["wall_seconds"] / max(h["wall_seconds"], 1e-9)
            rows.append(row)
    compared = [r for r in rows if "agree_within_5pct" in r]
    return {"tool": yosys_version(), "rows": rows, "all_agree": bool(compared) and all(
        r["agree_within_5pct"] for r in compared), "wall_s": wall_s, "machine": where}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--prepare", default=None, metavar="DIR")
    ap.add_argument("--import", "--collect", dest="import_", default=None, metavar="DIR")
    ap.add_argument("--small", action="store_true", help="the small validation shapes instead")
    ap.add_argument("--machine", default=None)
    a = ap.parse_args(argv)
    shapes = SMALL if a.small else SHAPES
    here = f"{os.cpu_count()} cores, {platform.platform()}"
    if a.prepare:
        print(f"prepared {len(prepare(Path(a.prepare).resolve(), shapes))} folders under {a.prepare}")
        return 0
    if a.import_:
        res = collect(Path(a.import_).resolve(), shapes, None, a.machine or here)
    else:
        work = Path(tempfile.mkdtemp(prefix="synth_flows-"))
        try:
            dirs = prepare(work, shapes)
            t0 = time.perf_counter()
            run_batch(dirs, a.jobs)
            res = collect(work, shapes, round(time.perf_counter() - t0, 1), here)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    write_json(a.out, res)
    print(f"wrote {a.out}: hierarchical within 5% of flat everywhere: {res['all_agree']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
