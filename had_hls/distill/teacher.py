"""Training (and caching) the full-precision teacher: a :class:`TinyViT` with float attention, from scratch, or
(``teacher.arch: minilm``) the pretrained all-MiniLM-L6-v2 encoder with a new head, fine-tuned on token ids.

Objective: cross-entropy (optional label smoothing), AdamW, linear warm-up then cosine decay, ``teacher.epochs``
passes over the training split in seeded order (optional random shifts of up to 2 pixels).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from had_hls.config import ConfigError, Project
from had_hls.data import ImageSplits
from had_hls.distill.common import accuracy, batch_stream, device_label, random_shift
from had_hls.distill.config import TeacherSection
from had_hls.distill.schedule import lr_factor
from had_hls.errors import UserError
from had_hls.models.checkpoint import load_checkpoint, save_checkpoint
from had_hls.models.minilm import MiniLMConfig
from had_hls.models.vit import TinyViT, ViTConfig
from had_hls.nn import BinarizeMode

TEACHER_FILE = "teacher.pt"


def vit_config(project: Project) -> ViTConfig:
    """The ViT shape of a project: attention shape from ``model:``, the rest from ``teacher:``."""
    t: TeacherSection = project.section("teacher")
    t.check_model(project.model)
    m = project.model
    if t.dataset == "listops":
        from had_hls.data.listops import CLASSES, VOCAB_SIZE

        project.section("listops").check_seq_len(t.listops_len(m))
        return ViTConfig(
            embed_dim=m.embed_dim,
            num_heads=m.num_heads,
            depth=t.depth,
            mlp_dim=t.mlp_dim,
            num_classes=len(CLASSES),
            pool=t.pool,
            activation=t.activation,
            vocab_size=VOCAB_SIZE,
            max_len=t.listops_len(m),
        )
    return ViTConfig(
        patch_size=t.patch_size,
        embed_dim=m.embed_dim,
        num_heads=m.num_heads,
        depth=t.depth,
        mlp_dim=t.mlp_dim,
        pool=t.pool,
        activation=t.activation,
    )


def teacher_config(project: Project) -> ViTConfig | MiniLMConfig:
    """The teacher's model config: :func:`vit_config`, or for arch minilm the pretrained config.json with the
    dataset's class count and ``seq_len = model.seq_len`` (the max_len in tokens)."""
    t: TeacherSection = project.section("teacher")
    if t.arch != "minilm":
        return vit_config(project)
    t.check_model(project.model)
    from had_hls.data.bbc import BBC_CLASSES
    from had_hls.data.tweets import TWEET_CLASSES
    from had_hls.models.minilm import pretrained_dir

    classes = len(BBC_CLASSES if t.dataset == "bbc" else TWEET_CLASSES)
    cfg = MiniLMConfig.from_bert_json(pretrained_dir() / "config.json", num_classes=classes)
    return replace(cfg, seq_len=project.model.seq_len)


def _new_model(cfg: ViTConfig | MiniLMConfig, seed: int) -> torch.nn.Module:
    if isinstance(cfg, MiniLMConfig):
        from had_hls.models.minilm import load_pretrained

        model = load_pretrained(cfg.num_classes, dropout=cfg.dropout, seed=seed)
        model.cfg = replace(model.cfg, seq_len=cfg.seq_len)
        return model
    torch.manual_seed(seed)
    return TinyViT(cfg)


def eval_batch(cfg: ViTConfig | MiniLMConfig) -> int:
    """Evaluation batch of teacher training: 1000 images, 64 MiniLM sequences or 256 ListOps sequences (L x L maps
    per head)."""
    if isinstance(cfg, MiniLMConfig):
        return 64
    return 256 if cfg.tokens_mode else 1000


def data_fingerprint(project: Project) -> dict[str, Any]:
    """What besides ``teacher:`` determines the data: the ``listops:`` generator settings (empty for datasets read
    from files, so their fingerprints are unchanged)."""
    t: TeacherSection = project.section("teacher")
    if t.dataset == "listops":
        return {"listops": asdict(project.section("listops"))}
    return {}


