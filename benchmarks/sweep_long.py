"""Benchmark: the sweep from L = 128 to 8192 (issue 13): d in {32, 64}, N in {32, 64}, P = 8, one head, seeded random
weights, on the Dask path (a local ``distributed.LocalCluster``: the same executor a user's cluster gives).

Synthesis is the hierarchical flow (had_hls.estimate.synth: each part module once, composed by instance count;
benchmarks/results/synth_flows.json measures it against flat). It is heavy for two cores, so it runs from prepared
folders on a many-core host:

    .venv/bin/had-hls sweep --seq-len 128,256,512,1024,2048,4096,8192 --head-dim 32,64 --top-n 32,64 --lanes 8 \\
        --hierarchical --prepare-synthesis DIR --out projects/sweep_long
    python -m had_hls.estimate.synth DIR/*/*/ --jobs 16 --timeout 540          # on the many-core host
    .venv/bin/python benchmarks/sweep_long.py --import DIR [--no-power]
    .venv/bin/python benchmarks/sweep_long.py --import DIR --power-grid 64,64    # power along L for one (d, N)
    .venv/bin/python benchmarks/sweep_long.py --combine-power    # the four power columns in one plot (no run)

Power and cycles come from a Verilator co-simulation of every point (up to L = 8192): beyond L = 256 only the query
rows that cover the 2,048-cycle activity window run (their golden rows alone are computed:
golden.attention_trace(rows=...)), and are compared with golden. Writes benchmarks/results/sweep_L128-8192.json and
docs/img/sweep_long_vs_L.png, docs/img/sweep_long_topn.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "sweep_L128-8192.json"
SEQ_LENS = [128, 256, 512, 1024, 2048, 4096, 8192]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--import", dest="import_", default=None, help="prepared synthesis folders, run elsewhere")
    ap.add_argument("--out", default=str(ROOT / "projects" / "sweep_long"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--power-grid", default=None, metavar="D,N",
                    help="only the points of head dim D and top-N N, with power (co-simulated): written to "
                         "sweep_L128-8192_power_dD_NN.json and docs/img/sweep_long_power_dD_NN_*.png")
    ap.add_argument("--no-power", action="store_true",
                    help="resources, K memory and the top-N share only (no co-simulation: about 4 min per point on "
                         "two cores, an hour for the 28 points)")
    ap.add_argument("--combine-power", action="store_true",
                    help="no run: draw the four --power-grid results together (every (d, N) along L, power "
                         "included) into docs/img/sweep_long_power_vs_L.png")
    a = ap.parse_args()
    if a.combine_power:
        return combine_power(ap)

    from distributed import LocalCluster

    from had_hls.estimate.sweep import SweepOptions, format_sweep, grid, import_synthesis, run_sweep

    result, prefix = RESULT, "sweep_long_"
    if a.power_grid:
        try:
            d, n = (int(x) for x in a.power_grid.split(","))
        except ValueError:
            ap.error(f"--power-grid: {a.power_grid!r} is not D,N (two integers)")
        if a.no_power or d not in (32, 64) or n not in (32, 64):
            ap.error(f"--power-grid: {a.power_grid!r}: D and N must be in 32, 64 (the grid's), without --no-power")
        points = grid(SEQ_LENS, [d], [n], [8])
        result = RESULT.with_name(f"sweep_L128-8192_power_d{d}_N{n}.json")
        prefix = f"sweep_long_power_d{d}_N{n}_"
    else:
        points = grid(SEQ_LENS, [32, 64], [32, 64], [8])
    opts = SweepOptions(power=not a.no_power, power_max_seq_len=max(SEQ_LENS), simulator="verilator",
                        full_rows_max_seq_len=256, hierarchical=True)
    out = Path(a.out)
    if a.import_:
        done = import_synthesis(Path(a.import_), out / "cache")
        print(f"imported {sum(v.endswith('.json') for v in done.values())} of {len(done)} synthesis results")
    t0 = time.perf_counter()
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        sweep = run_sweep(points, out, opts, cluster=lc.scheduler_address)
    print(format_sweep(sweep))
    sweep["wall_s"] = round(time.perf_counter() - t0, 1)
    sweep["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                        "load_average_end": os.getloadavg(),
                        "synthesis": "prepared folders run on a 16-core device host (hierarchical flow)"}
    result.write_text(json.dumps(sweep, indent=1) + "\n")
    img = ROOT / "docs" / "img"
    for name in sweep["plots"]:
        shutil.copy(out / name, img / name.replace("sweep_", prefix, 1))
    print(f"wrote {result}")
    return 0 if not sweep["failed"] else 1


def combine_power(ap: argparse.ArgumentParser) -> int:
    """One plot of the four power columns' points (read from their committed JSON files): the plot of
    had_hls.estimate.plots.sweep_plots, each (d, N) a line, failed points named under the panels."""
    from had_hls.estimate.plots import sweep_plots

    points, missing = [], []
    for d in (32, 64):
        for n in (32, 64):
            f = RESULT.with_name(f"sweep_L128-8192_power_d{d}_N{n}.json")
            if f.is_file():
                points += json.loads(f.read_text())["points"]
            else:
                missing.append(f.name)
    if missing:
        ap.error(f"--combine-power: {', '.join(missing)} missing under benchmarks/results (run --power-grid D,N first)")
    with tempfile.TemporaryDirectory(prefix="sweep_long_") as tmp:
        paths = sweep_plots(points, Path(tmp))
        if not paths:
            ap.error("--combine-power: every point of the four files failed: nothing to plot")
        target = ROOT / "docs" / "img" / "sweep_long_power_vs_L.png"
        shutil.copy(paths[0], target)
    print(f"wrote {target} ({len(points)} points, {sum('error' in p for p in points)} failed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
