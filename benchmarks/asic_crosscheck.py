"""Benchmark: the ASIC power cross-check (Yosys -> OSU 0.35 um cells, OpenSTA ``report_power`` with every net's
simulated activity) beside the FPGA gate-level model, on a small single-layer project.

    .venv/bin/python benchmarks/asic_crosscheck.py [--seq-len 12] [--embed-dim 8] [--top-n 3]

Runs `had-hls run` (had_hls.pipeline.run_pipeline) on a one-head layer with seeded random weights and
``rtl.power_crosscheck: true`` into a temporary folder, and writes the report's ``power_crosscheck`` and
``power_model`` (the two power ratios side by side) with the wall seconds to
``benchmarks/results/asic_crosscheck_L<L>.json``. Small by default: the Yosys mapping to the standard cells takes
minutes per core already at L = 12 (docs/report.md), which is why the cross-check is off in the shipped projects.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import yaml

from had_hls.io import write_json

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from had_hls.pipeline import run_pipeline, summary_table
    from had_hls.project import load_project

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seq-len", type=int, default=12)
    ap.add_argument("--embed-dim", type=int, default=8)
    ap.add_argument("--top-n", type=int, default=3)
    ap.add_argument("--lanes", type=int, default=2)
    a = ap.parse_args()
    doc = {
        "name": "asic_crosscheck",
        "model": {"seq_len": a.seq_len, "embed_dim": a.embed_dim, "num_heads": 1, "top_n": a.top_n, "seed": 3},
        "csim": {"vectors": 1},
        "rtl": {"lanes": a.lanes, "fmax": False, "gate_level_power": True, "power_crosscheck": True},
    }
    with tempfile.TemporaryDirectory(prefix="asic_crosscheck_") as tmp:
        path = Path(tmp) / "asic_crosscheck.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        t0 = time.perf_counter()
        stages = run_pipeline(load_project(path), Path(tmp) / "out")
        wall = time.perf_counter() - t0
        print(summary_table(stages))
        report_file = Path(tmp) / "out" / "report.json"
        rep = json.loads(report_file.read_text()) if report_file.is_file() else {}
    result = {
        "command": "benchmarks/asic_crosscheck.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items()),
        "project": doc,
        "ok": all(s.status in ("ok", "skipped") for s in stages),
        "wall_s": round(wall, 1),
        "power_crosscheck": rep.get("power_crosscheck"),
        "power_model": rep.get("power_model"),
        "fpga_power_mw": {k: rep[k]["power_mw"] for k in ("had", "fp")} if rep else None,
        "fpga_power_reduction": rep.get("power_reduction"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
    }
    out = ROOT / "benchmarks" / "results" / f"asic_crosscheck_L{a.seq_len}.json"
    write_json(out, result)
    print(f"wrote {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
