"""`had-hls run PROJECT.yaml [--out DIR]`: the main job, distill -> convert -> csim -> cosim -> report."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the whole flow: distill (if no checkpoint) -> convert -> csim -> cosim -> report")
    p.add_argument("project", help="project YAML (e.g. projects/default.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.io import check_output_dir
    from had_hls.pipeline import run_pipeline, summary_table
    from had_hls.project import load_project

    project = load_project(args.project)
    out = project.output_dir(args.out)
    check_output_dir(out)
    results = run_pipeline(project, out)
    print()
    print(f"had-hls run {project.name}: outputs in {out}")
    print(summary_table(results))
    return 0 if all(r.status in ("ok", "skipped") for r in results) else 1
