"""Benchmark: C-simulation compile and run time of one attention layer (HAD + FP), default L=128, E=64, H=2.

    .venv/bin/python benchmarks/csim_time.py [--project projects/attn_demo.yaml] [--vectors 64]

Writes benchmarks/results/csim_time.json. Target (issue #2): compile + run under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from had_hls.io import write_json
from had_hls.project import load_project
from had_hls.verify.csim import run_csim

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=str(ROOT / "projects" / "attn_demo.yaml"))
    parser.add_argument("--vectors", type=int, default=64)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "csim_time.json"))
    args = parser.parse_args()
    project = load_project(args.project)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = run_csim(project, Path(tmp) / "out", args.vectors)
        total = time.perf_counter() - t0
    result = {
        "project": Path(args.project).name,
        "shape": report["shape"],
        "vectors": report["vectors"],
        "compile_s_wall": report["compile_s"],
        "compile_s": {"had": report["had"]["compile_s"], "fp": report["fp_baseline"]["compile_s"]},
        "run_s": {"had": report["had"]["run_s"], "fp": report["fp_baseline"]["run_s"]},
        "csim_s": round(report["compile_s"] + report["run_s"], 3),
        "total_s_including_golden_and_torch": round(total, 3),
        "target_s": 60,
        "meets_target": report["compile_s"] + report["run_s"] < 60,
        "golden_mismatches": {"had": report["golden_mismatches"], "fp": report["fp_baseline"]["golden_mismatches"]},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_1min_at_end": os.getloadavg()[0],
        },
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    write_json(args.out, result)
    shape = report["shape"]
    print(
        f"C-sim L={shape['seq_len']} E={shape['embed_dim']}: compile {result['compile_s_wall']:.1f} s (parallel), "
        f"run {report['run_s']:.1f} s -> {args.out}"
    )


if __name__ == "__main__":
    main()
