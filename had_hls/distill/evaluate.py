"""Held-out test accuracy of a project's teacher and HAD student (``had-hls eval``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from had_hls.config import ConfigError, Project
from had_hls.distill.common import accuracy, device_label, load_project_data, pick_device
from had_hls.distill.config import DistillSection, TeacherSection
from had_hls.distill.perf import tune_malloc
from had_hls.distill.teacher import TEACHER_FILE, eval_batch, load_teacher, teacher_config
from had_hls.distill.trainer import STUDENT_FILE
from had_hls.errors import UserError
from had_hls.io import check_output_dir, staged_output, write_json
from had_hls.models.checkpoint import CheckpointError, attention_layers, check_checkpoint_path, load_checkpoint
from had_hls.nn import BinarizeMode


def resolve(project: Project, value: str | Path) -> Path:
    p = Path(value)
    return p if p.is_absolute() else project.path.parent / p


def teacher_path(project: Project) -> Path:
    """teacher.checkpoint if given, else projects/<name>/teacher.pt (written by had-hls distill)."""
    t: TeacherSection = project.section("teacher")
    if t.checkpoint is not None:
        return resolve(project, t.checkpoint)
    return project.output_dir() / TEACHER_FILE


def student_path(project: Project) -> Path:
    """model.checkpoint if given, else projects/<name>/student.pt (written by had-hls distill)."""
    if project.model.checkpoint is not None:
        return resolve(project, project.model.checkpoint)
    return project.output_dir() / STUDENT_FILE


def run_eval(project: Project, out: str | Path | None = None, student: str | Path | None = None) -> dict[str, Any]:
    """Test-split accuracy of teacher (float attention) and student (hard sign + its top-N); writes DIR/eval.json."""
    tune_malloc()
    t: TeacherSection = project.section("teacher")
    d: DistillSection = project.section("distill")
    t.check_model(project.model)
    check_output_dir(project.output_dir(out))
    device = pick_device(d.device)
    tpath = teacher_path(project)
    spath = Path(student) if student is not None else student_path(project)
    skey = "--student" if student is not None else "model.checkpoint"
    for key, path in (("teacher.checkpoint", tpath), (skey, spath)):
        if not path.exists() and not path.is_symlink():
            raise UserError(f"{key}: {str(path)!r} does not exist: run had-hls distill {project.path} first")
        check_checkpoint_path(path, key)
    teacher, _ = load_teacher(tpath)
    try:
        model, meta = load_checkpoint(spath)
    except CheckpointError as err:
        raise UserError(f"{skey}: {str(spath)!r} is {err}") from None
    cfg = teacher_config(project)
    if model.cfg != cfg:
        raise ConfigError(
            f"model.checkpoint: {str(spath)!r} has model {model.cfg.to_dict()}, the project describes {cfg.to_dict()}"
        )
    layers = attention_layers(model)
    if any(layer.mode is not BinarizeMode.HARD for layer in layers):
        model.set_attention(BinarizeMode.HARD)
    top_n = layers[0].top_n.keep(project.model.seq_len) if layers and layers[0].top_n.enabled else None
    data = load_project_data(project)
    start = time.perf_counter()
    ebs = min(d.eval_batch_size, eval_batch(cfg))
    teacher_acc = accuracy(teacher.to(device), data.x_test, data.y_test, ebs, device)
    student_acc = accuracy(model.to(device), data.x_test, data.y_test, ebs, device)
    report = {
        "name": project.name,
        "dataset": t.dataset,
        "split": "test",
        "teacher_acc": teacher_acc,
        "student_acc": student_acc,
        "loss_points": round(100 * (teacher_acc - student_acc), 2),
        "test_samples": len(data.x_test),
        "student_mode": "hard",
        "top_n": top_n,
        "seq_len": project.model.seq_len,
        "teacher_checkpoint": str(tpath),
        "student_checkpoint": str(spath),
        "device": device_label(device),
        "seconds": round(time.perf_counter() - start, 2),
    }
    with staged_output(project.output_dir(out)) as tmp:
        write_json(tmp / "eval.json", report)
    return report
