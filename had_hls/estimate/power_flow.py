"""The report's two power measurements beside the synthesis: the FPGA model on the synthesized netlist's per-cell
activity (had_hls.estimate.netlist_power) and the ASIC cross-check with OpenSTA (had_hls.estimate.asic).

Both take a design and what the report already has (its synthesis folder, the co-simulation vectors and VCD), run
the two cores side by side, and return JSON-able dicts; a step that cannot run (a missing tool, a netlist the
gate-level check rejects, a time limit) is a gap with its reason, never a silent number. They only need an
``RtlDesign`` and a netlist or VCD, so a hierarchical synthesis can call them per module.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from had_hls.errors import MissingToolError
from had_hls.rtl.generate import RtlDesign

KINDS = ("had", "fp")


def _traces(project, out: Path, spec, k: int = 1):
    """The first ``k`` co-simulation inputs of the project (csim_vectors.npz when present) as golden traces."""
    from had_hls import golden
    from had_hls.verify.cosim import load_vectors

    x, mask, _, _ = load_vectors(project, out, k, csim=False, quiet=True)
    masks = [None if mask is None else mask[i] for i in range(len(x))]
    return [golden.attention_trace(spec, x[i], masks[i]) for i in range(len(x))], masks


def gate_level_power(
    project,
    out: Path,
    designs: dict[str, RtlDesign],
    synth_dirs: dict[str, Path],
    f_mhz: float,
    window: int,
    jobs: int = 2,
) -> dict[str, dict[str, Any]]:
    """Per core: {"power": netlist_power(...), "gate_level": GateLevelActivity.as_dict()} or {"error": reason}."""
    from had_hls.estimate.netlist_power import gate_level_activity, netlist_power
    from had_hls.estimate.synth import NETLIST_JSON, synth_xilinx

    def one(kind: str) -> dict[str, Any]:
        d = designs[kind]
        netlist = synth_dirs[kind] / NETLIST_JSON
        try:
            if not netlist.is_file():  # the counts came from the cache: synthesize again for the netlist
                synth_xilinx(d, synth_dirs[kind])
            traces, masks = _traces(project, out, d.spec)
            ga = gate_level_activity(d, traces, masks, netlist, out / "estimate" / kind / "gate", window=window)
        except (RuntimeError, MissingToolError, OSError) as err:
            return {"error": str(err).splitlines()[0]}
        return {"power": netlist_power(ga.activity, f_mhz), "gate_level": ga.as_dict()}

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(zip(KINDS, pool.map(one, KINDS), strict=True))


def asic_crosscheck(
    designs: dict[str, RtlDesign],
    vcds: dict[str, Path],
    work: Path,
    f_mhz: float,
    jobs: int = 2,
    timeout: float | None = None,
) -> dict[str, Any]:
    """``power_crosscheck`` of report.json: {tool, library, had_mw, fp_mw, power_reduction, ...} or {error}."""
    from had_hls.estimate.asic import LIBRARY, asic_power, rtl_bit_activity, sta_path, sta_version

    t0 = time.perf_counter()
    try:
        sta_path()
    except MissingToolError as err:
        return {"error": str(err)}

    def one(kind: str):
        _, act = rtl_bit_activity(vcds[kind])
        return asic_power(designs[kind], act, work / kind / "osu035", f_mhz, timeout=timeout)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            res = dict(zip(KINDS, pool.map(one, KINDS), strict=True))
    except (RuntimeError, OSError) as err:
        return {"error": str(err).splitlines()[0]}
    had, fp = res["had"], res["fp"]
    return {
        "tool": sta_version(),
        "library": LIBRARY,
        "had_mw": had.mw,
        "fp_mw": fp.mw,
        "power_reduction": 1.0 - had.mw / fp.mw if fp.mw else None,
        "f_mhz": f_mhz,
        "scope": "the cores' logic and registers as Yosys maps them to OSU035 (synth, dfflibmap, abc); memories with "
        "write ports (K, V, score buffers) excluded (no SRAM macro in the library); the exp and reciprocal "
        "tables as logic",
        "activity": had.annotation,
        "detail": {
            k: {
                "mw": r.mw,
                "sequential_mw": r.sequential_mw,
                "combinational_mw": r.combinational_mw,
                "cells": r.cells,
                "area_um2": r.area_um2,
                "inputs_matched": r.inputs_matched,
                "memories_excluded": r.memories_excluded,
                "seconds": r.seconds,
            }
            for k, r in res.items()
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }
