"""The 4-stage HAD distillation of a teacher into a student with binarized queries and keys.

    stage 0  copy the teacher; calibrate sigma_Q, sigma_K of every layer on ``distill.calib_batches`` batches
    stage 1  scaled tanh b(x) = max(c,1) tanh(x / (c sigma)), c: c_start -> c_mid per step       loss: attn + out + ce
    stage 2  scaled tanh, c: c_mid -> c_end                                                       loss: attn + out + ce
    stage 3  straight-through sign (forward sign, gradient 1/sigma where |x/sigma| <= 2), top-N   loss: attn + out + ce
    stage 4  straight-through sign, top-N, output loss only                                      loss: out + ce
    final    hard sign + top-N (the same forward as stages 3-4): projects/<name>/student.pt

Every stage ends with a checkpoint (projects/<name>/distill/stage{k}.pt, written atomically) whose ``fingerprint``
(teacher weights, ``distill:`` section, N, data limits) lets a rerun resume after the last finished stage. Stage k's
data order is seeded by ``distill.seed * 1000 + k`` and AdamW restarts per stage, so a resumed run is identical to
an uninterrupted one (on the same device and thread count).
"""

from __future__ import annotations

import copy
import hashlib
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from had_hls.config import Project
from had_hls.data import ImageSplits
from had_hls.distill.ablations import binarize_attention_matrix
from had_hls.distill.common import accuracy, batch_stream, device_label, load_project_data, pick_device
from had_hls.distill.config import DistillSection, TeacherSection
from had_hls.distill.losses import layers_attention_kl, output_kl
from had_hls.distill.perf import tune_malloc
from had_hls.distill.schedule import lr_factor, tanh_c
from had_hls.distill.teacher import data_fingerprint, get_teacher
from had_hls.io import check_output_dir, staged_output, write_json
from had_hls.models.checkpoint import attention_layers, load_checkpoint, save_checkpoint
from had_hls.models.vit import TinyViT
from had_hls.nn import BinarizeMode, TopN

STUDENT_FILE = "student.pt"
STAGE_DIR = "distill"
STAGE_MODES = {1: BinarizeMode.TANH, 2: BinarizeMode.TANH, 3: BinarizeMode.STE, 4: BinarizeMode.STE}


def state_hash(model: torch.nn.Module) -> str:
    """sha256 of a model's state (names, shapes, bytes): identifies a teacher in fingerprints."""
    h = hashlib.sha256()
    for name, v in model.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(v.shape)).encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def calibrate(student: TinyViT, data: ImageSplits, d: DistillSection, device: torch.device) -> list[list[float]]:
    """Stage 0: float forward passes over ``calib_batches`` seeded training batches; sigma = mean per-batch std."""
    layers = attention_layers(student)
    student.set_attention(BinarizeMode.FLOAT, top_n=TopN())
    for layer in layers:
        layer.start_calibration()
    batches = batch_stream(len(data.x_train), d.batch_size, d.seed * 1000)
    with torch.no_grad():
        for _ in range(d.calib_batches):
            student(data.x_train[next(batches)].to(device))
    for layer in layers:
        layer.finish_calibration()
    return [[float(layer.sigma_q), float(layer.sigma_k)] for layer in layers]


def stage_c(stage: int, step: int, steps: int, d: DistillSection) -> float | None:
    """The tanh temperature of a step of stage 1 or 2 (None in stages 3-4)."""
    if stage == 1:
        return tanh_c(step, steps, d.c_start, d.c_mid, d.c_decay)
    if stage == 2:
        return tanh_c(step, steps, d.c_mid, d.c_end, d.c_decay)
    return None


def set_stage(student: TinyViT, stage: int, top_n: TopN, c: float | None = None) -> None:
    """Binarization mode (and c) of a stage; top-N on from stage 3 on."""
    student.set_attention(STAGE_MODES[stage], c, top_n if stage >= 3 else TopN())


