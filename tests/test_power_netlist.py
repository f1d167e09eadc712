"""Power from per-cell activity (estimate/netlist_power.py and its pieces: vcd_toggles, cell_activity) and the ASIC
cross-check's pieces (estimate/asic.py, asic_liberty, asic_sta).

Fast tests state the arithmetic on hand-written VCDs and netlists; the slow ones run the real flow (Yosys, Icarus,
OpenSTA) on a small core: the synthesized netlist is simulated on the co-simulation vectors and must reproduce the
golden context rows, and a wrong reference is caught.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_rtl import make_spec, needs_icarus

from had_hls import golden
from had_hls.estimate import asic, asic_liberty, asic_sta, cell_activity, netlist_power, vcd_toggles
from had_hls.estimate.power import COEFFICIENTS

VCD = """$timescale 1ps $end
$scope module tb $end
$scope module dut $end
$scope module core $end
$var wire 1 ! clk $end
$var wire 1 " n0 $end
$var wire 2 # n1 [1:0] $end
$var wire 1 $ en $end
$scope module sub $end
$var reg 3 % r [2:0] $end
$upscope $end
$upscope $end
$upscope $end
$upscope $end
$enddefinitions $end
#0
$dumpvars
0!
0"
b00 #
1$
b000 %
$end
#5
1!
1"
b01 #
#10
0!
#15
1!
0"
b11 #
b101 %
#20
0!
0$
#25
1!
1"
#30
0!
"""


def test_vcd_bit_toggles_counts_each_bit_and_the_duty_at_clock_edges(tmp_path: Path):
    path = tmp_path / "a.vcd"
    path.write_text(VCD)
    cycles, toggles, high = vcd_toggles.vcd_bit_toggles(path, "core", {"en"})
    assert cycles == 3  # rising edges at 5, 15, 25
    assert toggles[("n0", 0)] == 3
    assert (toggles[("n1", 0)], toggles[("n1", 1)]) == (1, 1)
    assert toggles[("en", 0)] == 1
    assert ("r", 0) not in toggles  # only the scope's own nets (a flat netlist's)
    assert high[("en", 0)] == 2  # high at the edges at 5 and 15, low at 25


def _netlist(tmp_path: Path) -> Path:
    """A LUT2, a flip-flop, a DSP48E2 with one constant operand bit and a RAMB18E2 (port A used)."""
    mod = {
        "netnames": {
            "a": {"bits": [2]},
            "b": {"bits": [3]},
            "y": {"bits": [4]},
            "q": {"bits": [5]},
            "en": {"bits": [6]},
        },
        "cells": {
            "l": {
                "type": "LUT2",
                "port_directions": {"I0": "input", "I1": "input", "O": "output"},
                "connections": {"I0": [2], "I1": [3], "O": [4]},
            },
            "f": {
                "type": "FDRE",
                "port_directions": {"D": "input", "Q": "output"},
                "connections": {"D": [4], "Q": [5]},
            },
            "m": {
                "type": "DSP48E2",
                "port_directions": {"A": "input", "B": "input", "P": "output"},
                "connections": {"A": [2, "0"], "B": [3], "P": [4]},
            },
            "r": {
                "type": "RAMB18E2",
                "parameters": {"READ_WIDTH_A": 18, "READ_WIDTH_B": 0, "WRITE_WIDTH_A": 0, "WRITE_WIDTH_B": 0},
                "port_directions": {"ENARDEN": "input", "ENBWREN": "input"},
                "connections": {"ENARDEN": [6], "ENBWREN": ["0"]},
            },
            "c": {"type": "CARRY8", "connections": {}},
        },
    }
    path = tmp_path / "n.json"
    path.write_text(json.dumps({"modules": {"synth_top": mod}}))
    return path


def test_each_cell_switches_at_its_own_rate_and_power_follows_the_coefficients(tmp_path: Path):
    toggles = {("a", 0): 4, ("b", 0): 2, ("y", 0): 5, ("q", 0): 1, ("en", 0): 0}
    act = cell_activity.cell_activities(_netlist(tmp_path), 10, toggles, {("en", 0): 3})
    cells = act.cells
    assert cells["lut"] == [("LUT2", 1.0, 0.5)]
    assert cells["ff"] == [("FDRE", 1.0, 0.1)]
    assert cells["dsp"] == [("DSP48E2", 1.0, pytest.approx((4 + 2) / 20))]  # the constant bit is not an operand
    assert cells["bram"] == [("RAMB18E2", 0.5, pytest.approx(0.5 * 0.3))]  # enabled 3 of 10 cycles, one port
    assert "carry" not in cells  # no coefficient: not counted, as in the RTL-activity model
    p = netlist_power.netlist_power(act, 200.0)
    expect_lut = 1.0 * COEFFICIENTS["lut"].pj * 0.5 / 0.5 * 200.0 * 1e-3
    assert p["by_resource_mw"]["lut"] == pytest.approx(expect_lut)
    assert p["power_mw"] == pytest.approx(sum(p["by_resource_mw"].values()))
    assert p["cells"]["ff"]["alpha_mean"] == pytest.approx(0.1)


def test_liberty_functions_become_verilog_cell_models():
    assert asic_liberty.liberty_expr("(!((A B)+C))") == "(~((A & B)|C))"
    assert asic_liberty.liberty_expr("(A^B)") == "(A^B)" and asic_liberty.liberty_expr("A'") == "~A"
    cells = asic_liberty.liberty_cells()
    assert cells["NAND2X1"].pins["Y"][0] == "output" and cells["NAND2X1"].pins["A"][1] > 0
    assert cells["DFFPOSX1"].sequential and not cells["AOI21X1"].sequential
    text = asic_liberty.cell_models({"AOI21X1", "DFFPOSX1"})
    assert "assign Y = (~((A & B)|C));" in text and "always @(posedge CLK) Q <= D;" in text
    with pytest.raises(RuntimeError, match="no simulation model"):
        asic_liberty.cell_models({"LATCH"})


def _osu_netlist(tmp_path: Path) -> Path:
    """clk, a -> INVX1 -> n1; NAND2X1(n1, a) -> n2 -> DFFPOSX1 -> y (Yosys JSON, bits as integers)."""
    mod = {
        "ports": {"clk": {"direction": "input", "bits": [2]}, "a": {"direction": "input", "bits": [3]},
                  "y": {"direction": "output", "bits": [6]}},
        "cells": {
            "u1": {"type": "INVX1", "connections": {"A": [3], "Y": [4]}},
            "u2": {"type": "NAND2X1", "connections": {"A": [4], "B": [3], "Y": [5]}},
            "f1": {"type": "DFFPOSX1", "connections": {"CLK": [2], "D": [5], "Q": [6]}},
        },
        "netnames": {"clk": {"bits": [2]}, "a": {"bits": [3]}, "n1": {"bits": [4]}, "n2": {"bits": [5]},
                     "y": {"bits": [6]}},
    }
    path = tmp_path / "asic.json"
    path.write_text(json.dumps({"modules": {"synth_top": mod}}))
    return path


def test_every_net_becomes_an_annotated_port_with_its_driver_and_load(tmp_path: Path):
    act = {"a[0]": (0.5, 0.5), "n1[0]": (0.5, 0.5), "n2[0]": (0.25, 0.75)}
    cut = asic_sta.cut_every_net(_osu_netlist(tmp_path), act, tmp_path / "cut.v")
    text = (tmp_path / "cut.v").read_text()
    assert "INVX1 c0 (.A(p3), .Y(d4));" in text and "NAND2X1 c1 (.A(p4), .B(p3), .Y(d5));" in text
    assert "DFFPOSX1 c2 (.CLK(clk), .D(p5), .Q(d6));" in text  # the clock stays the clock
    assert (cut["nets"], cut["matched"], cut["cells"]) == (3, 3, 3)
    assert "p5 0.25 0.7500 NAND2X1 Y" in cut["ports"] and "p3 0.5 0.5000 - -" in cut["ports"]
    cells = asic_liberty.liberty_cells()
    a_load = cells["INVX1"].pins["A"][1] + cells["NAND2X1"].pins["B"][1]
    assert f"d3 {a_load:.6g}" not in cut["loads"] and f"d4 {cells['NAND2X1'].pins['A'][1]:.6g}" in cut["loads"]
    # C x simulated toggles of the driven nets n1 (0.5) and n2 (0.25); y has no activity here
    expect = cells["NAND2X1"].pins["A"][1] * 0.5 + cells["DFFPOSX1"].pins["D"][1] * 0.25
    assert cut["cap_toggles_pf"] == pytest.approx(expect)


# ------------------------------------------------------------------------------------------------ real tools
def _tools() -> bool:
    from had_hls.estimate.yosys import yosys_backend

    try:
        yosys_backend()
    except Exception:  # noqa: BLE001
        return False
    return True


@pytest.mark.slow
@needs_icarus
def test_gate_level_activity_of_the_synthesized_core_reproduces_golden(tmp_path: Path):
    """HAD core, L = 12, E = 8, default types: the xcup netlist (DSP48E2 / RAMB18E2 models included) emits the
    golden context rows; every cell's toggle rate is a rate; a reference from another input is a mismatch."""
    if not _tools():
        pytest.skip("needs Yosys")
    from had_hls.estimate.synth import synth_xilinx
    from had_hls.estimate.synth_scripts import NETLIST_JSON
    from had_hls.rtl.generate import design_for

    spec = make_spec("had", 12, 8, 1, 3)
    design = design_for(spec, 2)
    syn = synth_xilinx(design, tmp_path / "xcup")
    assert syn.dsp > 0  # the models are exercised
    x = np.random.default_rng(3).normal(0, 1, (2, 12, 8))
    traces = [golden.attention_trace(spec, x[0])]
    ga = netlist_power.gate_level_activity(
        design, traces, [None], tmp_path / "xcup" / NETLIST_JSON, tmp_path / "gate", window=48
    )
    assert ga.ctx_rows_checked >= 2 and ga.ctx_mismatches == 0
    summary = ga.activity.summary()
    assert summary["lut"]["cells"] > 100 and summary["ff"]["cells"] > 100
    assert 0 < summary["lut"]["alpha_mean"] <= 1 and 0 < summary["ff"]["alpha_mean"] <= 1
    assert all(0 <= a <= 1 for rows in ga.activity.cells.values() for _, _, a in rows)
    # the same input, the expected rows of another input: the check must see the difference
    wrong = [dataclasses.replace(traces[0], ctx=golden.attention_trace(spec, x[1]).ctx)]
    assert (wrong[0].ctx[:2] != traces[0].ctx[:2]).any()
    with pytest.raises(RuntimeError, match="differ from golden"):
        netlist_power.gate_level_activity(
            design, wrong, [None], tmp_path / "xcup" / NETLIST_JSON, tmp_path / "gate2", window=48
        )


