"""``had-hls report``: what the HAD attention core costs and saves against the FP attention core.

For the project's layer (its HAD spec and the FP-baseline spec, same weights and precision, ``rtl.lanes`` = P):
  resources  Yosys ``synth_xilinx -family xcup`` of each RTL core (had_hls.estimate.synth), cached
  Fmax       nextpnr-ecp5 out of context (had_hls.estimate.timing), a proxy, cached
  cycles     ``cycles_per_query`` measured in co-simulation (cosim.json of `had-hls cosim`, read, never run here)
  power      toggle rates from the co-simulation VCD on the project's vectors x published energy coefficients
             (had_hls.estimate.power), at the project's clock (hls.clock_period)
  area       one figure: LUT-equivalents on the project's part (had_hls.estimate.area)
  Vitis      csynth / cosim reports found under <out>/hls/{had,fp} (hls4ml.report.parse_vivado_report)
Equal throughput: both cores take P keys per cycle and H * ceil(L / P) cycles per query row (measured, not
assumed: the report checks the two cosim figures are equal), so at one clock they deliver the same queries per
second; power is compared at that common clock.
Writes <out>/report.json, <out>/report.md and <out>/report_*.png; the synthesis cache under <out>/estimate/cache/.
This module runs the measurements; had_hls.estimate.vitis reads Vitis's reports, had_hls.estimate.report_text
writes the method section, the summary and report.md.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from had_hls.config import Project
from had_hls.errors import UserError
from had_hls.estimate import area as area_mod
from had_hls.estimate.power import (
    FPGA_ASIC_GAP,
    power_mw,
    vcd_activity,
)
from had_hls.estimate.power_flow import asic_crosscheck, gate_level_power
from had_hls.estimate.report_text import KINDS, PAPER_AREA_REDUCTION, PAPER_POWER_REDUCTION, format_markdown, method
from had_hls.estimate.vitis import vitis_reports
from had_hls.estimate.yosys import yosys_version
from had_hls.io import scratch_dir, staged_output, write_json


def _cosim_inputs(project: Project, out: Path, lanes: int, lanes_flag: bool) -> dict[str, Any]:
    """cosim.json of the project at ``lanes`` with its activity files (had_hls.stages.require_cosim: a missing
    one is one line naming `had-hls cosim`); the report never runs the co-simulation itself."""
    from had_hls.stages import require_cosim

    path = out / "cosim.json"
    cj = require_cosim(out, project.path, lanes, lanes_flag)
    if not cj.get("pass", False):
        raise UserError(f"{path}: the co-simulation did not pass: a report on a failing design would mislead")
    return cj


def memory_bits(memories: list[dict[str, Any]], name: str) -> int | None:
    """Bits of the memory ``name`` in the synthesis inventory (``synth.parse_memories`` already merges a memory's
    lane banks into one entry; entries of the same name with other widths add up); None if absent."""
    banks = [m["bits"] for m in memories if m["name"] == name]
    return sum(banks) if banks else None


def run_report(project: Project, out_dir: str | Path | None = None, *, lanes: int | None = None,
               fmax: bool | None = None, fmax_timeout: float | None = None,
               jobs: int = 2, quiet: bool = False) -> dict[str, Any]:
    """The whole report; returns the report.json dict (also written to ``<out>/report.json``).

    ``fmax`` / ``fmax_timeout`` (seconds per core and tool step, 0 = none): the ECP5 Fmax proxy; None takes
    ``rtl.fmax`` / ``rtl.fmax_timeout_s`` of the project.

    Reads ``<out>/cosim.json`` and ``<out>/rtl/{had,fp}/activity.vcd`` of `had-hls cosim` at the same lanes; when
    they are missing it stops with one line naming the command to run first (had_hls.errors.MissingPrerequisite).
    """
    from had_hls.layer import build_specs
    from had_hls.ops import pair
    from had_hls.verify.cosim import rtl_section
    from had_hls.verify.rtlsim import checked_designs

    t_start = time.perf_counter()
    out = project.output_dir(out_dir)
    cfg = rtl_section(project)
    lanes_flag = lanes is not None and lanes != cfg.lanes
    lanes = lanes or cfg.lanes
    fmax = cfg.fmax if fmax is None else fmax
    fmax_timeout = cfg.fmax_timeout_s if fmax_timeout is None else fmax_timeout
    ops = pair()  # the HAD and FP ops (had_hls.ops): their synthesis and Fmax proxy
    specs = dict(zip(KINDS, build_specs(project), strict=True))
    designs = checked_designs(specs, lanes)
    cj = _cosim_inputs(project, out, lanes, lanes_flag)
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
            syn_f = {k: pool.submit(ops[k].synth, designs[k], work / k / "xcup", cache) for k in KINDS}
            fm_f = {k: pool.submit(ops[k].fmax, designs[k], work / k / "ecp5", cache, f_mhz,
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
