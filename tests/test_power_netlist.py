"""Power from per-cell activity (estimate/netlist_power.py) and the ASIC cross-check's pieces (estimate/asic.py).

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
from had_hls.estimate import asic, netlist_power
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
    cycles, toggles, high = netlist_power.vcd_bit_toggles(path, "core", {"en"})
    assert cycles == 3  # rising edges at 5, 15, 25
    assert toggles[("n0", 0)] == 3
    assert (toggles[("n1", 0)], toggles[("n1", 1)]) == (1, 1)
    assert toggles[("en", 0)] == 1
    assert ("r", 0) not in toggles  # only the scope's own nets (a flat netlist's)
    assert high[("en", 0)] == 2  # high at the edges at 5 and 15, low at 25


def test_rtl_bit_activity_covers_sub_scopes_with_toggle_rate_and_time_high(tmp_path: Path):
    path = tmp_path / "a.vcd"
    path.write_text(VCD)
    cycles, act = asic.rtl_bit_activity(path, "core")
    assert cycles == 3
    assert act[("sub.r", 0)] == (1 / 3, pytest.approx(15 / 30))  # 1 from t = 15 to the end at 30
    assert act[("sub.r", 1)][0] == 0 and act[("sub.r", 2)][0] == pytest.approx(1 / 3)
    assert act[("n0", 0)] == (1.0, pytest.approx((10 + 5) / 30))  # high [5, 15) and [25, 30)


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
    act = netlist_power.cell_activities(_netlist(tmp_path), 10, toggles, {("en", 0): 3})
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


CUT = """module synth_top(clk, a, y, \\core.r.q , \\core.r.d , \\core.r.c );
  input clk;
  wire clk;
  input [1:0] a;
  wire [1:0] a;
  output y;
  wire y;
  input [1:0] \\core.r.q ;
  wire [1:0] \\core.r.q ;
  output [1:0] \\core.r.d ;
  wire [1:0] \\core.r.d ;
  output \\core.r.c ;
  wire \\core.r.c ;
  NAND2X1 g (.A(a[0]), .B(\\core.r.q [1]), .Y(y));
  INVX1 h (.A(a[1]), .Y(\\core.r.d [0]));
  INVX1 i (.A(a[0]), .Y(\\core.r.d [1]));
  assign \\core.r.c  = clk;
endmodule
"""


def test_cut_flip_flops_are_joined_again_and_names_made_simple(tmp_path: Path):
    cut, full = tmp_path / "cut.v", tmp_path / "full.v"
    cut.write_text(CUT)
    n, names = asic.reinsert_flops(cut, full)
    assert n == 2
    text = full.read_text()
    inputs = asic.netlist_inputs(full)
    assert [p for p, _, _ in inputs] == ["clk", "a"]  # the register's q/d/c ports are internal again
    q = next(k for k, v in names.items() if v == "core.r.q")
    d = next(k for k, v in names.items() if v == "core.r.d")
    assert f"DFFPOSX1 ff0 (.CLK(clk), .D({d}[0]), .Q({q}[0]));" in text
    assert "\\" not in text  # no escaped identifiers left for OpenSTA's port patterns
    cut_inputs = asic.netlist_inputs(cut)
    assert (q, 2, 0) in cut_inputs and asic.rtl_name(names[q]) == "r"


def test_annotation_maps_register_and_port_bits_to_the_rtl_names():
    ports = [("clk", 1, 0), ("a", 2, 0), ("x0", 2, 0)]
    names = {"x0": "core.sub.r.q"}
    act = {("a", 0): (0.5, 0.5), ("a", 1): (0.25, 0.2), ("sub.r", 1): (0.1, 0.9)}
    lines, matched, total = asic.annotate(ports, names, act, 2.0)
    assert (matched, total) == (3, 4)
    assert "sta::set_power_input_port_activity [get_ports {x0[1]}] 0.2 0.9000" in lines
    mean, m2, t2 = asic.mean_annotation(ports, names, act, 1.0)
    assert (m2, t2) == (3, 4)
    assert mean == [f"set_power_activity -input -activity {np.mean([0.5, 0.25, 0.1]):.6g} -duty 0.5333"]


# ------------------------------------------------------------------------------------------------ real tools
def _tools() -> bool:
    from had_hls.estimate.synth import yosys_backend

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
    from had_hls.estimate.synth import NETLIST_JSON, synth_xilinx
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


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("sta") is None or not asic.OSU035_LIB.is_file(), reason="OpenSTA and qflow-tech-osu035 not installed"
)
def test_opensta_power_scales_with_the_input_activity(tmp_path: Path):
    """The probe the cross-check relies on: the mean input activity moves OpenSTA's power, per-port activity is
    detected (True or False) rather than assumed."""
    works = asic.per_port_activity_works(tmp_path / "probe")
    assert isinstance(works, bool)
    (tmp_path / "probe.v").write_text(asic._PROBE)
    low = asic.run_sta(
        tmp_path / "probe.v", ["set_power_activity -input -activity 1e6 -duty 0.5"], tmp_path, None, "low", 0.05,
        top="probe",
    )
    high = asic.run_sta(
        tmp_path / "probe.v", ["set_power_activity -input -activity 4e7 -duty 0.5"], tmp_path, None, "high", 0.05,
        top="probe",
    )
    assert high["combinational"]["switching"] > 10 * low["combinational"]["switching"] > 0
