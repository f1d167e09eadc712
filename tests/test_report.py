"""had-hls report on a micro project with the real tools (Verilator/Icarus co-simulation, Yosys synth_xilinx).

The precision is shrunk (8-bit values, 10-bit tables) so both cores synthesise in about a minute each; the
checks are about the report's structure and the consistency of its numbers with the spec, not their size.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

from had_hls.project import load_project

MICRO_PRECISION = {
    "value": "ap_fixed<8,3,AP_RND,AP_SAT>", "qk": "ap_fixed<8,3,AP_RND,AP_SAT>",
    "context": "ap_fixed<8,3,AP_RND,AP_SAT>", "result": "ap_fixed<8,3,AP_RND,AP_SAT>",
    "exp_table": "ap_ufixed<10,1>", "recip_table": "ap_ufixed<10,1>", "recip_index_bits": 3,
    "fp_exp_table_size": 32, "fp_exp_step_bits": 3, "fp_inv_sqrt_frac": 8,
}
L, E, N, P = 8, 4, 2, 2

pytestmark = pytest.mark.slow


def _have_tools() -> bool:
    from had_hls.estimate.yosys import yosys_backend
    from had_hls.rtl.sim import available_simulators

    try:
        yosys_backend()
    except Exception:  # noqa: BLE001
        return False
    return bool(available_simulators())


@pytest.fixture(scope="module")
def micro(tmp_path_factory):
    if not _have_tools():
        pytest.skip("needs Yosys (pyosys or yosys) and Verilator or Icarus")
    from had_hls.estimate.report import run_report
    from had_hls.verify.cosim import run_cosim

    folder = tmp_path_factory.mktemp("report")
    path = folder / "micro.yaml"
    path.write_text(yaml.safe_dump({
        "name": "micro", "model": {"seq_len": L, "embed_dim": E, "num_heads": 1, "top_n": N, "seed": 0},
        "csim": {"vectors": 2}, "rtl": {"lanes": P, "vcd_vectors": 1}, "hls": {"precision": MICRO_PRECISION},
    }))
    project = load_project(path)
    out = folder / "out"
    run_cosim(project, out, csim=False, quiet=True)  # the report reads cosim.json and its activity files
    t0 = time.perf_counter()
    report = run_report(project, out, fmax=False, jobs=2, quiet=True)
    return project, out, report, time.perf_counter() - t0


def test_report_json_has_the_issue_fields(micro):
    _, out, report, _ = micro
    on_disk = json.loads((out / "report.json").read_text())
    for kind in ("had", "fp"):
        for key in ("lut", "ff", "dsp", "bram", "carry", "fmax_mhz", "power_mw", "cycles_per_query"):
            assert key in on_disk[kind], (kind, key)
        assert on_disk[kind]["lut"] > 0 and on_disk[kind]["ff"] > 0 and on_disk[kind]["power_mw"] > 0
    for key in ("area_reduction", "power_reduction"):
        assert on_disk[key] < 1.0
    m = on_disk["method"]
    assert "yosys" in m["tools"].get("yosys", "").lower()
    assert m["area"]["figure"] == "lut_equivalents" and m["area"]["weights"]["lut"] == 1.0
    assert set(m["power"]["coefficients"]) >= {"lut", "ff", "dsp", "bram"}
    assert on_disk == json.loads(json.dumps(report))  # what is returned is what is written


def test_area_reduction_is_the_lut_equivalent_ratio(micro):
    _, _, r, _ = micro
    w = r["method"]["area"]["weights"]
    for kind in ("had", "fp"):
        x = r[kind]
        expect = x["lut"] + w["ff"] * x["ff"] + w["dsp"] * x["dsp"] + w["bram"] * x["bram"] + w["uram"] * x["uram"]
        assert x["lut_equivalents"] == pytest.approx(expect)
    assert r["area_reduction"] == pytest.approx(1 - r["had"]["lut_equivalents"] / r["fp"]["lut_equivalents"])
    assert r["power_reduction"] == pytest.approx(1 - r["had"]["power_mw"] / r["fp"]["power_mw"])


def test_reductions_per_resource_and_the_weight_sensitivity(micro):
    """reductions: 1 - HAD/FP per resource; area_sensitivity recomputes the reduction from the same counts under
    other weights (LUT only, DSP weight halved, zero); report.md shows them and names the headline figure."""
    _, out, r, _ = micro
    red = r["reductions"]
    for res in ("lut", "ff", "dsp", "bram"):
        expect = 1 - r["had"][res] / r["fp"][res] if r["fp"][res] else None
        assert red[res] == (pytest.approx(expect) if expect is not None else None)
    assert red["lut_equivalents"] == pytest.approx(r["area_reduction"])
    rows = {x["figure"]: x for x in r["area_sensitivity"]}
    w = r["method"]["area"]["weights"]
    assert rows["LUT only"]["reduction"] == pytest.approx(red["lut"])
    for figure, dsp_w in (("DSP weight halved", w["dsp"] / 2), ("DSP weight zero", 0.0)):
        row = rows[figure]
        for kind in ("had", "fp"):
            x = r[kind]
            assert row[kind] == pytest.approx(x["lut_equivalents"] - x["dsp"] * (w["dsp"] - dsp_w))
        assert row["reduction"] == pytest.approx(1 - row["had"] / row["fp"])
    md = (out / "report.md").read_text()
    assert "in LUT-equivalents" in md and "in LUTs alone" in md and "| LUT only |" in md
    assert f"{w['dsp']:.1f} DSP" in md  # the weights are stated


def test_power_from_the_synthesized_netlists_and_the_opensta_crosscheck(micro):
    """Power from each cell's simulated activity on the netlist the counts come from (its context rows checked
    against golden); the RTL-activity figure beside it; the ASIC cross-check, or why it did not run."""
    _, out, r, _ = micro
    assert r["power_model"]["method"] == "gate_level_netlist", r["power_model"]
    for kind in ("had", "fp"):
        x = r[kind]
        assert x["gate_level"]["ctx_rows_checked"] > 0 and x["gate_level"]["ctx_mismatches"] == 0
        assert x["power_mw"] == pytest.approx(sum(x["power"]["by_resource_mw"].values()))
        assert x["power"]["cells"]["lut"]["cells"] > 0 and 0 < x["power"]["cells"]["ff"]["alpha_mean"] <= 1
        assert x["power_rtl_activity_mw"] > 0
    pm = r["power_model"]
    assert pm["power_reduction_rtl_activity"] == pytest.approx(
        1 - r["had"]["power_rtl_activity_mw"] / r["fp"]["power_rtl_activity_mw"])
    # the ASIC cross-check is off in this project (rtl.power_crosscheck: false): the report says so, in both files;
    # tests/test_power_netlist.py runs it on a small core, benchmarks/asic_crosscheck.py in a whole report
    assert r["power_crosscheck"] == {"error": "not run (rtl.power_crosscheck: false)"}
    md = (out / "report.md").read_text()
    assert "## Power cross-check (ASIC, OpenSTA)" in md and "rtl.power_crosscheck: false" in md


def test_fp_core_uses_dsps_for_qk(micro):
    _, _, r, _ = micro
    assert r["fp"]["dsp"] > r["had"]["dsp"], "the FP core's Q.K multipliers must show up as extra DSPs"


def test_had_k_memory_is_L_times_d_bits(micro):
    _, _, r, _ = micro
    qw = int(MICRO_PRECISION["qk"].split("<")[1].split(",")[0])
    assert r["k_memory_bits"]["had"] == L * E  # one bit per element: L x d per head, H heads
    assert r["k_memory_bits"]["had_expected_L_times_E"] == L * E
    assert r["k_memory_bits"]["fp"] == L * E * qw


def test_equal_throughput_measured(micro):
    _, _, r, _ = micro
    et = r["equal_throughput"]
    assert et["equal"] and et["had_cycles_per_query"] == et["fp_cycles_per_query"] == -(-L // P)


def test_markdown_and_plots(micro):
    _, out, r, _ = micro
    md = (out / "report.md").read_text()
    assert "Area reduction" in md and "Horowitz" in md and "Kuon" in md
    for png in r["plots"]:
        assert (out / png).stat().st_size > 1000


def test_rerun_reads_the_synthesis_cache(micro):
    from had_hls.estimate.report import run_report

    project, out, first, first_s = micro
    assert sorted(p.name for p in (out / "estimate").iterdir()) == ["cache"]  # work files: a temporary folder
    t0 = time.perf_counter()
    again = run_report(project, out, fmax=False, quiet=True)
    assert again["had"]["synth"]["cached"] and again["fp"]["synth"]["cached"]
    assert again["had"]["lut"] == first["had"]["lut"] and again["fp"]["dsp"] == first["fp"]["dsp"]
    assert time.perf_counter() - t0 < first_s / 2
    assert not Path(out / "estimate" / "had" / "xcup").exists()  # nothing was synthesised again


# A Vitis HLS 2023.2-style solution as `vitis_hls -f build_prj.tcl` leaves it (hls4ml's parser reads these files).
# The figures are test data: the check is that a user's Vitis results reach report.json/report.md unchanged.
VITIS_APP = ('<project xmlns="com.autoesl.autopilot.project" name="had_attention_prj" top="had_attention">'
             '<solutions><solution name="solution1" status="active"/></solutions></project>')
VITIS_CSYNTH = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <UserAssignments><unit>ns</unit><Part>xcvu13p-flga2577-2-e</Part><TopModelName>had_attention</TopModelName>
    <TargetClockPeriod>5.00</TargetClockPeriod><ClockUncertainty>1.35</ClockUncertainty></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>3.912</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency><unit>clock cycles</unit><Best-caseLatency>137</Best-caseLatency>
      <Average-caseLatency>137</Average-caseLatency><Worst-caseLatency>137</Worst-caseLatency>
      <Interval-min>64</Interval-min><Interval-max>64</Interval-max></SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>2</BRAM_18K><DSP>17</DSP><FF>4321</FF><LUT>9876</LUT><URAM>0</URAM></Resources>
    <AvailableResources><BRAM_18K>5376</BRAM_18K><DSP>12288</DSP><FF>3456000</FF><LUT>1728000</LUT>
      <URAM>1280</URAM></AvailableResources>
  </AreaEstimates>
</profile>
"""
VITIS_COSIM = """
+----------+----------+-----------------------------------------------+
|          |          |             Latency(Clock Cycles)             |
|   RTL    |  Status  +-----------------------------------------------+
|          |          |  min  |  avg  |  max  |  min  |  avg  |  max  |
+----------+----------+-------+-------+-------+-------+-------+-------+
|      VHDL|        NA|     NA|     NA|     NA|     NA|     NA|     NA|
|   Verilog|      Pass|    135|    136|    137|     64|     64|     64|
+----------+----------+-------+-------+-------+-------+-------+-------+
"""


