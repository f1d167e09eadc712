"""`had-hls csim PROJECT.yaml [--out DIR] [--vectors K]`: C-simulate the HAD and FP attention layers."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("csim", help="convert with hls4ml, compile (g++) and compare C-sim with golden and torch")
    p.add_argument("project", help="project YAML (e.g. projects/attn_demo.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/)")
    p.add_argument(
        "--vectors", type=int, default=None, help="number of seeded random inputs (default: csim.vectors, 64)"
    )
    p.add_argument("--samples", type=int, default=None,
                   help="test images for the whole-model C-sim (checkpoint projects; default: csim.samples, all)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.project import load_project
    from had_hls.verify.csim import run_csim

    project = load_project(args.project)
    report = run_csim(project, args.out, args.vectors, quiet=args.quiet, samples=args.samples)
    print(format_summary(report, project.output_dir(args.out)))
    if "model_csim" in report:
        from had_hls.verify.accuracy import format_accuracy

        print(format_accuracy(report))
    for line in report["check"]["violations"]:
        print(f"VIOLATION {line}")
    ok = report["golden_mismatches"] == 0 and report["fp_baseline"]["golden_mismatches"] == 0
    return 0 if ok and report["check"]["ok"] else 1


def format_summary(r: dict, out_dir) -> str:
    s = r["shape"]
    rows = [("HAD", r["had"]), ("FP baseline", r["fp_baseline"])]
    lines = [
        f"csim {r['name']}: L={s['seq_len']} E={s['embed_dim']} H={s['num_heads']} d={s['head_dim']} N={s['top_n']}"
        f" | {r['backend']} {r['io_type']} | {r['vectors']} vectors x {r['output_elements']} outputs",
        f"{'layer':<12} {'golden mismatches':>17} {'max|err| vs torch':>18} {'vs torch(hw w)':>15} {'bound':>9}"
        f" {'compile s':>10} {'run s':>7}",
    ]
    for label, x in rows:
        lines.append(
            f"{label:<12} {x['golden_mismatches']:>17d} {x['max_abs_err_vs_torch']:>18.5f}"
            f" {x['max_abs_err_vs_torch_hw_weights']:>15.5f} {x['error_bound_vs_torch_hw_weights']:>9.5f}"
            f" {x['compile_s']:>10.1f} {x['run_s']:>7.2f}"
        )
    verdict = (
        "PASS: C-sim == golden bit for bit"
        if r["golden_mismatches"] == 0 and r["fp_baseline"]["golden_mismatches"] == 0
        else "FAIL: C-sim differs from golden"
    )
    lines.append(f"{verdict} | wrote {out_dir}/csim.json")
    return "\n".join(lines)
