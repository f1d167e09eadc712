"""Project plumbing shared by ``had-hls convert`` and the whole-model C-sim accuracy run.

- :func:`load_models`: the project's HAD student (hard mode, its top-N) and FP teacher checkpoints.
- :func:`test_set`: the held-out test split as patch vectors (patchify on the host, as the hardware expects).
- :func:`parallel_predict`: C-sim of many samples, split over forked worker processes (the attention headers keep
  static buffers, so one library image must not be called from two threads; fork gives each worker its own copy).
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from had_hls.config import Project
from had_hls.errors import UserError
from had_hls.nn.attention import HammingAttention
from had_hls.nn.binarize import BinarizeMode
from had_hls.procs import pool_worker_init


@dataclass
class ProjectModels:
    student: nn.Module  # hard mode, top-N as distilled
    teacher: nn.Module | None  # float attention, no top-N
    student_path: Path
    teacher_path: Path | None


def load_models(project: Project, need_teacher: bool = False) -> ProjectModels:
    """The project's student (``model.checkpoint`` or projects/<name>/student.pt) and teacher (if present)."""
    from had_hls.distill.evaluate import student_path, teacher_path
    from had_hls.models.checkpoint import CheckpointError, check_checkpoint_path, load_checkpoint

    spath = student_path(project)
    if not spath.exists() and not spath.is_symlink():
        from had_hls.errors import MissingPrerequisite

        raise MissingPrerequisite(
            f"model.checkpoint: {str(spath)!r} does not exist: a whole-model project needs a distilled encoder: "
            f"run `had-hls distill {project.path}` first"
        )
    check_checkpoint_path(spath, "model.checkpoint")
    try:
        student, _ = load_checkpoint(spath)
    except CheckpointError as err:
        raise UserError(f"model.checkpoint: {str(spath)!r} is {err}") from None
    for layer in student.modules():
        if isinstance(layer, HammingAttention) and layer.mode is not BinarizeMode.FLOAT:
            layer.set_mode(BinarizeMode.HARD)
    teacher = None
    tpath: Path | None = None
    if "teacher" in project.sections:
        tpath = teacher_path(project)
        if tpath.is_file():
            from had_hls.distill.teacher import load_teacher

            teacher, _ = load_teacher(tpath)
            teacher.eval()
        elif need_teacher:
            raise UserError(f"teacher.checkpoint: {str(tpath)!r} does not exist")
        else:
            tpath = None
    return ProjectModels(student.eval(), teacher, spath, tpath)


def test_set(project: Project, model: nn.Module, samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(patch vectors (N, L_in, K) float64, labels (N,)) of the held-out test split; first ``samples`` if given."""
    if samples is not None and samples < 1:
        raise UserError(f"--samples: {samples} is not allowed: must be >= 1")
    dataset = getattr(project.sections.get("teacher"), "dataset", "fashion_mnist")
    if dataset != "fashion_mnist":
        raise UserError(f"teacher.dataset: {dataset!r} has no test-split loader; allowed: fashion_mnist")
    from had_hls.data import load_fashion_mnist

    data = load_fashion_mnist(test_limit=samples)
    if not hasattr(model, "patchify"):
        raise UserError(f"model {type(model).__name__} has no patchify(): cannot build patch vectors on the host")
    with torch.no_grad():
        patches = model.patchify(data.x_test.double()).numpy()
    return np.ascontiguousarray(patches), data.y_test.numpy()


def torch_logits(model: nn.Module, patches_or_images: torch.Tensor, batch: int = 500) -> np.ndarray:
    """Float64 logits of ``model`` on images (B, C, H, W), batched."""
    out = []
    m = model.double().eval()
    with torch.no_grad():
        for i in range(0, len(patches_or_images), batch):
            out.append(m(patches_or_images[i : i + batch].double()).numpy())
    return np.concatenate(out)


# ------------------------------------------------------------------------------------------------ parallel C-sim
_MODEL: Any = None


def _predict_chunk(x: np.ndarray) -> np.ndarray:
    y = _MODEL._predict(np.ascontiguousarray(x))
    return np.asarray(y, dtype=np.float64).reshape(len(x), -1)


def parallel_predict(hls_model: Any, x: np.ndarray, workers: int | None = None) -> np.ndarray:
    """C-sim of ``x`` (N, ...) -> (N, outputs) with ``workers`` forked processes (default: all cores)."""
    global _MODEL
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(len(x), -1))
    workers = workers or os.cpu_count() or 1
    _MODEL = hls_model
    if workers <= 1 or len(x) < 4 * workers:
        return _predict_chunk(x)
    hls_model.predict(x[:1])  # library loaded before the fork
    chunks = [c for c in np.array_split(x, workers * 4) if len(c)]
    with multiprocessing.get_context("fork").Pool(workers, initializer=pool_worker_init) as pool:
        parts = pool.map(_predict_chunk, chunks)
    return np.concatenate(parts)
