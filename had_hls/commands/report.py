"""`had-hls report PROJECT.yaml [--out DIR] [--lanes P] [--fmax | --no-fmax] [--fmax-timeout S]`.

Resources (Yosys synth_xilinx, UltraScale+), an Fmax proxy (nextpnr-ecp5), power from co-simulation activity and
cycles per query of the HAD core against the FP core; writes DIR/report.json, DIR/report.md, DIR/report_*.png
(DIR: projects/<name>/ unless --out). Reads DIR/cosim.json and the activity files of `had-hls cosim` (run it first).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="resources, Fmax, power and cycles of HAD vs FP attention (report.json/.md)")
    p.add_argument("project", help="project YAML (e.g. projects/attn_demo.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/), as for csim/cosim")
    p.add_argument("--lanes", type=int, default=None, help="P parallel keys per cycle (default: rtl.lanes, 4)")
    fm = p.add_mutually_exclusive_group()
    fm.add_argument("--fmax", dest="fmax", action="store_const", const=True, default=None,
                    help="run the nextpnr-ecp5 Fmax proxy even where the project says rtl.fmax: false")
    fm.add_argument("--no-fmax", dest="fmax", action="store_const", const=False,
                    help="skip the nextpnr-ecp5 Fmax proxy (default: rtl.fmax)")
    p.add_argument("--fmax-timeout", type=float, default=None,
                   help="seconds per core and step for the Fmax proxy, 0 = no limit (default: rtl.fmax_timeout_s)")
    p.add_argument("--jobs", type=int, default=2, help="synthesis runs in parallel (default 2: HAD and FP)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import math

    from had_hls.errors import UserError
    from had_hls.estimate.report import run_report
    from had_hls.estimate.report_text import format_summary
    from had_hls.io import check_output_dir
    from had_hls.project import check_datapath, load_project
    from had_hls.rtl.config import check_lanes

    if args.fmax_timeout is not None and not (math.isfinite(args.fmax_timeout) and args.fmax_timeout >= 0):
        raise UserError(f"--fmax-timeout: {args.fmax_timeout} is not allowed: give a finite number >= 0 (0 = no limit)")
    if args.jobs < 1:
        raise UserError(f"--jobs: {args.jobs} is not allowed: must be >= 1")
    project = load_project(args.project)
    check_datapath(project)
    if args.lanes is not None:
        check_lanes(args.lanes, project.model.seq_len, "--lanes")
    check_output_dir(project.output_dir(args.out))
    report = run_report(project, args.out, lanes=args.lanes, fmax=args.fmax,
                        fmax_timeout=args.fmax_timeout, jobs=args.jobs, quiet=args.quiet)
    print(format_summary(report))
    print(f"wrote {project.output_dir(args.out)}/report.json, report.md, {', '.join(report.get('plots', []))}")
    return 0
