"""Benchmark: the ASIC power cross-check (Yosys -> OSU 0.35 um cells, OpenSTA ``report_power`` with every net's
simulated activity) beside the FPGA gate-level model, on a small single-layer project.

    .venv/bin/python benchmarks/asic_crosscheck.py [--seq-len 12] [--embed-dim 8] [--top-n 3]
    .venv/bin/python benchmarks/asic_crosscheck.py --project projects/default.yaml

Runs `had-hls run` (had_hls.pipeline.run_pipeline) with ``rtl.power_crosscheck: true`` into a temporary folder:
by default on a one-head layer with seeded random weights, with ``--project`` on a shipped project (its layer, its
trained weights, its ``csim.vectors``; the whole-model C-sim cut to ``--samples`` test images, which the cross-check
does not read). Writes the report's ``power_crosscheck`` and ``power_model`` (the two power ratios side by side)
with the wall seconds to ``benchmarks/results/asic_crosscheck_L<L>.json`` (``asic_crosscheck_<name>.json`` for a
project). The Yosys mapping to the standard cells takes minutes per core already at L = 12 (docs/report.md), which
is why the cross-check is off in the shipped projects.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import yaml

from had_hls.io import write_json

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from had_hls.config import ConfigError, read_project_file
    from had_hls.errors import MissingToolError, UserError
    from had_hls.estimate.asic_sta import sta_path
    from had_hls.pipeline import run_pipeline, summary_table
    from had_hls.project import load_project, parse_project

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seq-len", type=int, default=12)
    ap.add_argument("--embed-dim", type=int, default=8)
    ap.add_argument("--top-n", type=int, default=3)
    ap.add_argument("--lanes", type=int, default=2)
    ap.add_argument("--project", default=None, help="a project YAML instead of the random one-head layer")
    ap.add_argument("--samples", type=int, default=100,
                    help="with --project: test images of the whole-model C-sim (csim.samples, baseline_samples)")
    a = ap.parse_args()
    try:  # before minutes of C-sim and co-simulation, not after (the report would only record the error)
        sta_path()
    except MissingToolError as exc:
        print(f"asic_crosscheck: {exc}", file=sys.stderr)
        return 2
    if a.project:
        try:  # read and validated once, with the cross-check's settings: one line naming a bad file, key or value
            raw, source = read_project_file(a.project)
            doc = dict(raw) if isinstance(raw, dict) else raw
            if isinstance(doc, dict):
                doc["csim"] = {**(doc.get("csim") or {}), "samples": a.samples, "baseline_samples": a.samples}
                doc["rtl"] = {**(doc.get("rtl") or {}), "fmax": False, "gate_level_power": True,
                              "power_crosscheck": True}
            project = parse_project(doc, source)  # relative paths (checkpoints) stay relative to the project file
        except (UserError, ConfigError) as exc:
            print(f"asic_crosscheck: --project: {exc}", file=sys.stderr)
            return 2
        name = f"asic_crosscheck_{project.name}.json"
        command = f"benchmarks/asic_crosscheck.py --project {a.project} --samples {a.samples}"
    else:
        project = None
        doc = {
            "name": "asic_crosscheck",
            "model": {"seq_len": a.seq_len, "embed_dim": a.embed_dim, "num_heads": 1, "top_n": a.top_n, "seed": 3},
            "csim": {"vectors": 1},
            "rtl": {"lanes": a.lanes, "fmax": False, "gate_level_power": True, "power_crosscheck": True},
        }
        name = f"asic_crosscheck_L{a.seq_len}.json"
        command = "benchmarks/asic_crosscheck.py " + " ".join(
            f"--{k}".replace("_", "-") + f" {getattr(a, k)}" for k in ("seq_len", "embed_dim", "top_n", "lanes"))
    with tempfile.TemporaryDirectory(prefix="asic_crosscheck_") as tmp:
        t0 = time.perf_counter()
        if project is None:
            path = Path(tmp) / "asic_crosscheck.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            project = load_project(path)
        stages = run_pipeline(project, Path(tmp) / "out")
        wall = time.perf_counter() - t0
        print(summary_table(stages))
        report_file = Path(tmp) / "out" / "report.json"
        rep = json.loads(report_file.read_text()) if report_file.is_file() else {}
    result = {
        "command": command,
        "project": doc,
        # the cross-check itself ran: the report records why when it did not (e.g. above rtl.power_max_cells)
        "ok": all(s.status in ("ok", "skipped") for s in stages)
        and "error" not in (rep.get("power_crosscheck") or {"error": "no report"}),
        "wall_s": round(wall, 1),
        "stages": {s.name: {"status": s.status, "seconds": round(s.seconds, 1), "headline": s.headline}
                   for s in stages},
        "power_crosscheck": rep.get("power_crosscheck"),
        "power_model": rep.get("power_model"),
        "fpga_power_mw": {k: rep[k]["power_mw"] for k in ("had", "fp")} if rep else None,
        "fpga_power_reduction": rep.get("power_reduction"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
    }
    out = ROOT / "benchmarks" / "results" / name
    write_json(out, result)
    print(f"wrote {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
