"""The report's two power measurements beside the synthesis: the FPGA model on the synthesized netlist's per-cell
activity (had_hls.estimate.netlist_power) and the ASIC cross-check with OpenSTA (had_hls.estimate.asic).

Both take a design and what the report already has (its synthesis folder, the co-simulation vectors and VCD), run
the two cores side by side, and return JSON-able dicts; a step that cannot run (a missing tool, a netlist the
gate-level check rejects, a time limit) is a gap with its reason, never a silent number. They only need an
``RtlDesign`` and a netlist or VCD, so a hierarchical synthesis can call them per module.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from had_hls.errors import MissingToolError
from had_hls.rtl.generate import RtlDesign

KINDS = ("had", "fp")


def step_key(design: RtlDesign, *parts: Any, files: tuple[Path, ...] = ()) -> str:
    """Cache key of a power step of one core: its synthesis key, the step's own sources and settings, and the
    bytes of the input files it reads (vectors, VCD)."""
    from had_hls.estimate import (
        asic,
        asic_activity,
        asic_liberty,
        asic_netlist,
        asic_sta,
        cell_activity,
        gate_sources,
        netlist_power,
        vcd_toggles,
    )
    from had_hls.estimate.point import synth_key

    h = hashlib.sha256(synth_key(design).encode())
    h.update(repr(parts).encode())
    steps = (netlist_power, gate_sources, vcd_toggles, cell_activity, asic, asic_liberty, asic_netlist,
             asic_activity, asic_sta)  # every module whose code makes a power figure
    for src in (Path(__file__), *(Path(m.__file__) for m in steps), *files):
        with open(src, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:20]


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
    cache_dir: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Per core: {"power": netlist_power(...), "gate_level": GateLevelActivity.as_dict()} or {"error": reason};
    results are kept in ``cache_dir`` (had_hls.estimate.cache) under :func:`step_key`."""
    from had_hls.estimate.cache import cached
    from had_hls.estimate.netlist_power import gate_level_activity, netlist_power
    from had_hls.estimate.synth import synth_xilinx
    from had_hls.estimate.synth_scripts import NETLIST_JSON

    def measure(kind: str, traces: list, masks: list) -> dict[str, Any]:
        d = designs[kind]
        netlist = synth_dirs[kind] / NETLIST_JSON
        if not netlist.is_file():  # the counts came from the cache: synthesize again for the netlist
            synth_xilinx(d, synth_dirs[kind])
        # work files beside the synthesis folder (the report keeps them in its scratch folder)
        ga = gate_level_activity(d, traces, masks, netlist, synth_dirs[kind].parent / "gate", window=window)
        return {"power": netlist_power(ga.activity, f_mhz), "gate_level": ga.as_dict()}

    def one(kind: str) -> dict[str, Any]:
        try:
            traces, masks = _traces(project, out, designs[kind].spec)
            key = step_key(designs[kind], "gate", window, f_mhz, traces[0].x.tobytes(),
                           None if masks[0] is None else masks[0].tobytes())
            return cached(cache_dir, "gate", key, lambda: measure(kind, traces, masks))
        except (RuntimeError, MissingToolError, OSError) as err:  # not cached: a later run tries again
            return {"error": str(err).splitlines()[0]}

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return dict(zip(KINDS, pool.map(one, KINDS), strict=True))


def asic_crosscheck(
    project,
    out: Path,
    designs: dict[str, RtlDesign],
    work: Path,
    f_mhz: float,
    window: int,
    jobs: int = 2,
    timeout: float | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """``power_crosscheck`` of report.json: {tool, library, had_mw, fp_mw, power_reduction, ...} or {error};
    each core's result kept in ``cache_dir`` under :func:`step_key` (its synthesis, the vectors, the window)."""
    from had_hls.estimate.asic import asic_power
    from had_hls.estimate.asic_liberty import LIBRARY
    from had_hls.estimate.asic_sta import MAX_SLEW_NS, sta_path, sta_version
    from had_hls.estimate.cache import cached

    t0 = time.perf_counter()
    try:
        sta_path()
    except MissingToolError as err:
        return {"error": str(err)}

    def one(kind: str) -> dict[str, Any]:
        traces, masks = _traces(project, out, designs[kind].spec)
        key = step_key(designs[kind], "asic", window, f_mhz, traces[0].x.tobytes(),
                       None if masks[0] is None else masks[0].tobytes())

        def measure() -> dict[str, Any]:
            r = asic_power(designs[kind], traces[0], masks[0], work / kind / "osu035", f_mhz, window,
                           timeout=timeout)
            return {k: v for k, v in r.__dict__.items() if k != "kind"}

        return cached(cache_dir, "asic", key, measure)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            res = dict(zip(KINDS, pool.map(one, KINDS), strict=True))
    except (RuntimeError, OSError) as err:
        return {"error": str(err).splitlines()[0]}
    had, fp = res["had"], res["fp"]
    return {
        "tool": sta_version(),
        "library": LIBRARY,
        "had_mw": had["mw"],
        "fp_mw": fp["mw"],
        "power_reduction": 1.0 - had["mw"] / fp["mw"] if fp["mw"] else None,
        "f_mhz": f_mhz,
        "scope": "the cores' logic and registers as Yosys maps them to OSU035 (synth, dfflibmap, abc); memories with "
        "write ports (K, V, score buffers) excluded (no SRAM macro in the library); the exp and reciprocal "
        "tables as logic",
        "activity": f"per net, from a zero-delay gate-level simulation of the OSU035 netlist ({window} cycles, "
        "context rows checked against golden); the netlist cut at every net so that OpenSTA 2.0.17 keeps each "
        f"net's activity (input ports timed from the clock); nets beyond their driver's max_capacitance at "
        f"{MAX_SLEW_NS} ns slew",
        "detail": res,
        "seconds": round(time.perf_counter() - t0, 1),
    }
