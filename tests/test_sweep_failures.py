"""had-hls sweep: a point that fails is listed with its reason (sweep.json, the terminal table, the plot), never
dropped, and the other points still come back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_report import MICRO_PRECISION, _have_tools
from test_rtl import needs_icarus
from test_tool_crash import CRASH

pytestmark = pytest.mark.slow


@needs_icarus
def test_a_failed_point_is_listed_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _have_tools():
        pytest.skip("needs Yosys (pyosys or yosys) and Icarus")
    from had_hls.estimate.sweep import SweepOptions, format_sweep, grid, run_sweep

    bin_dir = tmp_path / "crashing-bin"  # the real synthesis runs; the simulator crashes for co-simulated points
    bin_dir.mkdir()
    (bin_dir / "iverilog").write_text(CRASH)
    (bin_dir / "iverilog").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    # L = 4 is co-simulated (and fails); L = 8 is past power_max_seq_len: synthesis only, it succeeds
    opts = SweepOptions(precision=MICRO_PRECISION, power=True, power_max_seq_len=4, simulator="icarus")
    out = tmp_path / "sweep"
    sweep = run_sweep(grid([4, 8], [4], [2], [2]), out, opts, jobs=1, quiet=True)

    assert sweep["failed"] == 1 and [p["label"] for p in sweep["failed_points"]] == ["L4_d4_N2_P2"]
    assert "iverilog" in sweep["failed_points"][0]["error"]
    assert json.loads((out / "sweep.json").read_text())["failed_points"] == sweep["failed_points"]
    good = [p for p in sweep["points"] if "error" not in p]
    assert [p["label"] for p in good] == ["L8_d4_N2_P2"] and good[0]["had"]["power_mw"] is None
    assert good[0]["had"]["lut"] > 0 and good[0]["fp"]["dsp"] > good[0]["had"]["dsp"]
    assert sweep["plots"] == ["sweep_vs_L.png", "sweep_topn.png"] and (out / "sweep_vs_L.png").is_file()
    table = format_sweep(sweep)
    assert "L4_d4_N2_P2" in table and "FAILED" in table and "1 failed" in table
    assert sweep["points"][0]["label"] == "L4_d4_N2_P2"  # kept in its place, not dropped
