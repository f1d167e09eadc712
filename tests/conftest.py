"""Shared fixtures: small project files and seeded HAD layers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from had_hls.nn import HammingAttention


def write_project(folder: Path, name: str = "t", model: dict | None = None, **sections) -> Path:
    """Write a project YAML; ``model`` overrides a tiny default layer, other sections pass through."""
    doc = {
        "name": name,
        "model": {"seq_len": 8, "embed_dim": 16, "num_heads": 2, "top_n": 3, "seed": 0, **(model or {})},
    }
    doc.update(sections)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def project_file(tmp_path: Path):
    def make(**kwargs) -> Path:
        return write_project(tmp_path, **kwargs)

    return make


def seeded_layer(
    embed: int,
    heads: int,
    top_n: int | None,
    seed: int = 0,
    mode: str = "hard",
    sigma_q: float = 0.7,
    sigma_k: float = 0.6,
) -> HammingAttention:
    torch.manual_seed(seed)
    layer = HammingAttention(embed, heads, top_n=top_n, mode=mode).double()
    layer.sigma_q.fill_(sigma_q)
    layer.sigma_k.fill_(sigma_k)
    return layer.eval()
