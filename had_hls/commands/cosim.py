"""`had-hls cosim PROJECT.yaml [--out DIR] [--vectors K] [--simulator verilator|icarus] [--lanes P] [--no-csim]`.

RTL co-simulation of the HAD and FP attention layers (templates/rtl/) on the C-simulation's vectors; writes
DIR/cosim.json and DIR/rtl/{had,fp}/ (generated wrapper, tables, vectors, simulator output, activity.vcd).
Exit 0 only when every output element matches golden (and the C-sim, when its vectors are there).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cosim", help="simulate the Verilog twins (Verilator / Icarus) and compare bit for bit")
    p.add_argument("project", help="project YAML (e.g. projects/attn_demo.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/), as for csim")
    p.add_argument("--vectors", type=int, default=None,
                   help="use the first K C-sim vectors (default: all in csim_vectors.npz, else csim.vectors)")
    p.add_argument("--simulator", choices=("verilator", "icarus"), default=None,
                   help="default: rtl.simulator, else verilator if installed, else icarus")
    p.add_argument("--lanes", type=int, default=None, help="P parallel keys per cycle (default: rtl.lanes, 4)")
    p.add_argument("--no-csim", action="store_true",
                   help="without csim_vectors.npz: the project's seeded vectors (csim_mismatches = null)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.project import load_project
    from had_hls.verify.cosim import run_cosim

    project = load_project(args.project)
    report = run_cosim(project, args.out, args.vectors, args.simulator, args.lanes, csim=not args.no_csim,
                       quiet=args.quiet)
    print(format_summary(report, project.output_dir(args.out)))
    return 0 if report["pass"] else 1


def format_summary(r: dict, out_dir) -> str:
    s = r["shape"]
    lines = [
        f"cosim {r['name']}: L={s['seq_len']} E={s['embed_dim']} H={s['num_heads']} d={s['head_dim']} N={s['top_n']}"
        f" | {r['simulator_version']} | P={r['lanes']} | {r['vectors']} vectors x {r['output_elements']} outputs",
        f"{'layer':<12} {'vs golden':>9} {'ctx':>5} {'vs C-sim':>8} {'cyc/query':>9} {'model':>6} {'latency':>8}"
        f" {'build s':>8} {'run s':>7}",
    ]
    for label, x in (("HAD", r["had"]), ("FP baseline", r["fp_baseline"]["detail"])):
        cs = "n/a" if x["csim_mismatches"] is None else str(x["csim_mismatches"])
        lines.append(
            f"{label:<12} {x['golden_mismatches']:>9d} {x['ctx_mismatches']:>5d} {cs:>8} {x['cycles_per_query']:>9.1f}"
            f" {x['cycles_per_query_model']:>6d} {x['latency_cycles']:>8d} {x['build_s']:>8.1f} {x['run_s']:>7.2f}"
        )
    verdict = "PASS: RTL == golden" + (" == C-sim" if r["csim_mismatches"] is not None else "") + " bit for bit"
    lines.append(f"{verdict if r['pass'] else 'FAIL: RTL differs'} | wrote {out_dir}/cosim.json")
    if "note" in r:
        lines.append(r["note"])
    return "\n".join(lines)