def train_teacher(
    cfg: ViTConfig | MiniLMConfig, t: TeacherSection, data: ImageSplits, device: torch.device, quiet: bool = False
) -> tuple[TinyViT, dict[str, Any]]:
    """Train a teacher from scratch; returns (model on cpu, metrics)."""
    model = _new_model(cfg, t.seed).to(device)
    ebs = eval_batch(cfg)
    n = len(data.x_train)
    steps_per_epoch = max(1, n // min(t.batch_size, n))
    total = t.epochs * steps_per_epoch
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or name.endswith("pos_embed") else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": t.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=t.lr
    )
    batches = batch_stream(n, t.batch_size, t.seed)
    aug_gen = torch.Generator().manual_seed(t.seed + 7)
    start = time.perf_counter()
    history = []
    model.train()
    bar = tqdm(range(total), desc="teacher", disable=quiet, dynamic_ncols=True)
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = t.lr * lr_factor(step, total, "cosine", min(t.warmup_steps, total - 1))
        idx = next(batches)
        x = data.x_train[idx]
        if t.augment:
            x = random_shift(x, aug_gen)
        loss = F.cross_entropy(model(x.to(device)), data.y_train[idx].to(device), label_smoothing=t.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if (step + 1) % steps_per_epoch == 0:
            val = accuracy(model, data.x_val, data.y_val, ebs, device)
            history.append({"epoch": (step + 1) // steps_per_epoch, "loss": loss.item(), "val_acc": val})
            bar.set_postfix(loss=f"{loss.item():.3f}", val_acc=f"{val:.4f}")
    seconds = time.perf_counter() - start
    metrics = {
        "val_acc": accuracy(model, data.x_val, data.y_val, ebs, device),
        "steps": total,
        "seconds": round(seconds, 1),
        "device": device_label(device),
        "epochs": history,
    }
    return model.cpu(), metrics


def get_teacher(
    project: Project, out_dir: Path, data: ImageSplits, device: torch.device, quiet: bool = False
) -> tuple[TinyViT, dict[str, Any]]:
    """The project's teacher in float mode, top-N off: ``teacher.checkpoint`` if given, else the cached
    out_dir/teacher.pt when its fingerprint matches, else trained now and cached there."""
    t: TeacherSection = project.section("teacher")
    cfg = teacher_config(project)
    fingerprint = {"teacher": t.fingerprint(), "vit": cfg.to_dict(), **data_fingerprint(project)}
    if t.checkpoint is not None:
        path = Path(t.checkpoint)
        path = path if path.is_absolute() else project.path.parent / path
        model, meta = load_teacher(path)
        if model.cfg != cfg:
            raise ConfigError(
                f"teacher.checkpoint: {str(path)!r} has ViT {model.cfg.to_dict()}, "
                f"the project describes {cfg.to_dict()}"
            )
        return model, {"source": str(path), **meta.get("metrics", {})}
    cached = out_dir / TEACHER_FILE
    if cached.is_file():
        model, meta = load_checkpoint(cached)
        if meta.get("fingerprint") == fingerprint:
            return _as_teacher(model), {"source": str(cached), "cached": True, **meta.get("metrics", {})}
    model, metrics = train_teacher(cfg, t, data, device, quiet)
    save_checkpoint(model, cached, {"role": "teacher", "fingerprint": fingerprint, "metrics": metrics})
    return _as_teacher(model), {"source": str(cached), "cached": False, **metrics}


def load_teacher(path: Path) -> tuple[TinyViT, dict[str, Any]]:
    from had_hls.models.checkpoint import CheckpointError, check_checkpoint_path

    check_checkpoint_path(path, "teacher.checkpoint")
    try:
        model, meta = load_checkpoint(path)
    except CheckpointError as err:
        raise UserError(f"teacher.checkpoint: {str(path)!r} is {err}") from None
    return _as_teacher(model), meta


def _as_teacher(model: TinyViT) -> TinyViT:
    from had_hls.nn import TopN

    model.set_attention(BinarizeMode.FLOAT, top_n=TopN())
    return model.eval()