needs_sta = pytest.mark.skipif(
    shutil.which("sta") is None or not asic_liberty.OSU035_LIB.is_file(),
    reason="OpenSTA and qflow-tech-osu035 not installed",
)


@needs_sta
def test_opensta_keeps_each_nets_activity_and_stays_in_a_plausible_range(tmp_path: Path):
    """The cut netlist in OpenSTA 2.0.17: every net's activity is applied (count), one net's activity moves the
    result, and the power is what the cells' tables give, not the W..MW of the propagated mean activity that the
    earlier flow reported (with no clock, every pin took the default activity)."""
    net = _osu_netlist(tmp_path)
    act = {"a[0]": (0.5, 0.5), "n1[0]": (0.5, 0.5), "n2[0]": (0.25, 0.75)}

    def total(a: dict, tag: str) -> tuple[dict, int]:
        cut = asic_sta.cut_every_net(net, a, tmp_path / f"{tag}.v")
        return asic_sta.run_sta_nets(tmp_path / f"{tag}.v", cut, tmp_path, 5.0, tag)

    base, annotated = total(act, "base")
    assert annotated == 3
    busier, _ = total(act | {"n2[0]": (1.0, 0.75)}, "busier")  # only the flip-flop's D net changes
    assert busier["total"]["total"] > base["total"]["total"]
    assert busier["combinational"]["total"] == pytest.approx(base["combinational"]["total"])
    quiet, _ = total({k: (0.0, d) for k, (_, d) in act.items()}, "quiet")
    assert quiet["combinational"]["internal"] == 0 and quiet["combinational"]["switching"] == 0
    # 3 cells at 200 MHz, at most one transition per cycle per net: tens of microwatts, not watts
    assert 1e-7 < base["combinational"]["total"] < 3 * 200e-6
    assert 1e-7 < base["sequential"]["total"] < 500e-6


@pytest.mark.slow
@needs_icarus
@needs_sta
def test_asic_power_of_a_small_core_from_its_simulated_nets(tmp_path: Path):
    """HAD core, L = 8, E = 4: the OSU035 netlist reproduces the golden rows; nearly every net is annotated with
    its simulated activity; the power is in a plausible range for 0.35 um cells (not the kW of the old flow)."""
    if not _tools():
        pytest.skip("needs Yosys")
    from had_hls.rtl.generate import design_for

    spec = make_spec("had", 8, 4, 1, 3)
    design = design_for(spec, 2)
    trace = golden.attention_trace(spec, np.random.default_rng(3).normal(0, 1, (1, 8, 4))[0])
    r = asic.asic_power(design, trace, None, tmp_path, 200.0, 48)
    assert r.ctx_mismatches == 0 and r.cycles == 48
    assert r.nets_annotated >= 0.9 * r.nets and r.cells > 1000
    assert 0 < r.combinational_mw < r.cells * 0.1 and 0 < r.sequential_mw < r.cells * 0.5
    assert r.mw == pytest.approx(sum(r.groups_mw[g]["total"] for g in ("sequential", "combinational")), rel=1e-3)
