"""One sweep point, measured (in a worker process): the attention kinds it compares (the ops), their RTL designs,
synthesis, the optional Fmax proxy, co-simulation cycles and power, and the HAD core's top-N unit alone.

Every face of a kind goes through its op (had_hls.ops): the kinds are chosen in :func:`point_ops` only."""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from had_hls.estimate.sweep.grid import SweepOptions, SweepPoint, point_project

if TYPE_CHECKING:
    from had_hls.ops import AttentionOp
    from had_hls.rtl.generate import RtlDesign


def point_ops(opts: SweepOptions) -> dict[str, AttentionOp]:
    """{kind: op} a point compares, in this order: HAD and FP (had_hls.ops.pair), and the strong FP baseline
    (``fp_strong``) with ``opts.strong_fp``. The keys are the point's result keys."""
    from had_hls.ops import op, pair

    ops = pair()
    if opts.strong_fp:
        ops["fp_strong"] = op("fp_strong")
    return ops


def point_designs(point: SweepPoint, opts: SweepOptions, folder: Path) -> dict[str, RtlDesign]:
    """{kind: RtlDesign} of one point (had, fp, and fp_strong with ``opts.strong_fp``), as run_point builds them:
    each op's spec of the point's layer at P = ``point.lanes``."""
    from had_hls.layer import build_layer

    project = point_project(point, opts, folder / "project.yaml")
    layer = build_layer(project)  # one layer (seeded weights, calibrated sigma) for every kind
    return {k: o.rtl_design(o.spec(project, layer), point.lanes) for k, o in point_ops(opts).items()}


def run_point(point: SweepPoint, opts: SweepOptions, work: str, cache: str) -> dict[str, Any]:
    """Everything of one point (runs in a worker process); returns its JSON-able result."""
    from had_hls.estimate import area
    from had_hls.estimate.report import memory_bits
    from had_hls.layer import make_vectors
    from had_hls.rtl.sim import default_simulator

    t0 = time.perf_counter()
    wdir = Path(work) / point.label
    cdir = Path(cache)
    project = point_project(point, opts, wdir / "project.yaml")
    ops = point_ops(opts)
    designs = point_designs(point, opts, wdir)
    res: dict[str, Any] = {**asdict(point), "label": point.label}
    sim_ok = opts.power and point.seq_len <= opts.power_max_seq_len
    x = mask = None
    if sim_ok:
        x, mask = make_vectors(project, 1)
        simulator = opts.simulator or default_simulator()
    for kind, design in designs.items():
        o, spec = ops[kind], design.spec
        syn = o.synth(design, wdir / kind / "xcup", cdir, hierarchical=opts.hierarchical)
        r: dict[str, Any] = {k: syn[k] for k in ("lut", "ff", "dsp", "bram", "carry", "uram")}
        r["lut_equivalents"] = area.lut_equivalents(syn, opts.part)
        r["k_memory_bits"] = memory_bits(syn["memories"], "kmem")
        r["fmax_mhz"] = o.fmax(design, wdir / kind / "ecp5", cdir, opts.clock_mhz)["fmax_mhz"] if opts.fmax else None
        r["cycles_per_query_model"] = spec.num_heads * design.groups  # the formula; the measurement below
        r["cycles_per_query"] = None  # measured only: null where the point is not co-simulated
        r["power_mw"] = None
        if sim_ok:
            r.update(_cosim_power(point, opts, o, design, syn, x, mask, simulator, wdir / kind / "sim"))
        r["logic_levels"] = syn["timing"]["logic_levels"]
        r["fmax_model_mhz"] = syn["timing"]["fmax_model_mhz"]
        if kind == "had":  # the counting top-N unit alone, beside the core
            tn = o.topn_synth(design, wdir / "topn", cdir)
            r["topn_lut"], r["topn_ff"], r["topn_bram"] = tn["lut"], tn["ff"], tn["bram"]
        res[kind] = r
    res["area_reduction"] = 1.0 - res["had"]["lut_equivalents"] / res["fp"]["lut_equivalents"]
    pw = (res["had"]["power_mw"], res["fp"]["power_mw"])
    res["power_reduction"] = None if None in pw else 1.0 - pw[0] / pw[1]
    if "fp_strong" in res:
        res["area_reduction_vs_strong_fp"] = 1.0 - res["had"]["lut_equivalents"] / res["fp_strong"]["lut_equivalents"]
        pw = (res["had"]["power_mw"], res["fp_strong"]["power_mw"])
        res["power_reduction_vs_strong_fp"] = None if None in pw else 1.0 - pw[0] / pw[1]
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def _cosim_power(point: SweepPoint, opts: SweepOptions, o: AttentionOp, design: RtlDesign, syn: dict[str, Any],
                 x: Any, mask: Any, simulator: str, sim_dir: Path) -> dict[str, Any]:
    """Co-simulation of one core on the point's vector (checked against golden): rows simulated, measured cycles
    per query, power over the steady-state activity window and its logic toggle rate. The simulator's build and
    the VCD are removed after."""
    from had_hls.estimate.power import power_mw, vcd_activity

    spec = design.spec
    r: dict[str, Any] = {}
    start = point.seq_len + 8  # first input loaded: the window holds attention only
    # long sequences: the rows that cover the activity window (and the cycles per query), not all L
    rows = None
    if point.seq_len > opts.full_rows_max_seq_len:
        per_row = spec.num_heads * design.groups
        rows = min(point.seq_len, 3 + -(-(opts.power_window + design.pipeline_depth) // per_row))
    cs = o.rtlsim(spec, x, mask, None, sim_dir, simulator, point.lanes, vcd_vectors=1, vcd_start=start,
                  vcd_cycles=start + opts.power_window, design=design, max_rows=rows)
    r["rows_simulated"] = cs.get("rows_simulated", point.seq_len)
    if cs["golden_mismatches"] or cs["ctx_mismatches"]:
        raise RuntimeError(f"{point.label} {o.kind}: co-simulation differs from golden")
    r["cycles_per_query"] = cs["cycles_per_query"]
    act = vcd_activity(sim_dir / "activity.vcd")
    r["power_mw"] = power_mw(syn, act, opts.clock_mhz)["power_mw"]
    r["alpha_logic"] = act.alpha_logic
    for junk in ("obj_dir", "activity.vcd"):
        p = sim_dir / junk
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return r
