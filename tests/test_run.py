"""The main job, `had-hls run`, on tiny projects with the real tools: every stage runs and leaves its outputs.

A tiny ViT (L = 16, E = 16, H = 2) is trained and distilled for a few steps on real Fashion-MNIST images, then
converted to one hls4ml project, C-simulated (layer vectors + the whole model on 40 test images), co-simulated in
RTL with Icarus and reported (Yosys, VCD power). A second project without checkpoint or training runs the
single-layer flow (distill and convert skipped). Tested elsewhere: Verilator (test_rtl.py), the nextpnr Fmax proxy,
the gate-level power and the OpenSTA cross-check (test_report.py, test_power_netlist.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_report import _have_tools
from test_rtl import needs_icarus

from had_hls.cli import main
from had_hls.data.fashion_mnist import FASHION_MNIST_DIR
from had_hls.verify.accuracy import reference_accuracy, reference_label

pytestmark = pytest.mark.slow

HAVE_FMNIST = any((FASHION_MNIST_DIR / f"train-images-idx3-ubyte{s}").is_file() for s in ("", ".gz"))

TINY_MODEL_YAML = """\
name: tiny_run
model: {seq_len: 16, embed_dim: 16, num_heads: 2, top_n: 6}
teacher: {patch_size: 7, depth: 1, mlp_dim: 32, epochs: 1, batch_size: 64, train_limit: 512, test_limit: 40,
          warmup_steps: 2}
distill: {batch_size: 64, calib_batches: 2, steps: [3, 3, 3, 3], device: cpu}
csim: {vectors: 4, samples: 40}
rtl: {lanes: 4, fmax: false, simulator: icarus, gate_level_power: false, power_crosscheck: false}
"""

TINY_LAYER_YAML = """\
name: tiny_layer
model: {seq_len: 9, embed_dim: 8, num_heads: 2, top_n: 3, seed: 5}
csim: {vectors: 3}
rtl: {lanes: 2, simulator: icarus, fmax: false, gate_level_power: false, power_crosscheck: false}
"""

STAGES = ["distill", "convert", "csim", "cosim", "report"]
HW_KEYS = {"lut", "ff", "dsp", "bram", "carry", "fmax_mhz", "power_mw", "cycles_per_query"}


def _summary_rows(text: str) -> dict[str, str]:
    """stage -> status, from the summary table `had-hls run` prints last."""
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in STAGES and parts[1] in ("ok", "skipped", "failed"):
            rows[parts[0]] = parts[1]
    return rows


@pytest.mark.skipif(not HAVE_FMNIST, reason="Fashion-MNIST (Debian dataset-fashion-mnist) not installed")
def test_main_job_on_a_tiny_distilled_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not _have_tools():
        pytest.skip("needs Yosys (pyosys or yosys) and Verilator or Icarus")
    project = tmp_path / "tiny_run.yaml"
    project.write_text(TINY_MODEL_YAML)
    out = tmp_path / "out"
    assert main(["run", str(project), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert _summary_rows(text) == dict.fromkeys(STAGES, "ok"), text

    # distill: a hard-mode student, then the whole model became one hls4ml project
    assert (out / "student.pt").is_file() and (out / "distill.json").is_file()
    assert (out / "hls" / "model").is_dir()
    csim = json.loads((out / "csim.json").read_text())
    assert csim["golden_mismatches"] == 0 and csim["fp_baseline"]["golden_mismatches"] == 0
    acc = csim["accuracy"]
    assert acc["samples"] == 40 and all(0.0 <= acc[k] <= 1.0 for k in ("csim", "student"))
    assert 0.0 <= reference_accuracy(acc) <= 1.0 and reference_label(acc)  # the teacher's row, or what stands in
    # the hardware model classifies (almost) like the float student on the same images
    assert abs(acc["csim"] - acc["student"]) <= 0.05

    cosim = json.loads((out / "cosim.json").read_text())
    assert cosim["pass"] and cosim["golden_mismatches"] == 0 and cosim["csim_mismatches"] == 0

    report = json.loads((out / "report.json").read_text())
    for kind in ("had", "fp"):
        assert HW_KEYS <= set(report[kind]), kind
        assert report[kind]["cycles_per_query"] == cosim["cycles_per_query"] == 2 * 4  # H * ceil(L / P)
    assert report["fp"]["dsp"] > report["had"]["dsp"] >= 0
    assert report["had"]["fmax_mhz"] is None and "not run" in (out / "report.md").read_text()  # rtl.fmax: false
    assert 0.0 < report["area_reduction"] < 1.0 and 0.0 < report["power_reduction"] < 1.0
    assert (out / "report.md").is_file() and list(out.glob("report_*.png"))


@needs_icarus
def test_main_job_on_a_single_random_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not _have_tools():
        pytest.skip("needs Yosys (pyosys or yosys) and Verilator or Icarus")
    project = tmp_path / "tiny_layer.yaml"
    project.write_text(TINY_LAYER_YAML)
    out = tmp_path / "out"
    assert main(["run", str(project), "--out", str(out)]) == 0
    rows = _summary_rows(capsys.readouterr().out)
    assert rows == {"distill": "skipped", "convert": "skipped", "csim": "ok", "cosim": "ok", "report": "ok"}
    report = json.loads((out / "report.json").read_text())
    assert report["had"]["cycles_per_query"] == 2 * 5  # H * ceil(9 / 2)
    assert json.loads((out / "cosim.json").read_text())["simulator"] == "icarus"  # rtl.simulator reaches cosim
    assert not (out / "student.pt").exists() and not (out / "hls" / "model").exists()


def test_main_job_with_a_bad_project_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "bad.yaml"
    project.write_text(TINY_LAYER_YAML.replace("top_n: 3", "top_n: 12"))
    out = tmp_path / "out"
    assert main(["run", str(project), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "model.top_n" in err and "12" in err
    assert not out.exists()
