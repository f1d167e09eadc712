"""Gate-level check: the Yosys-synthesised netlist of the HAD layer (core + FIFO + Wo) simulated on the same vectors.

    python verification/rtl/gate_level.py [--simulator icarus|verilator] [--target xilinx|generic]
        [--L 8 --E 8 --H 1 --N 3 --P 4 --vectors 3] [--out benchmarks/results/cosim_gate_level.json]

Yosys (synth_xilinx -flatten, Xilinx 7-series cells; or generic gates) maps cosim_dut, whose $readmemh tables
become LUT contents; the netlist runs under verification/rtl/tb_attention.v with Yosys's cells_sim.v models and is
compared element by element with golden (context rows and outputs), exactly like the RTL. Small shapes only: on 2
cores synthesis takes minutes (L=8, E=8: ~17k cells) and a gate-level Icarus run about a minute per vector.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from had_hls import golden
from had_hls.io import write_json
from had_hls.rtl.generate import design_for
from had_hls.rtl.sim import run_simulation, simulator_version
from had_hls.rtl.synth import gate_level_sources, synthesize
from had_hls.spec import build_spec

OUT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "cosim_gate_level.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simulator", default="icarus", choices=("icarus", "verilator"))
    ap.add_argument("--target", default="xilinx", choices=("xilinx", "generic"))
    ap.add_argument("--kind", default="had", choices=("had", "fp"))
    for name, default in (("L", 8), ("E", 8), ("H", 1), ("N", 3), ("P", 4), ("vectors", 3), ("seed", 0)):
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--keep", default=None, help="keep the work folder here (netlist, logs)")
    ap.add_argument("--reuse", action="store_true", help="reuse the netlist already in --keep (same design)")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    w = {n: (rng.normal(0, 0.35, (a.E, a.E)), rng.normal(0, 0.1, a.E)) for n in "qkvo"}
    spec = build_spec(
        a.kind, seq_len=a.L, num_heads=a.H, top_n=a.N, sigma_q=1.0, sigma_k=1.0, weights=w, key_padding_mask=True
    )
    x = rng.normal(0, 1, (a.vectors, a.L, a.E))
    masks = [None if i % 2 == 0 else np.arange(a.L) >= a.L - 1 - i % a.L for i in range(a.vectors)]
    traces = [golden.attention_trace(spec, x[i], masks[i]) for i in range(a.vectors)]
    design = design_for(spec, a.P)
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="gate_level-"))
    t0 = time.perf_counter()
    syn = synthesize(design, work, a.target, reuse=a.reuse)
    print(f"yosys {a.target}: {syn.seconds:.0f} s, cells {syn.cells}", flush=True)
    rtl = run_simulation(design, traces, masks, work / "rtl", a.simulator)
    gl = run_simulation(design, traces, masks, work, a.simulator, dut_sources=gate_level_sources(syn))
    ctx = np.stack([t.ctx for t in traces])
    y = np.stack([t.y for t in traces])
    report = {
        "kind": a.kind,
        "shape": {"L": a.L, "E": a.E, "H": a.H, "N": spec.top_n, "P": a.P},
        "vectors": a.vectors,
        "simulator": simulator_version(a.simulator),
        "synthesis": {
            "tool": "yosys",
            "target": a.target,
            "wall_s": round(syn.seconds, 1),
            "cpu_s": syn.cpu_s,
            "reused_netlist": syn.seconds == 0.0,
            "cells": syn.cells,
        },
        "gate_level": {
            "golden_mismatches": int((gl.y != y).sum()),
            "ctx_mismatches": int((gl.ctx != ctx).sum()),
            "cycles_equal_rtl": bool(np.array_equal(gl.y_cycles, rtl.y_cycles)),
            "build_s": round(gl.build_s, 1),
            "run_s": round(gl.run_s, 1),
        },
        "rtl": {"golden_mismatches": int((rtl.y != y).sum()), "ctx_mismatches": int((rtl.ctx != ctx).sum())},
        "output_elements": int(y.size),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(a.out, report)
    print(report["gate_level"], f"wrote {a.out}")
    ok = report["gate_level"]["golden_mismatches"] == 0 and report["gate_level"]["ctx_mismatches"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
