"""The main job, `had-hls run`: distill (only without a checkpoint) -> convert -> csim -> cosim -> report.

Each stage is a library call of its own room; this module only sequences them (in had_hls.stages.STAGE_ORDER),
times them, and collects one summary row per stage. Stages hand work on through their files in the output folder
(had_hls.stages: csim writes csim_vectors.npz that cosim reads, cosim writes cosim.json that report reads); none
starts another. A failing stage stops the job (later stages need its outputs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from had_hls.config import Project
from had_hls.stages import STAGE_ORDER


@dataclass
class StageResult:
    name: str
    status: str  # "ok", "failed", "skipped"
    seconds: float = 0.0
    headline: str = ""
    report: dict[str, Any] = field(default_factory=dict)


def _distill(project: Project, out: Path) -> tuple[Project, str, dict]:
    from had_hls.distill.evaluate import student_path
    from had_hls.distill.trainer import run_distill

    report = run_distill(project, out)
    ckpt = out / Path(student_path(project)).name if project.model.checkpoint is None else student_path(project)
    return project.with_checkpoint(ckpt), "student written", report


def _convert(project: Project, out: Path) -> tuple[Project, str, dict]:
    from had_hls.hls.model_stage import run_convert

    report = run_convert(project, out)
    head = report.get("headline", "hls project written") + _check_note(report)
    return project, head, report | {"_ok": report["check"]["ok"]}


def _csim(project: Project, out: Path) -> tuple[Project, str, dict]:
    from had_hls.verify.csim import run_csim

    r = run_csim(project, out)
    head = f"golden mismatches HAD {r['golden_mismatches']}, FP {r['fp_baseline']['golden_mismatches']}"
    if "accuracy" in r:
        a = r["accuracy"]
        from had_hls.verify.accuracy import reference_accuracy, reference_label

        head += (f"; accuracy C-sim {a['csim']:.4f} / student {a['student']:.4f} / {reference_label(a)} "
                 f"{reference_accuracy(a):.4f}")
    ok = r["golden_mismatches"] == 0 and r["fp_baseline"]["golden_mismatches"] == 0 and r["check"]["ok"]
    return project, head + _check_note(r), r | {"_ok": ok}


def _check_note(report: dict) -> str:
    """The design check's verdict on the projects a stage wrote (had_hls.hls.check)."""
    violations = report["check"]["violations"]
    return "; check ok" if not violations else f"; check: {len(violations)} violation(s): {violations[0]}"


def _cosim(project: Project, out: Path) -> tuple[Project, str, dict]:
    from had_hls.verify.cosim import run_cosim

    r = run_cosim(project, out)
    head = (f"RTL vs golden {r['golden_mismatches']}, vs C-sim {r['csim_mismatches']}; "
            f"HAD {r['cycles_per_query']:.1f} cyc/query, FP {r['fp_baseline']['cycles_per_query']:.1f}")
    return project, head, r | {"_ok": bool(r["pass"])}


def _report(project: Project, out: Path) -> tuple[Project, str, dict]:
    from had_hls.estimate.report import run_report

    r = run_report(project, out)
    head = f"area reduction {r['area_reduction']:.1%}, power reduction {r['power_reduction']:.1%}"
    return project, head, r


STAGES: list[tuple[str, Callable[[Project, Path], tuple[Project, str, dict]]]] = [
    ("distill", _distill),
    ("convert", _convert),
    ("csim", _csim),
    ("cosim", _cosim),
    ("report", _report),
]


assert tuple(name for name, _ in STAGES) == STAGE_ORDER


def plan(project: Project) -> dict[str, str | None]:
    """Stage -> reason it is skipped (None: it runs)."""
    has_ckpt = project.model.checkpoint is not None
    trains = "teacher" in project.present or "distill" in project.present
    return {
        "distill": None if (not has_ckpt and trains) else ("checkpoint given" if has_ckpt else "random layer"),
        "convert": None if (has_ckpt or trains) else "single attention layer: csim converts it",
        "csim": None,
        "cosim": None,
        "report": None,
    }


def run_pipeline(project: Project, out: Path, echo: Callable[[str], None] = print) -> list[StageResult]:
    results: list[StageResult] = []
    skips = plan(project)
    for i, (name, fn) in enumerate(STAGES, 1):
        if skips[name] is not None:
            results.append(StageResult(name, "skipped", headline=skips[name]))
            echo(f"[{i}/{len(STAGES)}] {name}: skipped ({skips[name]})")
            continue
        echo(f"[{i}/{len(STAGES)}] {name} ...")
        t0 = time.perf_counter()
        try:
            project, head, report = fn(project, out)
        except Exception:
            results.append(StageResult(name, "failed", time.perf_counter() - t0))
            raise
        ok = report.pop("_ok", True)
        results.append(StageResult(name, "ok" if ok else "failed", time.perf_counter() - t0, head, report))
        echo(f"[{i}/{len(STAGES)}] {name}: {'ok' if ok else 'FAILED'} in {time.perf_counter() - t0:.1f} s: {head}")
        if not ok:
            break
    return results


def summary_table(results: list[StageResult]) -> str:
    lines = [f"{'stage':<8} {'status':<8} {'seconds':>8}  result", "-" * 78]
    for r in results:
        lines.append(f"{r.name:<8} {r.status:<8} {r.seconds:>8.1f}  {r.headline}")
    return "\n".join(lines)
