"""`had-hls eval PROJECT.yaml [--out DIR] [--student CKPT]`: test accuracy of teacher and HAD student -> eval.json."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="held-out test accuracy of the teacher and the HAD student (DIR/eval.json)",
        description="Teacher: teacher.checkpoint or projects/<name>/teacher.pt. Student: --student, else "
        "model.checkpoint, else projects/<name>/student.pt; run in hard mode with its top-N.",
    )
    p.add_argument("project", help="project YAML (e.g. projects/default.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/)")
    p.add_argument("--student", default=None, help="student checkpoint (default: model.checkpoint or student.pt)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.distill.evaluate import run_eval
    from had_hls.project import load_project

    project = load_project(args.project)
    r = run_eval(project, args.out, args.student)
    print(
        f"eval {r['name']}: {r['dataset']} test ({r['test_samples']} samples): teacher_acc={r['teacher_acc']:.4f} "
        f"student_acc={r['student_acc']:.4f} (N={r['top_n']}, loss {r['loss_points']:.2f} points)"
    )
    print(f"wrote {project.output_dir(args.out)}/eval.json")
    return 0
