"""The hierarchical synthesis flow (had_hls.estimate.synth_hier.prepare_hierarchical) against flat synthesis, with the
real Yosys at a tiny shape: every resource within 5 %, each distinct part synthesised once, composed by count."""

from __future__ import annotations

import json

import pytest

from had_hls.errors import MissingToolError
from had_hls.estimate.synth import run_batch
from had_hls.estimate.synth_hier import HIER_PART, choose_parts
from had_hls.estimate.yosys import yosys_backend


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
    from had_hls.estimate.synth import prepare_xilinx
    from had_hls.estimate.synth_hier import prepare_hierarchical

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


SUB_V = """
module sub (input wire clk, input wire [7:0] a, input wire [7:0] b, input wire mode,
            output reg [7:0] x, output reg [15:0] y);
    always @(posedge clk) begin
        x <= mode ? a + b : a - b;
        y <= {a ^ b, (a & b) | (a >> 2)};
    end
endmodule
module synth_top (input wire clk, input wire [7:0] a, input wire [7:0] b, output wire [7:0] x,
                  output wire [3:0] y_low);
    wire [15:0] y;
    sub u (.clk(clk), .a(a), .b(b), .mode(1'b1), .x(x), .y(y));
    assign y_low = y[3:0];
endmodule
"""


@needs_yosys
def test_a_part_is_synthesised_in_the_context_of_its_instances(tmp_path):
    """A part's run sees what flat synthesis sees across the boundary: the input its instance ties to 1 is tied
    (no subtractor), and the bits of ``y`` no parent reads are cut (12 of 16), so the part shrinks to what flat
    synthesis keeps of it."""
    from had_hls.estimate.synth_context import context_summary, context_wrapper, part_contexts
    from had_hls.estimate.synth_hier import elaborate
    from had_hls.estimate.xilinx_cells import counts_from_cells
    from had_hls.estimate.yosys import run_yosys

    (tmp_path / "sub.v").write_text(SUB_V)
    elab = elaborate(tmp_path, ["sub.v"])
    parts = choose_parts(elab["modules"], min_count=1, min_cells=1)
    assert parts == {"\\sub": 1}
    ctx = part_contexts(json.loads(elab["design"].read_text()), set(parts))["\\sub"]
    assert ctx["mode"].const == ["1"] and ctx["a"].const == [None] * 8
    assert ctx["y"].used == [True] * 4 + [False] * 12 and all(ctx["x"].used)
    assert context_summary(ctx) == {"tied_input_bits": 1, "cut_output_bits": 12}

    def luts(pre: str, top: str, folder: str) -> int:
        work = tmp_path / folder
        work.mkdir()
        (work / "sub.v").write_text(SUB_V)
        (work / "ctx.il").write_text(context_wrapper("hier_part_0", "\\sub", ctx))
        run_yosys(f"read_verilog sub.v\nhierarchy -top synth_top\n{pre}proc\n"
                  f"synth_xilinx -family xcup -top {top} -flatten -noiopad\ntee -q -o stat.json stat -json\n", work)
        cells = json.loads((work / "stat.json").read_text())["modules"][f"\\{top}"]["num_cells_by_type"]
        return counts_from_cells("had", {k.lstrip("\\"): int(v) for k, v in cells.items()}).lut

    alone = luts("hierarchy -top sub\n", "sub", "alone")
    in_context = luts("read_rtlil ctx.il\nhierarchy -top hier_part_0\n", "hier_part_0", "context")
    flat = luts("", "synth_top", "flat")
    assert in_context < alone, (alone, in_context, flat)
    assert abs(in_context - flat) <= 1, (alone, in_context, flat)
