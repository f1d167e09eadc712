"""What a sweep hands back: the sweep.json dict, the files under ``<out>`` (sweep.json, the plots, the logs of
failed points) and the terminal table."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from had_hls.estimate.sweep.grid import SweepOptions
from had_hls.io import staged_output, write_json

POWER_METHOD = ("rtl_activity: per resource, count after synthesis x the co-simulation's mean toggle rate over the "
                "steady-state window x energy per toggle (had_hls.estimate.power.power_mw); not the report's "
                "gate-level model")


def sweep_summary(ordered: list[dict[str, Any]], opts: SweepOptions, executor: str, seconds: float) -> dict[str, Any]:
    """The sweep.json dict of the points' results (in grid order; each cached, computed or failed)."""
    return {
        "points": ordered,
        "options": asdict(opts),
        "computed": sum(1 for r in ordered if r.get("cached") is False),
        "cached": sum(1 for r in ordered if r.get("cached") is True),
        "failed": sum(1 for r in ordered if "error" in r),
        "failed_points": [{"label": r["label"], "error": r["error"], **({"logs": r["logs"]} if "logs" in r else {})}
                          for r in ordered if "error" in r],
        "power_method": POWER_METHOD if opts.power else None,
        "executor": executor,
        "seconds": round(seconds, 1),
    }


def write_sweep(out: Path, sweep: dict[str, Any], work: Path, failed_work: list[str]) -> None:
    """``<out>/sweep.json`` with the names of the plots it adds to ``sweep["plots"]``, the plots, and the logs of
    the failed points (from their working folders under ``work``) under ``<out>/logs/<point>/``; staged, so a stop
    leaves the previous files."""
    from had_hls.estimate.plots import sweep_plots

    with staged_output(out) as stage:
        for label in failed_work:  # the logs of failed points, kept under <out>/logs/<point>/
            for log in (work / label).rglob("*.log"):
                dest = stage / "logs" / label / log.relative_to(work / label)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(log.read_bytes())
        sweep["plots"] = [p.name for p in sweep_plots(sweep["points"], stage)]
        write_json(stage / "sweep.json", sweep)


def format_sweep(sweep: dict[str, Any]) -> str:
    """A table for the terminal."""
    lines = [f"{'point':<22} {'HAD LUT-eq':>11} {'FP LUT-eq':>11} {'area -%':>8} {'HAD mW':>8} {'FP mW':>8} "
             f"{'cyc/q':>7} {'topN LUT':>9}"]
    for r in sweep["points"]:
        if "error" in r:
            lines.append(f"{r['label']:<22} FAILED: {r['error'][:80]}")
            continue
        h, f = r["had"], r["fp"]
        hp = "n/a" if h["power_mw"] is None else f"{h['power_mw']:.2f}"
        fp_ = "n/a" if f["power_mw"] is None else f"{f['power_mw']:.2f}"
        cyc = f"{h['cycles_per_query']:g}" if h.get("cycles_per_query") is not None else \
            f"{h['cycles_per_query_model']}*"
        lines.append(f"{r['label']:<22} {h['lut_equivalents']:>11,.0f} {f['lut_equivalents']:>11,.0f} "
                     f"{100 * r['area_reduction']:>7.1f}% {hp:>8} {fp_:>8} {cyc:>7} "
                     f"{h['topn_lut']:>9,}")
    if any("error" not in r and r["had"].get("cycles_per_query") is None for r in sweep["points"]):
        lines.append("*: cycles per query from the formula H ceil(L/P) (cycles_per_query_model): not co-simulated")
    lines.append(f"{len(sweep['points'])} points: {sweep['computed']} computed, {sweep['cached']} from the cache, "
                 f"{sweep['failed']} failed, {sweep['seconds']} s ({sweep['executor']})")
    return "\n".join(lines)
