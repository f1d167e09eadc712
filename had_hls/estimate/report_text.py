"""The words of ``had-hls report``: the method section of report.json, the terminal summary and report.md."""

from __future__ import annotations

from typing import Any

from had_hls.estimate.point import FMAX_MAX_SEQ_LEN
from had_hls.estimate.power import COEFFICIENTS, HORO, KUON, coefficient_table
from had_hls.estimate.vitis import vitis_markdown
from had_hls.estimate.yosys import yosys_version

PAPER_AREA_REDUCTION = 0.79
PAPER_POWER_REDUCTION = 0.87
KINDS = ("had", "fp")


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
        lines += vitis_markdown(report)
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
