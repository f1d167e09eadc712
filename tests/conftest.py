"""Shared fixtures: small project files and seeded HAD layers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from had_hls.nn import HammingAttention

# The order in which pytest-xdist hands out test modules (pyproject: -n 2 --dist loadfile --no-loadscope-reorder):
# the modules whose tests take longest first, so that none of them starts last while the other worker has nothing
# left to do. A module runs whole on one worker, so its module-scoped fixtures are built once. Measured on a 2-core
# machine; a stale entry only makes the split less even, never a test weaker.
LONGEST_FIRST = (
    "test_run.py",  # two whole `had-hls run` jobs (the tiny ViT: four whole-model g++ builds)
    "test_sweep.py",  # local and Dask sweeps (Yosys, Icarus)
    "test_report.py",  # the micro report (module fixture) and nextpnr
    "test_model_convert_fast_csim.py",
    "test_power_netlist.py",
    "test_interrupts.py",
    "test_rtl.py",  # many Icarus / Verilator builds, none marked slow
)


def _module_rank(item: pytest.Item) -> tuple[int, int]:
    name = item.path.name
    if name in LONGEST_FIRST:
        return 0, LONGEST_FIRST.index(name)
    return (1 if item.get_closest_marker("slow") else 2), 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest modules first; each module's tests stay together and in file order."""
    rank: dict[Path, tuple[int, int]] = {}
    for item in items:  # a module's rank: its best test's (a module with any slow test counts as slow)
        rank[item.path] = min(rank.get(item.path, (3, 0)), _module_rank(item))
    items.sort(key=lambda item: rank[item.path])  # stable


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
