"""`had-hls check PROJECT.yaml [--out DIR]`: pre-synthesis design-rule check of every hls4ml project had-hls generates.

Converts (without compiling) the per-layer projects hls/had and hls/fp and, with a checkpoint and a dataset, the
whole-model project hls/model, and checks what Vitis HLS would be asked to build (had_hls.hls.check): operations
unrolled per pipelined region, completely partitioned arrays, FIFO bits and depths, II and cycles per row. Writes
DIR/check.json (default DIR: projects/<name>/). Exit 0: clean; 1: one line per violation; 2: bad input.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="pre-synthesis design check of the generated HLS projects (DIR/check.json)",
        description="Checks hls/had, hls/fp and hls/model as Vitis HLS would build them: unrolled operations per "
        "pipelined region (limit hls.unroll_limit), completely partitioned arrays, FIFO depths, II and cycles per row.",
    )
    p.add_argument("project", help="project YAML (e.g. projects/default.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.hls.check import format_check
    from had_hls.hls.check_stage import run_check
    from had_hls.project import load_project

    project = load_project(args.project)
    report = run_check(project, args.out)
    print(format_check(report))
    verdict = "ok" if report["ok"] else "FAILED"
    print(f"check {project.name}: {verdict} | wrote {project.output_dir(args.out)}/check.json")
    return 0 if report["ok"] else 1
