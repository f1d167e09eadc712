"""``had-hls report``: what the HAD attention core costs and saves against the FP attention core.

For the project's layer (its HAD spec and the FP-baseline spec, same weights and precision, ``rtl.lanes`` = P):
  resources  Yosys ``synth_xilinx -family xcup`` of each RTL core (had_hls.estimate.synth), cached
  Fmax       nextpnr-ecp5 out of context (had_hls.estimate.timing), a proxy, cached
  cycles     ``cycles_per_query`` measured in co-simulation (cosim.json; the co-simulation runs when missing)
  power      toggle rates from the co-simulation VCD on the project's vectors x published energy coefficients
             (had_hls.estimate.power), at the project's clock (hls.clock_period)
  area       one figure: LUT-equivalents on the project's part (had_hls.estimate.area)
  Vitis      csynth / cosim reports found under <out>/hls/{had,fp} (hls4ml.report.parse_vivado_report)
Equal throughput: both cores take P keys per cycle and H * ceil(L / P) cycles per query row (measured, not
assumed: the report checks the two cosim figures are equal), so at one clock they deliver the same queries per
second; power is compared at that common clock.
Writes <out>/report.json, <out>/report.md and <out>/report_*.png; the synthesis cache under <out>/estimate/cache/.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from had_hls.config import Project
from had_hls.errors import UserError
from had_hls.estimate import area as area_mod
from had_hls.estimate.point import FMAX_MAX_SEQ_LEN, fmax_point, synth_point
from had_hls.estimate.power import (
    COEFFICIENTS,
    FPGA_ASIC_GAP,
    HORO,
    KUON,
    coefficient_table,
    power_mw,
    vcd_activity,
)
from had_hls.estimate.power_flow import asic_crosscheck, gate_level_power
from had_hls.estimate.synth import yosys_version
from had_hls.io import scratch_dir, staged_output, write_json

PAPER_AREA_REDUCTION = 0.79
PAPER_POWER_REDUCTION = 0.87
KINDS = ("had", "fp")


def _cosim_inputs(project: Project, out: Path, lanes: int, vectors: int | None, quiet: bool,
                  csim: bool = True) -> dict[str, Any]:
    """cosim.json of the project (run the co-simulation when it, or its VCDs, is missing or at other lanes)."""
    from had_hls.verify.cosim import run_cosim

    path = out / "cosim.json"
    ok = False
    if path.is_file():
        cj = json.loads(path.read_text())
        ok = cj.get("lanes") == lanes and all((out / "rtl" / k / "activity.vcd").is_file() for k in KINDS)
    if not ok:
        if not quiet:
            print(f"report: no co-simulation activity at P={lanes} in {out}: running the co-simulation", flush=True)
        run_cosim(project, out, vectors=vectors, lanes=lanes, csim=csim, quiet=quiet)
        cj = json.loads(path.read_text())
    if not cj.get("pass", False):
        raise UserError(f"{path}: the co-simulation did not pass: a report on a failing design would mislead")
    return cj


VITIS_KINDS = ("had", "fp", "model")  # hls/had, hls/fp: the attention layers (csim); hls/model: the whole model


def _float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def memory_bits(memories: list[dict[str, Any]], name: str) -> int | None:
    """Bits of the memory ``name`` in the synthesis inventory (``synth.parse_memories`` already merges a memory's
    lane banks into one entry; entries of the same name with other widths add up); None if absent."""
    banks = [m["bits"] for m in memories if m["name"] == name]
    return sum(banks) if banks else None


def vitis_summary(rep: dict[str, Any]) -> dict[str, Any]:
    """The figures of one parsed Vitis/Vivado HLS project (hls4ml.report.parse_vivado_report) that sit beside
    ours: C-synthesis estimates (LUT, FF, DSP, BRAM_18K, URAM, latency, interval, estimated clock), Vivado
    synthesis (when vivado_synth.rpt exists) and the RTL co-simulation status and latency."""
    out: dict[str, Any] = {}
    cs = rep.get("CSynthesisReport") or {}
    if cs:
        out["csynth"] = {
            "lut": _float(cs.get("LUT")), "ff": _float(cs.get("FF")), "dsp": _float(cs.get("DSP")),
            "bram_18k": _float(cs.get("BRAM_18K")), "uram": _float(cs.get("URAM")),
            "latency_best": _float(cs.get("BestLatency")), "latency_worst": _float(cs.get("WorstLatency")),
            "interval_min": _float(cs.get("IntervalMin")), "interval_max": _float(cs.get("IntervalMax")),
            "target_clock_ns": _float(cs.get("TargetClockPeriod")),
            "estimated_clock_ns": _float(cs.get("EstimatedClockPeriod")),
        }
    vs = rep.get("VivadoSynthReport") or {}
    if vs:
        out["vivado_synth"] = {"lut": _float(vs.get("LUT")), "ff": _float(vs.get("FF")),
                               "dsp": _float(vs.get("DSP48E")), "bram_18k": _float(vs.get("BRAM_18K")),
                               "uram": _float(vs.get("URAM"))}
    co = rep.get("CosimReport") or {}
    if co:
        out["cosim"] = {"status": co.get("Status"), "latency_min": _float(co.get("LatencyMin")),
                        "latency_max": _float(co.get("LatencyMax")), "interval_min": _float(co.get("IntervalMin")),
                        "interval_max": _float(co.get("IntervalMax"))}
    return out


def vitis_reports(out: Path) -> dict[str, Any]:
    """Vitis/Vivado HLS results a user produced under <out>/hls/{had,fp,model} (hls4ml.report.parse_vivado_report,
    which reads <project>_prj/<solution>/syn/report/*_csynth.xml, vivado_synth.rpt and the cosim report),
    summarised by :func:`vitis_summary`. Projects without results are left out."""
    found: dict[str, Any] = {}
    for kind in VITIS_KINDS:
        d = out / "hls" / kind
        if not (d / "project.tcl").is_file():
            continue
        try:
            import hls4ml.report as hr

            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rep = hr.parse_vivado_report(str(d))
        except Exception as err:  # noqa: BLE001 - a foreign report must not stop ours
            found[kind] = {"error": f"{type(err).__name__}: {err}"}
            continue
        summary = vitis_summary(rep or {})
        if summary:
            found[kind] = summary
    return found


def run_report(project: Project, out_dir: str | Path | None = None, *, lanes: int | None = None,
               vectors: int | None = None, fmax: bool | None = None, fmax_timeout: float | None = None,
               jobs: int = 2, csim: bool = True, quiet: bool = False) -> dict[str, Any]:
    """The whole report; returns the report.json dict (also written to ``<out>/report.json``).

    ``fmax`` / ``fmax_timeout`` (seconds per core and tool step, 0 = none): the ECP5 Fmax proxy; None takes
    ``rtl.fmax`` / ``rtl.fmax_timeout_s`` of the project.

    ``csim=False``: when the co-simulation must run and no C-sim vectors exist, it uses the project's seeded
    vectors without running the C-simulation first (as ``had-hls cosim --no-csim``).
    """
    from had_hls.verify.cosim import checked_designs, rtl_section
    from had_hls.verify.csim import build_specs

    t_start = time.perf_counter()
    out = project.output_dir(out_dir)
    cfg = rtl_section(project)
    lanes = lanes or cfg.lanes
    fmax = cfg.fmax if fmax is None else fmax
    fmax_timeout = cfg.fmax_timeout_s if fmax_timeout is None else fmax_timeout
    specs = dict(zip(KINDS, build_specs(project), strict=True))
    designs = checked_designs(specs, lanes)
    cj = _cosim_inputs(project, out, lanes, vectors, quiet, csim)
    cyc = {"had": cj["had"]["cycles_per_query"], "fp": cj["fp_baseline"]["cycles_per_query"]}
    f_mhz = 1000.0 / project.hls.clock_period
    cache = out / "estimate" / "cache"  # finished results, one atomic file each (kept: a rerun reuses them)
    if not quiet:
        print(f"report: Yosys synth_xilinx of the HAD and FP cores ({yosys_version()}) ...", flush=True)
    # work files in a temporary folder beside <out> (removed at the end, or on a stop with the tools still in it)
    part = project.hls.part
    aw = area_mod.weights(part)
    report: dict[str, Any] = {"name": project.name}
    vcds = {k: out / "rtl" / k / "activity.vcd" for k in KINDS}
    with scratch_dir(out, "estimate") as work:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            syn_f = {k: pool.submit(synth_point, designs[k], work / k / "xcup", cache) for k in KINDS}
            fm_f = {k: pool.submit(fmax_point, designs[k], work / k / "ecp5", cache, f_mhz,
                                   timeout=fmax_timeout or None) for k in KINDS} if fmax else {}
            syn = {k: f.result() for k, f in syn_f.items()}
            fm = {k: f.result() for k, f in fm_f.items()}
        cells = {k: sum(n for c, n in syn[k].get("cells", {}).items() if not c.startswith("$")) for k in KINDS}
        too_big = {k: n for k, n in cells.items() if cfg.power_max_cells and n > cfg.power_max_cells}
        big = "; ".join(f"{k}: {n:,} cells > rtl.power_max_cells {cfg.power_max_cells:,}" for k, n in too_big.items())
        gate = _gate_level(project, out, designs, work, cache, f_mhz, cfg, jobs, quiet) if not too_big else \
            {"ok": False, "why": f"not run ({big})"}
        if too_big:
            report["power_crosscheck"] = {"error": f"not run ({big}); it runs on the default project's shape"}
        elif cfg.power_crosscheck:
            if not quiet:
                print("report: ASIC cross-check (Yosys -> OSU035, OpenSTA report_power) ...", flush=True)
            report["power_crosscheck"] = asic_crosscheck(project, out, designs, work, f_mhz, cfg.gate_level_window,
                                                          jobs, cache_dir=cache)
        else:
            report["power_crosscheck"] = {"error": "not run (rtl.power_crosscheck: false)"}
    acts = {}
    for k in KINDS:
        s = syn[k]
        acts[k] = vcd_activity(vcds[k])
        pw = power_mw(s, acts[k], f_mhz)
        pw_rtl = pw["power_mw"]
        if gate["ok"]:
            pw = gate[k]["power"] | {"power_mw_dsp_gap14": gate[k]["power"]["power_mw"]
                                      + gate[k]["power"]["by_resource_mw"]["dsp"] * (FPGA_ASIC_GAP - 1)}
        lut_eq = area_mod.lut_equivalents(s, part)
        report[k] = {
            "lut": s["lut"], "ff": s["ff"], "dsp": s["dsp"], "bram": s["bram"], "carry": s["carry"],
            "uram": s["uram"], "lut_as_memory": s["lut_ram"], "muxf": s["muxf"],
            "fmax_mhz": None if not fmax else fm[k]["fmax_mhz"],
            "logic_levels": s["timing"]["logic_levels"],
            "fmax_model_mhz": s["timing"]["fmax_model_mhz"],
            "clock": s["timing"],
            "power_mw": pw["power_mw"],
            "power_rtl_activity_mw": pw_rtl,
            "cycles_per_query": cyc[k],
            "lut_equivalents": lut_eq,
            "part_fraction": area_mod.part_fraction(s, part),
            "power": pw,
            "activity": acts[k].as_dict(),
            "gate_level": gate.get(k, {}).get("gate_level") or {"error": gate.get(k, {}).get("error")},
            "memories": s["memories"],
            "synth": {"tool": s["tool"], "seconds": s["seconds"], "cached": s["cached"]},
            "fmax": None if not fmax else fm[k],
        }
    had, fp = report["had"], report["fp"]
    shp = specs["had"]
    report["shape"] = {"seq_len": shp.seq_len, "embed_dim": shp.embed_dim, "num_heads": shp.num_heads,
                       "head_dim": shp.head_dim, "top_n": shp.top_n, "lanes": lanes,
                       "av_lanes_had": designs["had"].params.get("PA")}
    report["area_reduction"] = 1.0 - had["lut_equivalents"] / fp["lut_equivalents"]
    report["power_reduction"] = 1.0 - had["power_mw"] / fp["power_mw"]
    report["power_model"] = {
        "method": "gate_level_netlist" if gate["ok"] else "rtl_activity",
        "why": gate["why"],
        "power_reduction_rtl_activity": 1.0 - had["power_rtl_activity_mw"] / fp["power_rtl_activity_mw"],
    }
    report["power_reduction_dsp_gap14"] = 1.0 - had["power"]["power_mw_dsp_gap14"] / fp["power"]["power_mw_dsp_gap14"]
    report["reductions"] = area_mod.reductions(had, fp, part)  # per resource and the LUT-equivalent figure
    report["area_sensitivity"] = area_mod.sensitivity(had, fp, part)
    report["k_memory_bits"] = {"had": memory_bits(had["memories"], "kmem"),
                               "had_expected_L_times_E": shp.seq_len * shp.embed_dim,
                               "fp": memory_bits(fp["memories"], "kmem"),
                               "note": "summed over the P lane banks"}
    report["equal_throughput"] = {
        "had_cycles_per_query": cyc["had"], "fp_cycles_per_query": cyc["fp"], "equal": cyc["had"] == cyc["fp"],
        "clock_mhz": f_mhz,
        "how": "both cores take P keys per cycle: H*ceil(L/P) cycles per query row (measured in co-simulation); "
               "power is compared at the same clock (hls.clock_period), so at equal queries per second",
    }
    report["paper_targets"] = {
        "area_reduction": PAPER_AREA_REDUCTION, "power_reduction": PAPER_POWER_REDUCTION,
        "area_met": report["area_reduction"] >= PAPER_AREA_REDUCTION,
        "power_met": report["power_reduction"] >= PAPER_POWER_REDUCTION,
        "at_paper_shape": shp.seq_len == 512 and shp.head_dim == 64,
    }
    report["vitis"] = vitis_reports(out)
    report["cosim"] = {"vectors": cj["vectors"], "simulator": cj["simulator_version"], "pass": cj["pass"],
                       "vcd_vectors": cj["had"].get("vcd_vectors")}
    report["method"] = method(part, aw, fmax)
    report["seconds"] = round(time.perf_counter() - t_start, 1)
    with staged_output(out) as stage:
        write_json(stage / "report.json", report)
        from had_hls.estimate.plots import report_plots

        pngs = report_plots(report, stage)
        report["plots"] = [p.name for p in pngs]
        write_json(stage / "report.json", report)
        (stage / "report.md").write_text(format_markdown(report))
    return report


def _power_markdown(report: dict[str, Any]) -> list[str]:
    """The power section: the method used, per-cell activity, the RTL-activity figure, the ASIC cross-check."""
    had, fp, m = report["had"], report["fp"], report["method"]
    pm = report.get("power_model", {})
    lines = ["## Power model", ""]
    if pm.get("method") == "gate_level_netlist":
        lines += [
            "Dynamic power = f * sum over the cells of the synthesized netlist of sites * E_type * alpha / 0.5, with "
            "each cell's own toggle rate alpha from a gate-level simulation of that netlist on the co-simulation "
            "vectors (Yosys cells_sim.v + had-hls's DSP48E2/RAMB models; the netlist's context rows checked "
            "against golden). Mean alpha per resource (toggles per bit per cycle):", "",
            "| core | LUT (incl. LUTRAM) | FF | DSP operands | BRAM enabled | cycles simulated | rows checked |",
            "|---|---:|---:|---:|---:|---:|---:|"]
        for label, x in (("HAD", had), ("FP", fp)):
            c = x["power"].get("cells", {})
            g = x.get("gate_level", {})
            cell = [f"{c[r]['alpha_mean']:.3f}" if r in c else "-" for r in ("lut", "ff", "dsp", "bram")]
            rows = g.get("ctx_rows_checked", "-")
            lines.append(f"| {label} | {' | '.join(cell)} | {g.get('cycles', '-')} | {rows} |")
        lines += ["", f"The RTL-activity model of earlier reports (one mean RTL toggle rate times the cell counts) "
                  f"gives HAD {had['power_rtl_activity_mw']:.2f} mW, FP {fp['power_rtl_activity_mw']:.2f} mW, a "
                  f"{_pct(pm['power_reduction_rtl_activity'])} reduction, against "
                  f"{_pct(report['power_reduction'])} here.", ""]
    else:
        lines += [f"**RTL-activity model** (the gate-level one did not run: {pm.get('why', 'n/a')}): dynamic power "
                  "= f * sum(N_r * E_r * alpha_r / 0.5), alpha one mean toggle rate of the core's RTL signals "
                  f"(HAD {had['activity']['alpha_logic']:.3f}, FP {fp['activity']['alpha_logic']:.3f}).", ""]
    lines += ["Coefficients (pJ per resource per cycle at alpha 0.5):", ""]
    lines += [f"- {r.upper()}: {c.pj:.4g} pJ = {c.derivation}" for r, c in COEFFICIENTS.items()]
    lines += ["", f"With the FPGA/ASIC gap (14x) applied to the DSPs too, the power reduction is "
              f"{_pct(report['power_reduction_dsp_gap14'])}. Static power is the device's and is left out.", "",
              "Sources: " + "; ".join(m["power"]["sources"]) + ".", ""]
    x = report.get("power_crosscheck") or {}
    lines += ["## Power cross-check (ASIC, OpenSTA)", ""]
    if "error" in x:
        lines += [f"Not available: {x['error']}.", ""]
    else:
        lines += [
            f"{x['tool']}, `report_power` on the cores mapped by Yosys to the {x['library']} at {x['f_mhz']:g} MHz: "
            f"HAD {x['had_mw']:.1f} mW, FP {x['fp_mw']:.1f} mW, **{_pct(x['power_reduction'])} less** (FPGA model "
            f"above: {_pct(report['power_reduction'])}). Scope: {x['scope']}. Activity: {x['activity']}. Read the "
            "ratio, not the milliwatts: 0.35 um cells at 3.3 V set the scale, and the zero-delay simulation counts "
            "no glitches (docs/report.md).", ""]
    return lines


def _gate_level(project: Project, out: Path, designs: dict, work: Path, cache: Path, f_mhz: float, cfg: Any,
                jobs: int, quiet: bool) -> dict[str, Any]:
    """The FPGA power of both cores from their synthesized netlists' per-cell activity, or why not (``ok`` False:
    the report then uses the RTL-activity model and says so)."""
    if not cfg.gate_level_power:
        return {"ok": False, "why": "rtl.gate_level_power: false"}
    if not quiet:
        print(f"report: gate-level simulation of both synthesized netlists ({cfg.gate_level_window} cycles) ...",
              flush=True)
    res = gate_level_power(project, out, designs, {k: work / k / "xcup" for k in KINDS}, f_mhz,
                           cfg.gate_level_window, jobs, cache)
    errors = {k: r["error"] for k, r in res.items() if "error" in r}
    why = "; ".join(f"{k}: {e}" for k, e in errors.items()) if errors else \
        "per-cell toggle rates of the synthesized netlists, simulated on the co-simulation vectors"
    return {**res, "ok": not errors, "why": why}


def _vitis_markdown(report: dict[str, Any]) -> list[str]:
    """Vitis HLS figures (a user ran the projects under hls/) beside the Yosys figures of the same layer."""
    lines = ["## Vitis HLS reports (found under hls/)", "",
             "| project | source | LUT | FF | DSP | BRAM_18K | latency (cycles) | interval | clock (ns) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]

    def cell(v: Any) -> str:
        return "-" if v is None else f"{v:,.0f}" if isinstance(v, float) and v == int(v) else f"{v}"

    for k, rep in report["vitis"].items():
        if "error" in rep:
            lines.append(f"| {k} | could not be parsed: {rep['error']} | | | | | | | |")
            continue
        cs = rep.get("csynth")
        if cs:
            lat = cell(cs["latency_worst"]) if cs["latency_best"] == cs["latency_worst"] else \
                f"{cell(cs['latency_best'])}-{cell(cs['latency_worst'])}"
            lines.append(f"| {k} | Vitis csynth estimate | {cell(cs['lut'])} | {cell(cs['ff'])} | {cell(cs['dsp'])} "
                         f"| {cell(cs['bram_18k'])} | {lat} | {cell(cs['interval_max'])} "
                         f"| {cell(cs['estimated_clock_ns'])} (target {cell(cs['target_clock_ns'])}) |")
        vs = rep.get("vivado_synth")
        if vs:
            lines.append(f"| {k} | Vivado synthesis | {cell(vs['lut'])} | {cell(vs['ff'])} | {cell(vs['dsp'])} "
                         f"| {cell(vs['bram_18k'])} | | | |")
        co = rep.get("cosim")
        if co:
            lines.append(f"| {k} | Vitis RTL co-simulation: {co['status']} | | | | | {cell(co['latency_max'])} "
                         f"| {cell(co['interval_max'])} | |")
        if k in ("had", "fp"):
            y = report[k]
            lines.append(f"| {k} | had-hls RTL core, Yosys (this report) | {y['lut']:,} | {y['ff']:,} | {y['dsp']:,} "
                         f"| {2 * y['bram']:g} | | | |")
    lines += ["", "The Vitis rows are the whole hls4ml layer (projections included); the Yosys rows are the "
              "attention core from the projections on (docs/rtl.md): compare like with like.", ""]
    return lines


def method(part: str, aw: dict[str, Any], fmax: bool) -> dict[str, Any]:
    """The 'method' section: tools, versions, coefficients, area normalisation."""
    from had_hls.rtl.sim import simulator_version  # noqa: F401  (versions of the simulator are in cosim)

    tools: dict[str, Any] = {"yosys": yosys_version(), "synthesis": "synth_xilinx -family xcup -flatten -noiopad"}
    if fmax:
        from had_hls.estimate.timing import ECP5_DEVICE, nextpnr_version

        tools["nextpnr"] = nextpnr_version()
        tools["fmax_proxy"] = (f"synth_ecp5 + nextpnr-ecp5 {ECP5_DEVICE} --out-of-context at "
                               f"min(L, {FMAX_MAX_SEQ_LEN}) keys; Lattice ECP5, not UltraScale+")
    w = aw["weights"]
    return {
        "tools": tools,
        "area": {
            "figure": "lut_equivalents",
            "definition": "LUT + FF*w_ff + DSP*w_dsp + BRAM36*w_bram + URAM*w_uram, w_r = LUTs of the part / "
                          "r of the part (CARRY8 not counted: inside the CLBs of its LUTs)",
            "why": "equal shares of the target part count equally, so DSP-heavy (FP) and LUT-heavy (HAD) cores "
                   "compare on one number on the part the project targets",
            "part": aw["part"], "part_known": aw["part_known"], "weights": w, "part_totals": aw["part_totals"],
            "source": "AMD/Xilinx DS890 / DS891 (UltraScale+ product tables)",
        },
        "power": {
            "model": "P_dyn = f_clk * sum_cells sites_c * E_type(c) * alpha_c / 0.5; alpha_c per cell of the "
                     "synthesized netlist from its gate-level simulation on the co-simulation vectors (LUT, FF, "
                     "LUTRAM: output bits; DSP: A/B operand bits; BRAM: enabled fraction of cycles; "
                     "had_hls.estimate.netlist_power); where that cannot run, the RTL-activity model "
                     "(one mean RTL toggle rate x cell counts, power_rtl_activity_mw); static power left out "
                     "(device property, equal for both)",
            "coefficients": coefficient_table(),
            "sources": [HORO, KUON],
        },
        "caveats": [
            "Yosys counts are not Vivado counts: read the HAD/FP ratios, not the absolute numbers",
            "the clock model counts logic levels after synthesis with 7-series delays; the Fmax proxy places and "
            "routes on a Lattice ECP5: neither is an UltraScale+ timing sign-off",
            "power is an activity-based estimate with published per-operation energies, not a measured figure",
        ],
    }


# ------------------------------------------------------------------------------------------------ text
def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _num(x: Any, nd: int = 0) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and nd:
        return f"{x:,.{nd}f}"
    return f"{x:,.0f}" if isinstance(x, float) else f"{x:,}"


def format_summary(report: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    s = report["shape"]
    had, fp = report["had"], report["fp"]
    lines = [
        f"report {report['name']}: L={s['seq_len']} E={s['embed_dim']} H={s['num_heads']} d={s['head_dim']} "
        f"N={s['top_n']} P={s['lanes']} | part {report['method']['area']['part']}",
        f"{'core':<4} {'LUT':>8} {'FF':>8} {'DSP':>6} {'BRAM':>6} {'CARRY':>6} {'LUT-eq':>9} {'Fmax MHz':>9} "
        f"{'mW':>8} {'cyc/query':>9}",
    ]
    for label, x in (("HAD", had), ("FP", fp)):
        fm = "n/a" if x["fmax_mhz"] is None else f"{x['fmax_mhz']:.1f}"
        lines.append(
            f"{label:<4} {x['lut']:>8,} {x['ff']:>8,} {x['dsp']:>6,} {x['bram']:>6g} {x['carry']:>6,} "
            f"{x['lut_equivalents']:>9,.0f} {fm:>9} {x['power_mw']:>8.2f} {x['cycles_per_query']:>9.1f}"
        )
    pt = report["paper_targets"]
    lines.append(
        f"area reduction {_pct(report['area_reduction'])} in LUT-equivalents, {_pct(report['reductions']['lut'])} "
        f"in LUTs (paper 79%: {'met' if pt['area_met'] else 'NOT met'}), "
        f"power reduction {_pct(report['power_reduction'])} (paper 87%: {'met' if pt['power_met'] else 'NOT met'})"
        f"{'' if pt['at_paper_shape'] else ' -- not at the paper shape L=512, d=64'}"
    )
    return "\n".join(lines)


def _shortfall(report: dict[str, Any]) -> list[str]:
    """Why the numbers fall short of the paper (computed from the report, not written in advance)."""
    had, fp = report["had"], report["fp"]
    out = []
    w = report["method"]["area"]["weights"]
    parts = {"LUT": (had["lut"], fp["lut"], 1.0), "FF": (had["ff"], fp["ff"], w["ff"]),
             "DSP": (had["dsp"], fp["dsp"], w["dsp"]), "BRAM": (had["bram"], fp["bram"], w["bram"])}
    shares = {k: h * wt / had["lut_equivalents"] for k, (h, _, wt) in parts.items() if had["lut_equivalents"]}
    big = max(shares, key=shares.get) if shares else None
    if big:
        out.append(f"the largest share of the HAD core's LUT-equivalents is {big} ({_pct(shares[big])}).")
    if had["dsp"] and fp["dsp"]:
        shp = report["shape"]
        d, p, pa = shp["head_dim"], shp["lanes"], shp.get("av_lanes_had")
        av = f"its sparse AV multiplies {pa}*d = {pa * d} values per cycle (the kept keys only) against the FP " \
             f"core's dense {p}*d = {p * d}; " if pa else ""
        out.append(
            f"the HAD core keeps {had['dsp']} DSPs against the FP core's {fp['dsp']}: HAD removes the Q.K "
            f"multipliers, {av}the reciprocal normalisation, the V memory and the output path are the same in "
            "both cores, and at small L they are a large part of either core.")
    kb = report["k_memory_bits"]
    if kb["had"] and kb["fp"]:
        out.append(f"K memory: {kb['had']:,} bits (HAD, L*d) against {kb['fp']:,} bits (FP): "
                   f"{kb['fp'] / kb['had']:.0f}x less, but V (16-bit) and the score buffers stay.")
    out.append("the paper's figures come from an analog CAM design (custom hardware simulation), not from an FPGA: "
               "an FPGA pays for LUT logic and routing that a CAM array does not have.")
    return out


def _area_markdown(report: dict[str, Any]) -> list[str]:
    """Per-resource reductions and the area reduction under other weightings (all from the measured counts)."""
    red = report["reductions"]
    w = report["method"]["area"]["weights"]
    lines = ["**Reduction per resource** (1 - HAD / FP): " + ", ".join(
        f"{label} {_pct(red[key])}" for label, key in (("LUT", "lut"), ("FF", "ff"), ("DSP", "dsp"),
                                                        ("BRAM36", "bram"), ("LUT-equivalents", "lut_equivalents"))
    ) + ".", "", "| area figure | weights (FF, DSP, BRAM36 per LUT) | HAD | FP | reduction |",
        "|---|---|---:|---:|---:|"]
    for row in report.get("area_sensitivity", []):
        rw = row["weights"]
        lines.append(f"| {row['figure']} | {rw['ff']:.2f}, {rw['dsp']:.1f}, {rw['bram']:.1f} | {_num(row['had'])} "
                     f"| {_num(row['fp'])} | {_pct(row['reduction'])} |")
    dsp_share = report["fp"]["dsp"] * w["dsp"] / report["fp"]["lut_equivalents"] if report["fp"]["lut_equivalents"] \
        else None
    lines += ["", f"The headline area figure is the LUT-equivalent one; DSPs are {_pct(dsp_share)} of the FP core's "
              "LUT-equivalents, so the DSP weight moves it most: the rows above recompute the reduction from the same "
              "counts with other weights.", ""]
    return lines


def _clock_note(report: dict[str, Any]) -> str:
    """How the clock figure was obtained, with the worst path of each core."""
    parts = []
    for k in KINDS:
        c = report[k]["clock"]
        path = " -> ".join(c["path_cells"]) if c["path_cells"] else "none"
        parts.append(f"{k.upper()} {c['logic_levels']} levels ({path})")
    return ("**Clock**: logic levels of the worst register-to-register path after `synth_xilinx` (counted as "
            "Vivado's LOGIC_LEVELS: every LUT, MUXF, CARRY, combinational DSP and distributed-RAM read); the clock "
            f"model sums {report['had']['clock']['model']}. " + "; ".join(parts) + ". A model for comparing the "
            "two cores, not an UltraScale+ timing sign-off (docs/report.md).")


def _fmax_note(report: dict[str, Any]) -> str:
    fm = {k: report[k].get("fmax") for k in KINDS}
    if not any(fm.values()):
        return "**Fmax**: not run (rtl.fmax: false or --no-fmax)."
    parts = []
    for k in KINDS:
        f = fm[k] or {}
        if f.get("fmax_mhz") is None:
            parts.append(f"{k.upper()}: none ({f.get('error', 'not run')})")
        else:
            parts.append(f"{k.upper()} {f['fmax_mhz']:.1f} MHz" + (f" (placed at L = {f['seq_len']})"
                                                                   if f.get("reduced_seq_len") else ""))
    return ("**Fmax proxy** (Lattice ECP5-85, nextpnr out of context; an UltraScale+ -2 part is faster): "
            + "; ".join(parts) + ".")


def format_markdown(report: dict[str, Any]) -> str:
    """report.md: one page, readable in a minute."""
    s = report["shape"]
    had, fp = report["had"], report["fp"]
    pt = report["paper_targets"]
    m = report["method"]
    rows = [("LUT", "lut"), ("FF", "ff"), ("DSP", "dsp"), ("BRAM36", "bram"), ("CARRY8", "carry"),
            ("LUT-equivalents", "lut_equivalents"), ("logic levels (worst reg-to-reg path)", "logic_levels"),
            ("clock model (MHz)", "fmax_model_mhz"), ("Fmax proxy, ECP5 place and route (MHz)", "fmax_mhz"),
            ("dynamic power (mW)", "power_mw"), ("cycles per query", "cycles_per_query")]
    lines = [
        f"# had-hls report: {report['name']}",
        "",
        f"One attention layer, L = {s['seq_len']}, E = {s['embed_dim']}, H = {s['num_heads']} (d = {s['head_dim']}), "
        f"N = {s['top_n']}, P = {s['lanes']} keys per cycle. HAD core (binary Q/K, Hamming, counting top-N) against "
        "the FP core (fixed-point Q.K^T, softmax over all L) from the same spec, both verified bit for bit in "
        f"co-simulation ({report['cosim']['vectors']} vectors, {report['cosim']['simulator']}).",
        "",
        f"**Area reduction {_pct(report['area_reduction'])} in LUT-equivalents ({_pct(report['reductions']['lut'])} "
        f"in LUTs alone), power reduction {_pct(report['power_reduction'])}** "
        f"(paper: 79% / 87%; area {'met' if pt['area_met'] else '**not met**'}, power "
        f"{'met' if pt['power_met'] else '**not met**'}"
        f"{'' if pt['at_paper_shape'] else '; this project is not at the paper shape L = 512, d = 64'}).",
        "",
        "| | HAD | FP | HAD / FP |",
        "|---|---:|---:|---:|",
    ]
    for label, key in rows:
        h, f = had.get(key), fp.get(key)
        nd = 2 if key in ("power_mw", "fmax_mhz", "cycles_per_query") else 1 if key in ("bram", "fmax_model_mhz") else 0
        ratio = f"{h / f:.2f}" if isinstance(h, int | float) and isinstance(f, int | float) and f else "n/a"
        lines.append(f"| {label} | {_num(h, nd)} | {_num(f, nd)} | {ratio} |")
    et = report["equal_throughput"]
    lines += [
        "",
        f"**Equal throughput**: {et['how']}. Measured: HAD {et['had_cycles_per_query']:g}, FP "
        f"{et['fp_cycles_per_query']:g} cycles per query at {et['clock_mhz']:g} MHz"
        f"{'' if et['equal'] else ' (NOT equal: compare per query, not per second)'}.",
        "",
        f"**Area figure**: LUT-equivalents on {m['area']['part']} = LUT + {m['area']['weights']['ff']:.2f} FF + "
        f"{m['area']['weights']['dsp']:.1f} DSP + {m['area']['weights']['bram']:.1f} BRAM36: each resource weighted "
        "by the LUTs the part ships per unit of it (DS890), so equal shares of the part count equally."
        f"{'' if m['area']['part_known'] else ' (part not in the table: xcvu13p figures used)'}",
        "",
        *_area_markdown(report),
        _clock_note(report),
        "",
        _fmax_note(report),
        "",
        f"**K memory**: HAD {_num(report['k_memory_bits']['had'])} bits (L*E = "
        f"{_num(report['k_memory_bits']['had_expected_L_times_E'])}), FP {_num(report['k_memory_bits']['fp'])} bits.",
        "",
    ]
    if not (pt["area_met"] and pt["power_met"]):
        lines += ["## Why short of the paper", ""] + [f"- {x}" for x in _shortfall(report)] + [""]
    lines += [
    ]
    lines += _power_markdown(report)
    if report["vitis"]:
        lines += _vitis_markdown(report)
    lines += [
        "## Method and caveats",
        "",
        f"- {m['tools']['yosys']}: `{m['tools']['synthesis']}`" + (f"; Fmax: {m['tools']['fmax_proxy']}, "
                                                                     f"{m['tools']['nextpnr']}" if "nextpnr" in m[
                                                                         "tools"] else ""),
    ] + [f"- {c}" for c in m["caveats"]]
    if report.get("plots"):
        lines += ["", *[f"![{p}]({p})" for p in report["plots"]]]
    return "\n".join(lines) + "\n"
