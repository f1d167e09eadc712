"""Whole-model C-simulation benchmark of the default project -> benchmarks/results/model_csim.json.

    .venv/bin/python benchmarks/model_csim.py [--project projects/default.yaml] [--samples N] [--baseline-samples M]
                                              [--baselines run|keep]

1. The distilled HAD student as one hls4ml project (HADAttention layers), g++-compiled, C-simulated on the Fashion-MNIST
   test split (all 10,000 images unless --samples): accuracy vs the float student and the teacher, generated-code
   compile time, C-sim time (forked workers, one per core), one attention layer inside the model vs golden.
2. Baselines on the first --baseline-samples images (default 1000; the full split takes tens of minutes on 2 cores):
   our FP-attention version of the model (the teacher, FPAttention layers) and hls4ml's own route (stock Linear +
   einsum + Softmax attention), same encoder layers.
   ``--baselines keep`` does not rerun them: the previous JSON's ``baselines`` entry is carried over as it was, marked
   ``"rerun": false`` with the date of the run that produced it.
Times are wall-clock on the machine it runs on; the load average at start and end and the CPU seconds (user + system,
this process and its children: g++, the forked C-sim workers) are recorded with them, and an idle-machine estimate
(CPU seconds / cores used), labelled as an estimate.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from had_hls.hls import model_config  # noqa: E402, F401  (registers convert:)
from had_hls.io import write_json  # noqa: E402
from had_hls.project import load_project  # noqa: E402
from had_hls.verify.accuracy import TARGET_POINTS, cpu_seconds, format_accuracy, run_model_csim  # noqa: E402

CSIM_TARGET_S = 120.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default=str(REPO / "projects" / "default.yaml"))
    ap.add_argument("--samples", type=int, default=None, help="test images for the HAD model (default: all)")
    ap.add_argument("--baseline-samples", type=int, default=1000, help="test images for the FP and stock baselines")
    ap.add_argument(
        "--baselines", choices=("run", "keep"), default="run", help="keep: carry the previous JSON's baselines over"
    )
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "model_csim.json"))
    args = ap.parse_args(argv)

    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.is_file() else {}
    if args.baselines == "keep" and "baselines" not in previous:
        raise SystemExit(f"--baselines keep: {out} has no baselines to keep")
    project = load_project(args.project)
    load = os.getloadavg()
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="model_csim_") as tmp:
        had = run_model_csim(project, tmp, samples=args.samples, routes=("had",), bit_exact_samples=16)
        print(format_accuracy(had), flush=True)
        load_after_had = os.getloadavg()
        base = None
        if args.baselines == "run":
            base = run_model_csim(
                project, tmp, samples=args.baseline_samples, routes=("fp", "stock"), bit_exact_samples=0
            )
            print(format_accuracy(base), flush=True)
    for report in (had, base):  # the projects were in a temporary folder
        for route in (report or {"model_csim": {"routes": {}}})["model_csim"]["routes"].values():
            route.pop("project_dir", None)
    r = had["model_csim"]["routes"]["had"]
    a = had["accuracy"]
    workers = had["model_csim"]["workers"]
    result = {
        "benchmark": "whole-model C-sim of the default HAD encoder on the Fashion-MNIST test split",
        "project": str(Path(args.project).resolve().relative_to(REPO)),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_at_start": [round(v, 2) for v in load],
            "load_average_after_had": [round(v, 2) for v in load_after_had],
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
            "note": "shared machine: other jobs ran at the same time (load averages above); times are wall clock",
        },
        "had": {
            "samples": a["samples"],
            "accuracy": a,
            "loss_points_vs_student": had["model_csim"]["had_loss_points_vs_student"],
            "accuracy_target": f"within {TARGET_POINTS} points of the float student",
            "accuracy_target_met": had["model_csim"]["within_target"],
            "argmax_agreement_vs_student": r["argmax_agreement_vs_float"],
            "compile_s": r["compile_s"],
            "compile_cpu_s": had["model_csim"]["compile_cpu_s"],
            "csim_s": r["csim_s"],
            "csim_cpu_s": r["csim_cpu_s"],
            "ms_per_image": r["ms_per_sample"],
            "csim_target_s": CSIM_TARGET_S,
            "csim_target_met": r["csim_s"] < CSIM_TARGET_S,
            "workers": workers,
            "csim_idle_estimate_s": round(r["csim_cpu_s"] / workers, 1),
            "csim_idle_estimate_note": "estimate, not a measurement: C-sim CPU seconds / workers (the wall time on "
            "an idle machine with that many free cores)",
            "attention_bit_exact": had["model_csim"].get("attention_bit_exact"),
        },
        "total_s": round(time.perf_counter() - t0, 1),
        "total_cpu_s": round(cpu_seconds() - cpu0, 1),
    }
    if base is not None:
        result["baselines"] = {
            "rerun": True,
            "samples": base["accuracy"]["samples"],
            "float_student_accuracy_same_images": base["accuracy"]["student"],
            # a trained teacher's accuracy; absent when the project has none (then the FP routes ran the student
            # with float attention, reported as such)
            "teacher_accuracy_same_images": base["accuracy"].get("teacher"),
            "student_float_attention_accuracy_same_images": base["accuracy"].get("student_float_attention"),
            "routes": base["model_csim"]["routes"],
            "fp_model": base["model_csim"]["fp_model"],
            "compile_cpu_s": base["model_csim"]["compile_cpu_s"],
        }
    else:
        kept = dict(previous["baselines"])
        kept["rerun"] = False
        kept.setdefault("from_run", previous.get("date") or "an earlier run (before had-hls recorded dates here)")
        kept["note"] = "not rerun by this invocation (--baselines keep): carried over from the run named in from_run"
        kept.setdefault("machine", previous.get("machine"))
        result["baselines"] = kept
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, result)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
