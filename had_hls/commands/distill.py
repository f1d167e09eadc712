"""`had-hls distill PROJECT.yaml [--out DIR] [--restart] [--teacher-only] [--quiet]`: the 4-stage HAD distillation."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "distill",
        help="train (or reuse) the teacher, then distill it into a HAD student in 4 stages",
        description="Teacher (teacher: section; cached in projects/<name>/teacher.pt) -> sigma calibration -> "
        "stages 1-4 (distill: section) -> projects/<name>/student.pt and distill.json. Resumes after the last "
        "finished stage (projects/<name>/distill/stage{k}.pt) unless --restart.",
    )
    p.add_argument("project", help="project YAML (e.g. projects/default.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/)")
    p.add_argument("--restart", action="store_true", help="ignore stage checkpoints and start from stage 0")
    p.add_argument("--teacher-only", action="store_true", help="only train (or find the cached) teacher")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.distill.trainer import run_distill, run_teacher_only
    from had_hls.project import load_project

    project = load_project(args.project)
    out_dir = project.output_dir(args.out)
    if args.teacher_only:
        info = run_teacher_only(project, args.out, quiet=args.quiet)
        print(f"teacher {project.name}: val_acc={info['val_acc']:.4f} ({info['source']})")
        return 0
    r = run_distill(project, args.out, restart=args.restart, quiet=args.quiet)
    print(f"distill {r['name']}: {r['dataset']}, L={r['seq_len']}, N={r['top_n']}, {r['device']}, {r['seconds']} s")
    print(f"{'stage':<7}{'mode':<6}{'steps':>6}{'loss':>9}{'val_acc':>9}{'hard':>8}")
    for s in r["stages"]:
        loss = f"{s['loss']:.4f}" if "loss" in s else "-"
        print(f"{s['stage']:<7}{s['mode']:<6}{s['steps']:>6}{loss:>9}{s['val_acc']:>9.4f}{s['val_acc_hard']:>8.4f}")
    print(f"teacher val_acc={r['teacher']['val_acc']:.4f}  student (hard, top-N) val_acc={r['student']['val_acc']:.4f}")
    print(f"wrote {out_dir}/student.pt, {out_dir}/distill.json")
    return 0
