"""Cycle counts of the RTL twins (HAD and FP attention cores) measured by co-simulation.

For each shape, both cores are simulated (Verilator by default) on seeded inputs, the outputs are checked bit for
bit against golden, and the handshake times give:
  cycles_per_query   steady-state cycles between two context rows (one query row, all H heads)
  model              H * ceil(L / P)   (one job per head, G = ceil(L/P) cycles per stage, stages overlapped)
  ideal              H * L / P
  core_cycles        last key loaded -> last context row of one input; model L H G + depth, with the pipeline
                     depth of the fixed schedule (had_hls.rtl.generate.RtlDesign.pipeline_depth: the register
                     stages of each core, stage by stage: G beat cycles, for HAD NA = ceil(min(N, L) / PA) sparse
                     AV cycles, d/DN normalisation cycles, and the stages' own registers)
  query_latency      last key loaded -> first context row; model H G + depth
  latency_cycles     first input beat -> last result row (load + core + Wo)
Writes benchmarks/results/cosim_cycles.json. Usage: python benchmarks/cosim_cycles.py [--simulator S] [--quick]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from had_hls.io import write_json
from had_hls.ops import op
from had_hls.rtl.sim import default_simulator, run_simulation, simulator_version
from had_hls.spec import build_spec
from had_hls.verify.rtlsim import cycle_stats

OUT = Path(__file__).resolve().parent / "results" / "cosim_cycles.json"
# (L, E, H, N, P)
SHAPES = [
    (16, 16, 1, 4, 4),
    (49, 32, 2, 8, 4),
    (128, 64, 2, 16, 4),
    (128, 64, 2, 16, 16),
]
QUICK = [(16, 16, 1, 4, 4), (24, 16, 2, 4, 8)]


def measure(kind: str, L: int, E: int, H: int, N: int, P: int, simulator: str, k: int, work: Path) -> dict:
    rng = np.random.default_rng(L * 1000 + E)
    w = {n: (rng.normal(0, 0.3, (E, E)), rng.normal(0, 0.1, E)) for n in "qkvo"}
    spec = build_spec(kind, seq_len=L, num_heads=H, top_n=N, sigma_q=1.0, sigma_k=1.0, weights=w)
    x = rng.normal(0, 1, (k, L, E))
    o = op(kind)  # golden and the RTL design; the raw simulation below is timed alone (no op face: run_simulation)
    traces = [o.golden_trace(spec, x[i]) for i in range(k)]
    design = o.rtl_design(spec, P)
    t0 = time.perf_counter()
    sim = run_simulation(design, traces, [None] * k, work, simulator)
    wall = time.perf_counter() - t0
    mism = int((sim.y != np.stack([t.y for t in traces])).sum() + (sim.ctx != np.stack([t.ctx for t in traces])).sum())
    st = cycle_stats(design, sim)
    G = design.groups
    core = int(np.median(sim.ctx_cycles[:, -1] - sim.in_cycles[:, -1]))
    depth = design.pipeline_depth
    core_model = L * H * G + depth
    return {
        "kind": kind,
        "L": L,
        "E": E,
        "H": H,
        "N": spec.top_n,
        "P": P,
        "av_lanes": design.av_lanes,
        "pipeline_depth": depth,
        "wo_lanes": design.wo_lanes,
        "mismatches": mism,
        "cycles_per_query": st["cycles_per_query"],
        "cycles_per_query_model": H * G,
        "cycles_per_query_ideal": H * L / P,
        "ratio_to_model": st["cycles_per_query"] / (H * G),
        "ratio_to_ideal": st["cycles_per_query"] / (H * L / P),
        "core_cycles": core,
        "core_cycles_model": core_model,
        "core_ratio_to_model": core / core_model,
        "core_ratio_to_ideal_plus_depth": core / (L * H * L / P + depth),
        "query_latency_cycles": st["query_latency_cycles"],
        "query_latency_model": design.query_latency,
        "latency_cycles": st["latency_cycles"],
        "within_5pct": abs(core / core_model - 1) <= 0.05 and abs(st["cycles_per_query"] / (H * G) - 1) <= 0.05,
        "build_s": round(sim.build_s, 1),
        "run_s": round(sim.run_s, 3),
        "wall_s": round(wall, 1),
        "vectors": k,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulator", default=None)
    ap.add_argument("--vectors", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="two small shapes only")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    sim = args.simulator or default_simulator()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cosim_cycles-") as tmp:
        for L, E, H, N, P in QUICK if args.quick else SHAPES:
            for kind in ("had", "fp"):
                r = measure(kind, L, E, H, N, P, sim, args.vectors, Path(tmp) / f"{kind}_{L}_{E}_{H}_{P}")
                rows.append(r)
                print(
                    f"{kind:3s} L={L:4d} E={E:3d} H={H} N={r['N']:3d} P={P:2d}:"
                    f" cycles/query {r['cycles_per_query']:7.1f}"
                    f" (model {r['cycles_per_query_model']}, ideal {r['cycles_per_query_ideal']:.1f}), core"
                    f" {r['core_cycles']} (model {r['core_cycles_model']}), latency {r['latency_cycles']},"
                    f" mismatches {r['mismatches']}, build {r['build_s']} s",
                    flush=True,
                )
    report = {
        "simulator": sim,
        "simulator_version": simulator_version(sim),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, python {sys.version.split()[0]}",
        "cycle_model": "cycles_per_query = H ceil(L/P); core = L H ceil(L/P) + depth; depth = "
        "RtlDesign.pipeline_depth (had_hls.rtl.generate: G beat cycles, NA = ceil(min(N, L) / PA) sparse-AV cycles "
        "for HAD, d/DN normalisation cycles, and each stage's registers)",
        "all_bit_exact": all(r["mismatches"] == 0 for r in rows),
        "all_within_5pct": all(r["within_5pct"] for r in rows),
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0 if report["all_bit_exact"] and report["all_within_5pct"] else 1


if __name__ == "__main__":
    sys.exit(main())
