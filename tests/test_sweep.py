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


def test_sweep_through_a_dask_cluster(tmp_path):
    """--cluster: the points go to a Dask distributed scheduler (here a local one, as a user's cluster would be)."""
    if not _have_tools():
        pytest.skip("needs Yosys (pyosys or yosys) and Verilator or Icarus")
    distributed = pytest.importorskip("distributed")
    from had_hls.estimate.sweep import SweepOptions, grid, run_sweep

    points = grid([4], [4], [2], [4])
    opts = SweepOptions(precision=MICRO_PRECISION, power=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        sweep = run_sweep(points, tmp_path, opts, cluster=lc.scheduler_address, quiet=True)
    assert sweep["executor"].startswith("dask tcp://")
    assert sweep["computed"] == 1 and sweep["failed"] == 0, sweep["points"]
    (p,) = sweep["points"]
    assert p["had"]["k_memory_bits"] == 4 * 4 and p["had"]["power_mw"] is None
    assert p["had"]["cycles_per_query"] == p["fp"]["cycles_per_query"] == 1


def test_sweep_cluster_that_does_not_answer_is_a_user_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from had_hls.errors import UserError
    from had_hls.estimate import sweep as sweep_mod
    from had_hls.estimate.sweep import SweepOptions, grid, run_sweep

    monkeypatch.setattr(sweep_mod, "CLUSTER_TIMEOUT_S", 2)
    with pytest.raises(UserError, match="no Dask scheduler answers"):
        run_sweep(grid([4], [4], [2], [4]), tmp_path, SweepOptions(precision=MICRO_PRECISION, power=False),
                  cluster="tcp://127.0.0.1:9", quiet=True)
