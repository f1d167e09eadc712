"""Benchmark: HAD vs FP attention core at one design point (default: the paper's L=512, d=64), real tools.

    .venv/bin/python benchmarks/report_point.py [--seq-len 512] [--head-dim 64] [--top-n 64] [--lanes 8]
        [--exp-table 'ap_ufixed<16,1,AP_RND,AP_SAT>'] [--power-window 2048] [--fmax]
        [--out benchmarks/results/report_L512_d64.json]

One single-head layer (E = d) with seeded random weights (had_hls.estimate.sweep.run_point): Yosys synth_xilinx
-family xcup of both cores, LUT-equivalents on the xcvu13p, co-simulation cycles and power (activity over
--power-window cycles of steady-state attention, after the keys are loaded), the counting top-N unit alone.
Defaults: the paper's point, L = 512, d = 64, N = 64, P = 8, with a 16-bit exp table for both kinds (the committed
result's setting: before issue 13 the golden model held 62 bits and the FP core's exact normalisation product over
512 keys needs 63 with the default 18-bit table; ``--exp-table default`` runs the project default, exact now).
Writes the JSON with the machine, the wall time
and the paper's targets beside the measured reductions. The result is cached under benchmarks/results/.cache so a
rerun with the same sources only rewrites the JSON.

The syntheses (minutes each at the paper's point) can run on another machine with Yosys:
    report_point.py --prepare DIR             # self-contained synthesis folders of both cores and the top-N unit
    python -m had_hls.estimate.synth DIR/*/ --jobs 3    # there
    report_point.py --import DIR              # their results into the cache; then report_point.py as usual
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from had_hls.estimate.report import PAPER_AREA_REDUCTION, PAPER_POWER_REDUCTION
from had_hls.estimate.sweep import SweepOptions, SweepPoint, import_synthesis, prepare_synthesis, run_sweep
from had_hls.io import write_json

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--top-n", type=int, default=None, help="default L/8")
    parser.add_argument("--lanes", type=int, default=8)
    parser.add_argument("--exp-table", default="ap_ufixed<16,1,AP_RND,AP_SAT>")
    parser.add_argument("--power-window", type=int, default=2048)
    parser.add_argument("--fmax", action="store_true")
    parser.add_argument("--no-strong-fp", dest="strong_fp", action="store_false",
                        help="leave out the strong FP baseline (8-bit Q/K, packed DSPs, shared exp tables)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--prepare", default=None, help="write the synthesis folders here and stop")
    parser.add_argument("--import", dest="import_", default=None, help="put the results of those folders in the cache")
    args = parser.parse_args()
    n = args.top_n or max(1, args.seq_len // 8)
    point = SweepPoint(args.seq_len, args.head_dim, n, args.lanes)
    out = Path(args.out or ROOT / "benchmarks" / "results" / f"report_L{args.seq_len}_d{args.head_dim}.json")
    precision = None if args.exp_table == "default" else {"exp_table": args.exp_table}
    opts = SweepOptions(fmax=args.fmax, power_max_seq_len=max(args.seq_len, 1), power_window=args.power_window,
                        precision=precision, strong_fp=args.strong_fp)
    cache = ROOT / "benchmarks" / "results" / ".cache" / "report_point"
    if args.prepare:
        for path in prepare_synthesis([point], opts, Path(args.prepare).resolve()):
            print(f"prepared {path}")
        return
    if args.import_:
        for where, what in import_synthesis(Path(args.import_), cache / "cache").items():  # run_sweep's step cache
            print(f"{where}: {what}")
        return
    t0 = time.perf_counter()
    sweep = run_sweep([point], cache, opts, jobs=1)
    res = sweep["points"][0]
    result = {
        "point": res,
        "fp_baselines": {"fp": "16-bit Q/K (the project default), one exp table per lane",
                         "fp_strong": "8-bit Q/K, two score products per DSP48E2, an exp table per pair of lanes"}
        if args.strong_fp else {"fp": "16-bit Q/K (the project default), one exp table per lane"},
        "paper_targets": {"area_reduction": PAPER_AREA_REDUCTION, "power_reduction": PAPER_POWER_REDUCTION},
        "area_met": res.get("area_reduction") is not None and res["area_reduction"] >= PAPER_AREA_REDUCTION,
        "power_met": res.get("power_reduction") is not None and res["power_reduction"] >= PAPER_POWER_REDUCTION,
        "wall_s": round(time.perf_counter() - t0, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    write_json(out, result)
    print(f"wrote {out}: area reduction {res.get('area_reduction')}, power reduction {res.get('power_reduction')}")


if __name__ == "__main__":
    main()
