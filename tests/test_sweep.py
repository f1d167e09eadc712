"""had-hls sweep: two points with the real tools, then a rerun that computes nothing (cache)."""

from __future__ import annotations

import json

import pytest
from test_report import MICRO_PRECISION, _have_tools

pytestmark = pytest.mark.slow


def test_sweep_two_points_then_cached(tmp_path):
    if not _have_tools():
        pytest.skip("needs Yosys (pyosys or yosys) and Verilator or Icarus")
    from had_hls.estimate.sweep import SweepOptions, grid, run_sweep

    points = grid([4, 8], [4], [2], [2])
    assert len(points) == 2
    opts = SweepOptions(precision=MICRO_PRECISION, power=True, power_max_seq_len=8)
    first = run_sweep(points, tmp_path, opts, jobs=2, quiet=True)
    assert first["computed"] == 2 and first["failed"] == 0
    by_l = {p["seq_len"]: p for p in first["points"]}
    for L, p in by_l.items():
        assert p["had"]["k_memory_bits"] == L * 4
        assert p["had"]["cycles_per_query"] == p["fp"]["cycles_per_query"] == -(-L // 2)
        assert p["had"]["power_mw"] > 0 and p["had"]["topn_lut"] > 0
    assert by_l[8]["fp"]["lut_equivalents"] > by_l[4]["fp"]["lut_equivalents"]
    assert json.loads((tmp_path / "sweep.json").read_text())["computed"] == 2
    assert (tmp_path / "sweep_vs_L.png").is_file() and (tmp_path / "sweep_topn.png").is_file()
    again = run_sweep(points, tmp_path, opts, jobs=2, quiet=True)
    assert again["computed"] == 0 and again["cached"] == 2
    assert [p["had"]["lut"] for p in again["points"]] == [p["had"]["lut"] for p in first["points"]]
