"""Benchmark: exact arithmetic at long L on the default types, golden == C-sim == RTL (issue 13, item 1).

    .venv/bin/python benchmarks/long_seq_exact.py [--seq-len 8192] [--embed-dim 8] [--heads 1] [--top-n 32]
        [--lanes 8] [--vectors 2] [--out benchmarks/results/long_seq_L8192.json]

A random HAD layer (seeded, with a key padding mask) at the given shape, default ``hls.precision``, through the real
commands' library calls: ``had-hls csim`` (hls4ml layers, g++ C-sim of the HAD and FP layers vs the golden model)
then ``had-hls cosim`` (the Verilog cores + Wo under Verilator, vs golden and vs the C-sim outputs). The JSON holds
the internal widths of both specs (which of them pass 62 bits: Python ints in golden; 64 bits: __int128 in the
C-sim fast path), every mismatch count, the elements compared, the run times and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import yaml

from had_hls.fixed import INT64_BITS
from had_hls.io import write_json
from had_hls.layer import build_layer
from had_hls.ops import pair
from had_hls.project import load_project
from had_hls.verify.cosim import run_cosim
from had_hls.verify.csim import run_csim

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=8192)
    parser.add_argument("--embed-dim", type=int, default=8)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--top-n", type=int, default=32)
    parser.add_argument("--lanes", type=int, default=8)
    parser.add_argument("--vectors", type=int, default=2)
    parser.add_argument("--simulator", default="verilator", choices=("verilator", "icarus"))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out or ROOT / "benchmarks" / "results" / f"long_seq_L{args.seq_len}.json")
    doc = {
        "name": f"long_seq_L{args.seq_len}",
        "model": {
            "seq_len": args.seq_len,
            "embed_dim": args.embed_dim,
            "num_heads": args.heads,
            "top_n": args.top_n,
            "seed": 13,
            "key_padding_mask": True,
        },
        "csim": {"vectors": args.vectors},
        "rtl": {"lanes": args.lanes, "simulator": args.simulator, "vcd_vectors": 0, "fmax": False},
    }
    with tempfile.TemporaryDirectory(prefix="long_seq_") as tmp:
        path = Path(tmp) / "project.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        project = load_project(path)
        layer = build_layer(project)
        had_spec, fp_spec = (o.spec(project, layer) for o in pair().values())
        work = Path(tmp) / "out"
        t0 = time.perf_counter()
        cs = run_csim(project, work, quiet=True)
        csim_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        co = run_cosim(project, work, quiet=True)
        cosim_s = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    def widths(spec) -> dict:
        return {
            "all": spec.widths,
            "wider_than_int64": sorted(k for k, b in spec.widths.items() if b > INT64_BITS),
            "wider_than_64": sorted(k for k, b in spec.widths.items() if b > 64),
        }

    layers = {}
    for kind, c, r in (("had", cs["had"], co["had"]), ("fp", cs["fp_baseline"], co["fp_baseline"])):
        layers[kind] = {
            "csim_vs_golden_mismatches": c["golden_mismatches"],
            "rtl_vs_golden_mismatches": r["golden_mismatches"],
            "rtl_ctx_vs_golden_mismatches": r["ctx_mismatches"],
            "rtl_vs_csim_mismatches": r["csim_mismatches"],
            "max_abs_output": c["max_abs_output"],
            "csim_compile_s": c["compile_s"],
            "csim_run_s": c["run_s"],
            "rtl_build_s": r["build_s"],
            "rtl_run_s": r["run_s"],
            "rtl_cycles_per_query": r["cycles_per_query"],
        }
    result = {
        "shape": {
            "seq_len": args.seq_len,
            "embed_dim": args.embed_dim,
            "num_heads": args.heads,
            "top_n": args.top_n,
            "lanes": args.lanes,
            "key_padding_mask": True,
        },
        "precision": had_spec.precision.as_strings(),
        "widths": {"had": widths(had_spec), "fp": widths(fp_spec)},
        "vectors": cs["vectors"],
        "output_elements_per_layer": cs["output_elements"],
        "simulator": co["simulator_version"],
        "layers": layers,
        "bit_exact": cs["golden_mismatches"] == 0
        and cs["fp_baseline"]["golden_mismatches"] == 0
        and co["pass"]
        and co["csim_mismatches"] == 0
        and co["fp_baseline"]["csim_mismatches"] == 0,
        "csim_wall_s": round(csim_s, 1),
        "cosim_wall_s": round(cosim_s, 1),
        "cpu_s": round(sum(u.ru_utime + u.ru_stime for u in usage), 1),
        "peak_rss_mb": round(usage[0].ru_maxrss / 1024),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "command": f"benchmarks/long_seq_exact.py --seq-len {args.seq_len} --embed-dim {args.embed_dim} "
        f"--heads {args.heads} --top-n {args.top_n} --lanes {args.lanes} --vectors {args.vectors}",
    }
    write_json(out, result)
    print(
        f"wrote {out}: bit exact {result['bit_exact']}, csim {result['csim_wall_s']} s, "
        f"cosim {result['cosim_wall_s']} s"
    )


if __name__ == "__main__":
    main()