def run_stage(
    stage: int,
    student: TinyViT,
    teacher: TinyViT,
    data: ImageSplits,
    d: DistillSection,
    top_n: TopN,
    device: torch.device,
    quiet: bool = False,
) -> dict[str, Any]:
    """Train one stage in place; returns its metrics (losses averaged over the last min(50, steps) steps)."""
    steps = d.steps[stage - 1]
    base_lr = d.lr[stage - 1]
    use_attn = stage <= 3 and d.attn_weight > 0
    set_stage(student, stage, top_n, stage_c(stage, 0, steps, d) if steps else None)
    for layer in attention_layers(student) + attention_layers(teacher):
        layer.record_maps = use_attn
    opt = torch.optim.AdamW(student.parameters(), lr=base_lr, weight_decay=d.weight_decay)
    batches = batch_stream(len(data.x_train), d.batch_size, d.seed * 1000 + stage)
    tail = max(1, min(50, steps))
    sums = {"loss": 0.0, "attn_kl": 0.0, "out_kl": 0.0, "ce": 0.0}
    student.train()
    start = time.perf_counter()
    c = None
    bar = tqdm(range(steps), desc=f"stage {stage}", disable=quiet, dynamic_ncols=True)
    for step in bar:
        c = stage_c(stage, step, steps, d)
        if c is not None:
            for layer in attention_layers(student):
                layer.tanh_c = c
        for g in opt.param_groups:
            g["lr"] = base_lr * lr_factor(step, steps, d.lr_schedule)
        idx = next(batches)
        x, y = data.x_train[idx].to(device), data.y_train[idx].to(device)
        with torch.no_grad():
            zt = teacher(x)
        zs = student(x)
        parts = {"out_kl": output_kl(zs, zt, d.temperature)}
        loss = d.out_weight * parts["out_kl"]
        if use_attn:
            parts["attn_kl"] = layers_attention_kl(
                [m.maps for m in attention_layers(student)], [m.maps for m in attention_layers(teacher)], d.attn_kl
            )
            loss = loss + d.attn_weight * parts["attn_kl"]
        if d.ce_weight > 0:
            parts["ce"] = F.cross_entropy(zs, y)
            loss = loss + d.ce_weight * parts["ce"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step >= steps - tail:
            sums["loss"] += loss.item()
            for key, value in parts.items():
                sums[key] += value.item()
        if step % 10 == 0:
            bar.set_postfix({"loss": f"{loss.item():.4f}", **({"c": f"{c:.3g}"} if c is not None else {})})
    seconds = time.perf_counter() - start
    for layer in attention_layers(student) + attention_layers(teacher):
        layer.record_maps = False
        layer.maps = None
    metrics: dict[str, Any] = {
        "stage": stage,
        "mode": STAGE_MODES[stage].value,
        "top_n": top_n.keep(teacher.cfg.seq_len) if stage >= 3 and top_n.enabled else None,
        "steps": steps,
        "lr": base_lr,
        "seconds": round(seconds, 2),
    }
    if stage <= 2:
        metrics["c_first"] = stage_c(stage, 0, steps, d) if steps else None
        metrics["c_last"] = c
    if steps:
        metrics.update({k: v / tail for k, v in sums.items() if k in parts or k == "loss"})
    metrics["val_acc"] = accuracy(student, data.x_val, data.y_val, d.eval_batch_size, device)
    metrics["val_acc_hard"] = hard_accuracy(student, data.x_val, data.y_val, top_n, d.eval_batch_size, device)
    return metrics


def hard_accuracy(
    student: TinyViT, x: torch.Tensor, y: torch.Tensor, top_n: TopN, batch_size: int, device: torch.device
) -> float:
    """Accuracy of the shipped form (hard sign + top-N); the student's modes are restored afterwards."""
    saved = [(layer.mode, layer.tanh_c, layer.top_n) for layer in attention_layers(student)]
    student.set_attention(BinarizeMode.HARD, top_n=top_n)
    acc = accuracy(student, x, y, batch_size, device)
    for layer, (mode, c, tn) in zip(attention_layers(student), saved, strict=True):
        layer.set_mode(mode, c)
        layer.top_n = tn
    return acc


def run_distill(
    project: Project, out: str | Path | None = None, restart: bool = False, quiet: bool = False
) -> dict[str, Any]:
    """Teacher (trained or cached) -> calibration -> stages 1-4 -> student.pt + distill.json under the output dir."""
    tune_malloc()
    t: TeacherSection = project.section("teacher")
    d: DistillSection = project.section("distill")
    t.check_model(project.model)
    d.check_model(project.model)
    out_dir = project.output_dir(out)
    check_output_dir(out_dir)
    device = pick_device(d.device)
    total_start = time.perf_counter()
    data = load_project_data(project)
    teacher, teacher_info = get_teacher(project, out_dir, data, device, quiet)
    teacher = teacher.to(device)
    keep = d.keep(project.model)
    top_n = TopN(n=keep) if keep is not None else TopN()
    base = {
        "teacher": state_hash(teacher),
        "distill": d.fingerprint(),
        "top_n": keep,
        "data": [t.dataset, t.train_limit, t.test_limit],
        **data_fingerprint(project),
    }
    stage_dir = out_dir / STAGE_DIR

    def resume(stage: int) -> tuple[TinyViT, dict[str, Any]] | None:
        path = stage_dir / f"stage{stage}.pt"
        if restart or not path.is_file():
            return None
        try:
            model, meta = load_checkpoint(path)
        except Exception:
            return None
        if meta.get("fingerprint") != {**base, "stage": stage}:
            return None
        return model.to(device), meta

    def save(stage: int, model: TinyViT, metrics: dict[str, Any]) -> None:
        meta = {"role": "student", "stage": stage, "fingerprint": {**base, "stage": stage}, "metrics": metrics}
        save_checkpoint(model, stage_dir / f"stage{stage}.pt", meta)

    resumed_from = None
    found = resume(0)
    if found is not None:
        student, meta = found
        calib = meta["metrics"]
        resumed_from = 0
    else:
        student = copy.deepcopy(teacher)
        if d.binarize_attention:
            binarize_attention_matrix(student)
        sigmas = calibrate(student, data, d, device)
        calib = {"batches": d.calib_batches, "batch_size": d.batch_size, "sigma_q_k": sigmas}
        calib["val_acc_hard_before_training"] = hard_accuracy(
            student, data.x_val, data.y_val, top_n, d.eval_batch_size, device
        )
        save(0, student, calib)
    stages: list[dict[str, Any]] = []
    for stage in (1, 2, 3, 4):
        found = resume(stage)
        if found is not None and resumed_from == stage - 1:
            student, meta = found
            stages.append({**meta["metrics"], "resumed": True})
            resumed_from = stage
            continue
        metrics = run_stage(stage, student, teacher, data, d, top_n, device, quiet)
        save(stage, student, metrics)
        stages.append(metrics)
    student.set_attention(BinarizeMode.HARD, top_n=top_n)
    student.eval()
    teacher_val = accuracy(teacher, data.x_val, data.y_val, d.eval_batch_size, device)
    student_val = accuracy(student, data.x_val, data.y_val, d.eval_batch_size, device)
    report = {
        "name": project.name,
        "device": device_label(device),
        "dataset": t.dataset,
        "top_n": keep,
        "seq_len": project.model.seq_len,
        "teacher": {**{k: v for k, v in teacher_info.items() if k != "epochs"}, "val_acc": teacher_val},
        "calibration": calib,
        "stages": stages,
        "student": {"mode": "hard", "val_acc": student_val, "checkpoint": str(out_dir / STUDENT_FILE)},
        "val_samples": len(data.x_val),
        "distill_steps": sum(d.steps),
        "seconds": round(time.perf_counter() - total_start, 1),
        "resumed_after_stage": resumed_from,
    }
    meta = {
        "role": "student",
        "stage": "final",
        "fingerprint": {**base, "stage": "final"},
        "dataset": t.dataset,
        "teacher_val_acc": teacher_val,
        "metrics": {"val_acc": student_val},
    }
    with staged_output(out_dir) as tmp:
        save_checkpoint(student.cpu(), tmp / STUDENT_FILE, meta)
        write_json(tmp / "distill.json", report)
    return report


def run_teacher_only(project: Project, out: str | Path | None = None, quiet: bool = False) -> dict[str, Any]:
    """Train (or find the cached) teacher of a project; returns its info with val_acc."""
    tune_malloc()
    d: DistillSection = project.section("distill")
    check_output_dir(project.output_dir(out))
    device = pick_device(d.device)
    data = load_project_data(project)
    teacher, info = get_teacher(project, project.output_dir(out), data, device, quiet)
    return {**info, "val_acc": accuracy(teacher.to(device), data.x_val, data.y_val, d.eval_batch_size, device)}
