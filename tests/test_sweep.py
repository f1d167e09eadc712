"""had-hls sweep: two points with the real tools, then a rerun that computes nothing (cache)."""

from __future__ import annotations

import json

import pytest
from test_report import MICRO_PRECISION, _have_tools
from test_rtl import needs_icarus

pytestmark = pytest.mark.slow


@needs_icarus
def test_sweep_computes_only_missing_points_locally_and_on_a_dask_cluster(tmp_path):
    """One point through local processes; then two points through a Dask scheduler (a local one, as a user's
    cluster would be): only the missing one is computed; a third run computes nothing."""
    if not _have_tools():
        pytest.skip("needs Yosys (pyosys or yosys) and Verilator or Icarus")
    distributed = pytest.importorskip("distributed")
    from had_hls.estimate.sweep import SweepOptions, grid, run_sweep

    # Icarus: a micro core builds in a second (Verilator's C++ build is tested in test_rtl / test_run)
    opts = SweepOptions(precision=MICRO_PRECISION, power=True, power_max_seq_len=8, simulator="icarus")
    first = run_sweep(grid([4], [4], [2], [2]), tmp_path, opts, jobs=2, quiet=True)
    assert first["computed"] == 1 and first["failed"] == 0, first["points"]
    assert first["executor"].startswith("concurrent.futures.ProcessPoolExecutor")

    points = grid([4, 8], [4], [2], [2])
    assert len(points) == 2
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        both = run_sweep(points, tmp_path, opts, cluster=lc.scheduler_address, quiet=True)
    assert both["executor"].startswith("dask tcp://")
    assert both["computed"] == 1 and both["cached"] == 1 and both["failed"] == 0, both["points"]
    by_l = {p["seq_len"]: p for p in both["points"]}
    qk_bits = int(MICRO_PRECISION["qk"].split("<")[1].split(",")[0])
    for L, p in by_l.items():
        assert p["had"]["k_memory_bits"] == L * 4  # one bit per K element
        assert p["fp"]["k_memory_bits"] == L * 4 * qk_bits
        assert p["had"]["cycles_per_query"] == p["fp"]["cycles_per_query"] == -(-L // 2)
        assert p["had"]["power_mw"] > 0 and p["had"]["topn_lut"] > 0
        assert p["fp"]["dsp"] > p["had"]["dsp"]
    assert by_l[4]["had"]["lut"] == first["points"][0]["had"]["lut"]
    assert json.loads((tmp_path / "sweep.json").read_text())["computed"] == 1
    assert (tmp_path / "sweep_vs_L.png").is_file() and (tmp_path / "sweep_topn.png").is_file()

    again = run_sweep(points, tmp_path, opts, jobs=2, quiet=True)
    assert again["computed"] == 0 and again["cached"] == 2
    assert [p["had"]["lut"] for p in again["points"]] == [p["had"]["lut"] for p in both["points"]]

    # without co-simulation nothing is measured: cycles_per_query is null, the formula sits in its own field
    formula = run_sweep(grid([4], [4], [2], [2]), tmp_path, SweepOptions(precision=MICRO_PRECISION, power=False),
                        jobs=1, quiet=True)["points"][0]
    for kind in ("had", "fp"):
        assert formula[kind]["cycles_per_query"] is None and formula[kind]["power_mw"] is None
        assert formula[kind]["cycles_per_query_model"] == by_l[4][kind]["cycles_per_query"] == 2


def test_sweep_cluster_that_does_not_answer_is_a_user_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from had_hls.errors import UserError
    from had_hls.estimate.sweep import SweepOptions, executor, grid, run_sweep

    monkeypatch.setattr(executor, "CLUSTER_TIMEOUT_S", 2)
    with pytest.raises(UserError, match="no Dask scheduler answers"):
        run_sweep(grid([4], [4], [2], [4]), tmp_path, SweepOptions(precision=MICRO_PRECISION, power=False),
                  cluster="tcp://127.0.0.1:9", quiet=True)
