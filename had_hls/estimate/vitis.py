"""Vitis/Vivado HLS results a user produced under <out>/hls/{had,fp,model}, read for the report beside the Yosys
figures (hls4ml.report.parse_vivado_report), and their table in report.md."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

VITIS_KINDS = ("had", "fp", "model")  # hls/had, hls/fp: the attention layers (csim); hls/model: the whole model


def _float(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


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


def vitis_markdown(report: dict[str, Any]) -> list[str]:
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