def test_vitis_reports_are_shown_beside_ours(micro, tmp_path):
    """When a user ran Vitis in hls/had, its csynth and cosim figures appear in report.json and report.md."""
    from had_hls.estimate.report import run_report

    project, out, _, _ = micro
    mine = tmp_path / "out"
    shutil.copytree(out, mine)
    hls_dir = mine / "hls" / "had"
    hls_dir.mkdir(parents=True, exist_ok=True)
    (hls_dir / "project.tcl").write_text('set project_name "had_attention"\nset backend "vitis"\n')
    sol = hls_dir / "had_attention_prj" / "solution1"
    (sol / "syn" / "report").mkdir(parents=True)
    (sol / "sim" / "report").mkdir(parents=True)
    (hls_dir / "had_attention_prj" / "hls.app").write_text(VITIS_APP)
    (sol / "syn" / "report" / "had_attention_csynth.xml").write_text(VITIS_CSYNTH)
    (sol / "sim" / "report" / "had_attention_cosim.rpt").write_text(VITIS_COSIM)

    r = run_report(project, mine, fmax=False, quiet=True)
    assert set(r["vitis"]) == {"had"}
    cs, co = r["vitis"]["had"]["csynth"], r["vitis"]["had"]["cosim"]
    assert (cs["lut"], cs["ff"], cs["dsp"], cs["bram_18k"]) == (9876, 4321, 17, 2)
    assert (cs["latency_worst"], cs["interval_max"], cs["estimated_clock_ns"]) == (137, 64, 3.912)
    assert co["status"] == "Pass" and co["latency_max"] == 137
    md = (mine / "report.md").read_text()
    assert "Vitis csynth estimate | 9,876 | 4,321 | 17 | 2 | 137 | 64 | 3.912" in md
    assert "Vitis RTL co-simulation: Pass" in md
    assert f"Yosys (this report) | {r['had']['lut']:,}" in md


