"""The hierarchical synthesis flow (had_hls.estimate.synth.prepare_hierarchical) against flat synthesis, with the
real Yosys at a tiny shape: every resource within 5 %, each distinct part synthesised once, composed by count."""

from __future__ import annotations

import json

import pytest

from had_hls.errors import MissingToolError
from had_hls.estimate.synth import HIER_PART, choose_parts, run_batch, yosys_backend


def _has_yosys() -> bool:
    try:
        yosys_backend()
    except MissingToolError:
        return False
    return True


needs_yosys = pytest.mark.skipif(not _has_yosys(), reason="Yosys (pyosys or yosys) not installed")


def test_choose_parts_counts_instances_through_parents():
    """Instances multiply down the hierarchy; a part's own submodules go with it; small modules stay in the rest."""
    mods = {
        "\\synth_top": {"cells": 0, "subs": {"core": 1}},
        "core": {"cells": 500, "subs": {"lane": 4, "sel": 6, "big": 1}},
        "lane": {"cells": 30, "subs": {"tree": 2}},
        "tree": {"cells": 20, "subs": {}},
        "sel": {"cells": 2, "subs": {}},
        "big": {"cells": 200, "subs": {"tree": 1}},
    }
    # lane: 4 instances of 70 cells -> a part (its trees inside); sel: too small; big: one instance, 220 of 1100 cells
    assert choose_parts(mods) == {"lane": 4, "big": 1}
    assert choose_parts(mods, min_share=0.5) == {"lane": 4}
    # lanes (4) below min_count: the trees are counted through both parents, 4 x 2 + 1
    assert choose_parts(mods, min_count=5, min_cells=20, min_share=0.5) == {"tree": 9}


@needs_yosys
def test_hierarchical_agrees_with_flat(tmp_path):
    """Tiny FP core (L = 16, d = 8, P = 2): each part one Yosys run, counts composed by instances, within 5 %.
    Only the replicated part (the P exp-index units) is split off (``min_share`` 1), to keep the test to three Yosys
    runs; benchmarks/synth_flows.py --small checks the default part choice."""
    from had_hls.estimate.sweep import SweepOptions, SweepPoint, point_designs
    from had_hls.estimate.synth import prepare_hierarchical, prepare_xilinx

    design = point_designs(SweepPoint(16, 8, 4, 2), SweepOptions(), tmp_path / "p")["fp"]
    flat = prepare_xilinx(design, tmp_path / "flat")
    hier = prepare_hierarchical(design, tmp_path / "hier", min_share=1.0)
    job = json.loads((hier / "synth_job.json").read_text())
    modules = [p["module"] for p in job["parts"]]
    assert len(modules) == len(set(modules)) >= 1  # each distinct module once
    assert [p["count"] for p in job["parts"]] == [2]  # the replicated one (the P exp-index units)
    assert run_batch([flat, hier], jobs=2) == {str(flat): "ok", str(hier): "ok"}
    f = json.loads((flat / "result.json").read_text())
    h = json.loads((hier / "result.json").read_text())
    assert h["flow"] == "hierarchical" and h["hierarchy"]["yosys_runs"] == len(modules) + 2  # + rest + elaboration
    # composition: rest + sum(count x part), and no black box left in the counts
    rest = json.loads((hier / "rest" / "result.json").read_text())
    lut = rest["lut"] + sum(p["count"] * json.loads((hier / p["dir"] / "result.json").read_text())["lut"]
                            for p in job["parts"])
    assert h["lut"] == lut and not any(c.startswith(HIER_PART) for c in h["cells"])
    for k in ("lut", "ff", "dsp", "bram"):
        assert abs(h[k] - f[k]) <= 0.05 * max(f[k], 1), (k, f[k], h[k])
    assert h["memories"] == f["memories"]
    assert h["timing"]["logic_levels"] <= f["timing"]["logic_levels"] + 2
