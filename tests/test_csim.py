"""C-simulation (real hls4ml conversion + g++) is bit-exact with the golden model, HAD and FP, over shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from had_hls.cli import main
from had_hls.project import load_project
from had_hls.verify.csim import run_csim

pytestmark = pytest.mark.slow

SHAPES = [  # name, model overrides, hls overrides
    ("odd_L_d8_N1_H3", {"seq_len": 13, "embed_dim": 24, "num_heads": 3, "top_n": 1}, {}),
    ("N_equals_L_io_stream", {"seq_len": 7, "embed_dim": 16, "num_heads": 2, "top_n": 7}, {"io_type": "io_stream"}),
    (
        "padding_mask_vivado",
        {"seq_len": 10, "embed_dim": 16, "num_heads": 1, "top_n": 4, "key_padding_mask": True},
        {"backend": "Vivado"},
    ),
    (
        "d32_wide_types",
        {"seq_len": 20, "embed_dim": 64, "num_heads": 2, "top_n": 5, "seed": 7},
        {
            "precision": {
                "input": "ap_fixed<18,6,AP_RND,AP_SAT>",
                "weight": "ap_fixed<12,2>",
                "value": "ap_fixed<14,5>",
                "context": "ap_fixed<18,6,AP_RND,AP_SAT>",
                "accum": "ap_fixed<32,10>",
            }
        },
    ),
]


@pytest.mark.parametrize("name,model,hls", SHAPES, ids=[s[0] for s in SHAPES])
def test_csim_is_bit_exact_with_golden(tmp_path, project_file, name, model, hls):
    path = project_file(name=name, model=model, hls=hls, csim={"vectors": 6, "mask_fraction": 0.6})
    report = run_csim(load_project(path), tmp_path / "out", quiet=True)
    assert report["golden_mismatches"] == 0
    assert report["fp_baseline"]["golden_mismatches"] == 0
    assert report["output_elements"] == 6 * model["seq_len"] * model["embed_dim"]
    assert report["max_abs_err_vs_torch_hw_weights"] <= report["error_bound_vs_torch_hw_weights"]
    fp = report["fp_baseline"]
    assert fp["max_abs_err_vs_torch_hw_weights"] <= fp["error_bound_vs_torch_hw_weights"]
    vec = np.load(tmp_path / "out" / "csim_vectors.npz")
    assert np.abs(vec["had_csim"]).max() > 0.01  # a real, non-trivial output was compared
    assert np.array_equal(vec["had_csim"], vec["had_golden"])
    assert ("mask" in vec) == model.get("key_padding_mask", False)
    # each layer project ships its inputs and golden's outputs for its own test bench (Vitis csim_design)
    tb = tmp_path / "out" / "hls" / "had" / "tb_data"
    expected = np.loadtxt(tb / "tb_output_predictions.dat", ndmin=2)
    assert np.array_equal(expected, vec["had_golden"].reshape(6, -1))
    width = model["seq_len"] * model["embed_dim"] + (model["seq_len"] if model.get("key_padding_mask") else 0)
    assert np.loadtxt(tb / "tb_input_features.dat", ndmin=2).shape == (6, width)
    assert report["check"] == {"ok": True, "violations": []}


def test_csim_command_writes_report_and_exits_zero(tmp_path, project_file, capsys):
    path = project_file(name="cli", model={"seq_len": 9, "embed_dim": 8, "num_heads": 1, "top_n": 3})
    out = tmp_path / "result"
    assert main(["csim", str(path), "--out", str(out), "--vectors", "3", "--quiet"]) == 0
    report = json.loads((out / "csim.json").read_text())
    for key in (
        "name",
        "backend",
        "io_type",
        "vectors",
        "golden_mismatches",
        "max_abs_err_vs_torch",
        "compile_s",
        "run_s",
    ):
        assert key in report
    assert set(report["fp_baseline"]) >= {"golden_mismatches", "max_abs_err_vs_torch"}
    assert report["vectors"] == 3 and report["name"] == "cli"
    assert (out / "hls" / "had" / "firmware" / "nnet_utils" / "nnet_had_attention.h").is_file()
    assert "PASS" in capsys.readouterr().out


def test_csim_detects_a_corrupted_table(tmp_path, project_file, monkeypatch):
    """The comparison can fail: golden computed with one wrong exp-table entry disagrees with the C-sim."""
    import had_hls.verify.csim as csim

    real = csim.build_specs

    def corrupted(project, layer=None):
        had, fp = real(project, layer)
        had.exp_table[1] -= 1000
        return had, fp

    monkeypatch.setattr(csim, "build_specs", corrupted)
    path = project_file(name="bad", model={"seq_len": 9, "embed_dim": 16, "num_heads": 2, "top_n": 4})
    report = run_csim(load_project(path), tmp_path / "out", vectors=2, quiet=True)
    assert report["golden_mismatches"] > 0
    assert report["fp_baseline"]["golden_mismatches"] == 0