def _micro_design(project, kind: str):
    from had_hls.layer import build_specs
    from had_hls.rtl.generate import design_for

    specs = dict(zip(("had", "fp"), build_specs(project), strict=True))
    return design_for(specs[kind], P)


def test_fmax_proxy_places_and_routes_the_had_core(micro, tmp_path):
    """nextpnr-ecp5 (out of context) gives a clock for the micro HAD core: a positive, plausible frequency."""
    from had_hls.estimate.point import fmax_point

    project, _, _, _ = micro
    res = fmax_point(_micro_design(project, "had"), tmp_path / "ecp5", None, 200.0, timeout=900)
    assert res.get("error") is None, res
    assert 10.0 < res["fmax_mhz"] < 1000.0 and res["seq_len"] == L and not res["reduced_seq_len"]
    assert res["utilization"] and res["pnr_s"] > 0


def test_fmax_proxy_past_its_time_limit_is_a_gap_not_a_failure(micro, tmp_path):
    from had_hls.estimate.point import fmax_point

    project, _, _, _ = micro
    res = fmax_point(_micro_design(project, "fp"), tmp_path / "ecp5", tmp_path / "cache", 200.0, timeout=0.5)
    assert res["fmax_mhz"] is None and "timed out after 0.5 s" in res["error"]
    assert not list((tmp_path / "cache").glob("**/*.json"))  # a timeout is not cached


