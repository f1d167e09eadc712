"""had-hls checkpoints: one ``torch.save`` dict per model.

Format (``format == "had-hls/checkpoint-v1"``)::

    {"format": "had-hls/checkpoint-v1",
     "arch": "tiny_vit",                     # model class (ARCHS): tiny_vit or minilm
     "config": {...},                        # the class's config dataclass as a dict (ViTConfig, MiniLMConfig)
     "attention": {"mode": "hard", "tanh_c": 1.0, "top_n": {"n": 24, "ratio": None, "n_min": 1, "n_max": None}},
     "state_dict": {...},                    # includes every HammingAttention's sigma_q / sigma_k buffers
     "meta": {...}}                          # free-form: role (teacher/student), stage, metrics, dataset, ...

The attention mode and top-N are not parameters, so they travel in ``attention`` and are applied to every layer.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from had_hls.models.minilm import MiniLMClassifier, MiniLMConfig
from had_hls.models.vit import TinyViT, ViTConfig
from had_hls.nn import BinarizeMode, HammingAttention, TopN

FORMAT = "had-hls/checkpoint-v1"
ARCHS: dict[str, tuple[type[nn.Module], type]] = {
    "tiny_vit": (TinyViT, ViTConfig),
    "minilm": (MiniLMClassifier, MiniLMConfig),  # had_hls.models.minilm: BERT/MiniLM text classifier
}


def attention_layers(model: nn.Module) -> list[HammingAttention]:
    """Every HammingAttention of ``model`` in forward order (module registration order); layer k of a project's
    ``model.layer`` / ``hardware.layers`` is element k."""
    return [m for m in model.modules() if isinstance(m, HammingAttention)]


def _arch_of(model: nn.Module) -> str:
    for name, (cls, _) in ARCHS.items():
        if type(model) is cls:
            return name
    raise TypeError(f"cannot checkpoint a {type(model).__name__}: known architectures: {', '.join(ARCHS)}")


def checkpoint_dict(model: nn.Module, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The checkpoint dict of ``model`` (its attention mode/top-N taken from its first attention layer)."""
    layers = attention_layers(model)
    attn: dict[str, Any] = {}
    if layers:
        first = layers[0]
        attn = {"mode": first.mode.value, "tanh_c": float(first.tanh_c), "top_n": asdict(first.top_n)}
        if type(first).__name__ == "BinaryMatrixAttention":
            attn["binary_matrix"] = True  # ablation only (had_hls.distill.ablations)
    return {
        "format": FORMAT,
        "arch": _arch_of(model),
        "config": model.cfg.to_dict(),
        "attention": attn,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "meta": dict(meta or {}),
    }


def save_checkpoint(model: nn.Module, path: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """Write atomically (temporary file + rename): a reader never sees a half-written checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(checkpoint_dict(model, meta), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def model_from_dict(ckpt: dict[str, Any]) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, meta) from a checkpoint dict; meta also carries format, arch, config and attention."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        got = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"not a had-hls checkpoint: format {got!r}, expected {FORMAT!r}")
    arch = ckpt.get("arch")
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHS)}")
    cls, cfg_cls = ARCHS[arch]
    model = cls(cfg_cls(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    attn = ckpt.get("attention") or {}
    if attn.get("binary_matrix"):
        from had_hls.distill.ablations import binarize_attention_matrix

        binarize_attention_matrix(model)
    if attn:
        top_n = TopN(**attn["top_n"])
        for layer in attention_layers(model):
            layer.set_mode(BinarizeMode.parse(attn["mode"]), attn.get("tanh_c"))
            layer.top_n = top_n
    meta = dict(ckpt.get("meta") or {})
    meta.update(format=ckpt["format"], arch=arch, config=dict(ckpt["config"]), attention=dict(attn))
    return model.eval(), meta


class CheckpointError(ValueError):
    """A file that is not a had-hls checkpoint; the message is one line of ours (not torch's advice)."""


def check_checkpoint_path(path: str | Path, key: str) -> Path:
    """``path`` as a Path if it names an existing file; else UserError naming ``key``: empty, a folder, missing."""
    from had_hls.errors import UserError

    text = str(path)
    if not text.strip():
        raise UserError(f"{key}: {text!r} is not allowed: give a checkpoint file")
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{key}: {text!r} is a folder, not a checkpoint file")
    if not p.exists():
        raise UserError(f"{key}: {text!r} does not exist")
    if not p.is_file():
        raise UserError(f"{key}: {text!r} is not a regular file")
    return p


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Load a had-hls checkpoint file: (model in eval mode with its attention mode and top-N applied, meta).

    CheckpointError (one line) when torch cannot read the file or it holds something else than a had-hls
    checkpoint."""
    try:
        ckpt = torch.load(Path(path), map_location=map_location, weights_only=True)
    except Exception:  # noqa: BLE001 - torch raises many types, each with several lines of advice
        raise CheckpointError("not a torch checkpoint file (torch.load cannot read it)") from None
    try:
        return model_from_dict(ckpt)
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, RuntimeError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CheckpointError(msg if msg.startswith("not a had-hls") else f"not a had-hls checkpoint: {msg}") from None
