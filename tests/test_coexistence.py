"""Registering had-hls leaves every other hls4ml model alone.

Three of hls4ml 1.3.0's own PyTorch test cases, rebuilt here (hls4ml's code is not copied): the per-sample dot
product ``einsum('ij,ij->i')`` after a Linear (``test_einsum_single_input``: ``channels_last_conversion='internal'``,
``ap_fixed<32,12>``), a Linear on an (S, D) input with ``channels_last_conversion='off'``, and a Softmax over an
(S, D) input (more than one axis). Each is converted in two fresh Python processes, one that never imports had-hls
and one with ``import had_hls; had_hls.register()``; every file of the written projects (but hls4ml_config.yml,
which pickles the torch model) and the IR layers' attributes and weights must be the same, and the C-simulation of
the einsum case must predict the same numbers. ``benchmarks/hls4ml_pytorch_tests.py`` runs all 88 Vitis cases of
hls4ml's PyTorch tests this way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

pytestmark = pytest.mark.slow

PROBE = r"""
import hashlib, json, sys
from pathlib import Path
import numpy as np
if sys.argv[1] == "registered":
    import had_hls
    had_hls.register()
import hls4ml
import torch
from torch import nn
sys.path.insert(0, sys.argv[3])
from test_coexistence import MODELS, build

out = Path(sys.argv[2]).resolve()
report = {"had_hls_imported": "had_hls" in sys.modules}
for name in MODELS:
    model, x = build(name)
    cfg = hls4ml.utils.config_from_pytorch_model(model, **MODELS[name]["config"])
    hls_model = hls4ml.converters.convert_from_pytorch_model(
        model, hls_config=cfg, output_dir=str(out / name), backend="Vitis", io_type="io_parallel")
    hls_model.write()
    stamp = hls_model.config.get_config_value("Stamp")
    files = {}
    for p in sorted((out / name).rglob("*")):
        if p.is_file() and p.name != "hls4ml_config.yml":
            data = p.read_bytes().replace(stamp.encode(), b"STAMP").replace(str(out).encode(), b"OUT")
            files[str(p.relative_to(out / name))] = hashlib.sha256(data).hexdigest()
    layers = {}
    for layer in hls_model.get_layers():
        attrs = {k: repr(v) for k, v in sorted(layer.attributes.items())
                 if isinstance(v, (int, float, str, bool, tuple, list)) or v is None}
        weights = {w: hashlib.sha256(np.ascontiguousarray(layer.get_weights(w).data).tobytes()).hexdigest()
                   for w in layer.weights}
        layers[layer.name] = {"class": layer.class_name, "attrs": attrs, "weights": weights}
    entry = {"files": files, "layers": layers}
    if MODELS[name].get("compile"):
        hls_model.compile()
        entry["predict"] = np.asarray(hls_model.predict(np.ascontiguousarray(x))).tolist()
    report[name] = entry
print("REPORT " + json.dumps(report))
"""


class EinsumDot(nn.Module):
    """Linear, then the per-sample dot product of its output with itself: ``einsum('ij,ij->i')``."""

    def __init__(self, dim: int = 8) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)
        return torch.einsum("ij,ij->i", y, y)


class SeqLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class SeqSoftmax(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.sm = nn.Softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sm(x)


MODELS = {
    "einsum_single_input": {
        "cls": EinsumDot,
        "shape": (8,),
        "config": {
            "input_shape": [(None, 8)],
            "default_precision": "ap_fixed<32,12>",
            "channels_last_conversion": "internal",
            "transpose_outputs": False,
            "granularity": "name",
        },
        "compile": True,
    },
    "linear_off": {
        "cls": SeqLinear,
        "shape": (4, 8),
        "config": {"input_shape": (4, 8), "channels_last_conversion": "off", "granularity": "name"},
    },
    "softmax_2d": {
        "cls": SeqSoftmax,
        "shape": (4, 8),
        "config": {"input_shape": (4, 8), "channels_last_conversion": "off", "granularity": "name"},
    },
}


def build(name: str) -> tuple[nn.Module, np.ndarray]:
    """The seeded model and 3 seeded inputs of case ``name``."""
    torch.manual_seed(0)
    spec = MODELS[name]
    x = np.random.default_rng(0).random((3, *spec["shape"]))
    return spec["cls"]().eval(), x


def _probe(mode: str, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(out), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("REPORT "))
    return json.loads(line[len("REPORT ") :])


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return {mode: _probe(mode, tmp_path_factory.mktemp(mode)) for mode in ("plain", "registered")}


def test_the_plain_process_never_imported_had_hls(probes: dict[str, dict]) -> None:
    assert probes["plain"]["had_hls_imported"] is False
    assert probes["registered"]["had_hls_imported"] is True


@pytest.mark.parametrize("name", list(MODELS))
def test_registration_leaves_the_project_files_and_ir_unchanged(probes: dict[str, dict], name: str) -> None:
    plain, registered = probes["plain"][name], probes["registered"][name]
    assert plain["files"] == registered["files"]
    assert not any("nnet_hamming" in f or "nnet_had" in f for f in registered["files"])  # our headers stay out
    assert plain["layers"] == registered["layers"]


def test_einsum_single_input_predicts_the_same_and_matches_torch(probes: dict[str, dict]) -> None:
    name = "einsum_single_input"
    plain = np.asarray(probes["plain"][name]["predict"])
    registered = np.asarray(probes["registered"][name]["predict"])
    np.testing.assert_array_equal(registered, plain)
    model, x = build(name)
    with torch.no_grad():
        ref = model(torch.tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(registered.reshape(ref.shape), ref, rtol=1e-2, atol=0.01)  # hls4ml's own check


def test_our_einsum_fix_keeps_a_per_sample_dot_product(tmp_path: Path) -> None:
    """With the fixes on (the opt-in), 'ij,ij->i' keeps a one-element output (it was 0-d: 'array size missing')."""
    import hls4ml

    from had_hls.hls import frontend_fixes
    from had_hls.hls.registration import register

    register()
    model, x = build("einsum_single_input")
    with frontend_fixes.enabled():
        cfg = hls4ml.utils.config_from_pytorch_model(model, **MODELS["einsum_single_input"]["config"])
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            model, hls_config=cfg, output_dir=str(tmp_path / "fixed"), backend="Vitis", io_type="io_parallel"
        )
    assert list(hls_model.graph["einsum"].get_output_variable().shape) == [1]
    hls_model.compile()
    with torch.no_grad():
        ref = model(torch.tensor(x, dtype=torch.float32)).numpy()
    got = np.asarray(hls_model.predict(np.ascontiguousarray(x))).reshape(ref.shape)
    np.testing.assert_allclose(got, ref, rtol=1e-2, atol=0.01)