@pytest.mark.parametrize("param_type", ["parameter", "wire"])
def test_activity_counts_nets_not_memory_words_or_parameters(tmp_path, param_type):
    """alpha = toggles / (bits x cycles) over the core's nets: a memory word (`mem[0]`, as Verilator traces arrays)
    and a parameter (Icarus types it `parameter`; Verilator's trace leaves it out) neither add bits nor toggles."""
    from had_hls.estimate.power import vcd_activity

    header = ["$timescale 1ps $end", "$scope module tb $end", "$scope module core $end",
              "$var wire 1 ! clk $end", "$var wire 4 \" data [3:0] $end", "$var wire 8 # mem[0] [7:0] $end",
              "$upscope $end", "$upscope $end", "$enddefinitions $end"]
    if param_type == "parameter":
        header.insert(5, "$var parameter 32 $ SW [31:0] $end")
    body = ["#0", "0!", "b0000 \"", "b00000000 #"]
    data = ["0000", "1111", "1111", "0011", "0011", "0000", "0000", "0000"]  # 4 + 2 + 2 = 8 bit toggles
    for t, word in enumerate(data, start=1):
        body += [f"#{10 * t}", "1!" if t % 2 else "0!", f"b{word} \""]
        if t == 4:
            body.append("b11111111 #")  # a write into the memory word: not logic activity
    path = tmp_path / "a.vcd"
    path.write_text("\n".join(header + body) + "\n")
    act = vcd_activity(path)
    assert act.cycles == 4 and act.bits == 4  # clk is the clock, not counted; mem[0] and SW are left out
    assert act.toggles == 8 and act.alpha_logic == pytest.approx(8 / (4 * 4))
