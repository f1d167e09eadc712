"""RTL simulation of one attention layer against golden (and the C-sim): the RTL faces of the ops (had_hls.ops).

:func:`cosim_layer` runs the Verilog twin of a spec (had_hls.rtl) on K inputs and compares every element with
golden's trace; :func:`cycle_stats` reads the cycle counts from the handshake times (see had_hls.verify.cosim for
the definitions); :func:`checked_designs` gives the RTL parameters of specs, one ConfigError if the Verilog cannot
take one. The ``had-hls cosim`` stage (had_hls.verify.cosim) runs these for the HAD and FP layers.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from had_hls import golden
from had_hls.config import ConfigError
from had_hls.rtl.derive import RtlLimitError
from had_hls.rtl.generate import DEFAULT_LANES, RtlDesign, design_for
from had_hls.rtl.sim import SimResult, run_simulation
from had_hls.spec import AttentionSpec


def checked_designs(specs: dict[str, AttentionSpec], lanes: int) -> dict[str, RtlDesign]:
    """The RTL design of each spec; a spec the Verilog cannot take is a ConfigError naming the project key."""
    try:
        return {kind: design_for(spec, lanes) for kind, spec in specs.items()}
    except RtlLimitError as err:
        raise ConfigError(f"{err.key}: {err}") from None


def cycle_stats(design: RtlDesign, sim: SimResult) -> dict[str, Any]:
    """Cycle counts from the handshake times of the simulation (see the module docstring)."""
    s = design.spec
    rows = sim.ctx_cycles.shape[1]  # L, or the first rows of a long sequence (run_simulation max_rows)
    if rows > 1:
        cpq = (sim.ctx_cycles[:, -1] - sim.ctx_cycles[:, 0]) / (rows - 1)
    else:
        cpq = (sim.ctx_cycles[:, 0] - sim.in_cycles[:, -1]).astype(np.float64)
    latency = sim.y_cycles[:, -1] - sim.in_cycles[:, 0] + 1
    q_lat = sim.ctx_cycles[:, 0] - sim.in_cycles[:, -1]
    core = sim.ctx_cycles[:, -1] - sim.in_cycles[:, 0] + 1
    if rows < s.seq_len:  # the whole input did not run: no latency of it
        return {"lanes": design.lanes, "cycles_per_query": float(np.median(cpq)),
                "cycles_per_query_model": s.num_heads * design.groups,
                "cycles_per_query_per_head": float(np.median(cpq)) / s.num_heads, "latency_cycles": None,
                "query_latency_cycles": int(np.median(q_lat)), "rows_simulated": rows,
                "load_cycles": int(np.median(sim.in_cycles[:, -1] - sim.in_cycles[:, 0] + 1))}
    return {
        "lanes": design.lanes,
        "cycles_per_query": float(np.median(cpq)),
        "cycles_per_query_model": s.num_heads * design.groups,
        "cycles_per_query_per_head": float(np.median(cpq)) / s.num_heads,
        "latency_cycles": int(np.max(latency)),
        "latency_cycles_min": int(np.min(latency)),
        "query_latency_cycles": int(np.median(q_lat)),
        "core_cycles_per_input": int(np.median(core)),
        "load_cycles": int(np.median(sim.in_cycles[:, -1] - sim.in_cycles[:, 0] + 1)),
    }


def cosim_layer(
    spec: AttentionSpec,
    x: np.ndarray,
    mask: np.ndarray | None,
    csim_y: np.ndarray | None,
    workdir: Path,
    simulator: str,
    lanes: int = DEFAULT_LANES,
    vcd_vectors: int = 0,
    stall_seed: int = 0,
    vcd_cycles: int = 0,
    vcd_start: int = 0,
    design: RtlDesign | None = None,
    max_rows: int | None = None,
) -> dict[str, Any]:
    """Simulate one layer on K inputs and compare with golden (and C-sim when given). Returns the report dict.

    The activity file (``vcd_vectors`` > 0) covers the cycles [vcd_start, vcd_cycles) of the first inputs.
    ``design``: the RTL parameters (default ``design_for(spec, lanes)``; e.g. the strong FP baseline's).
    ``max_rows`` (one input): only its first query rows run and are compared (long sequences)."""
    k = x.shape[0]
    masks = [None if mask is None else mask[i] for i in range(k)]
    t0 = time.perf_counter()
    traces = [golden.attention_trace(spec, x[i], masks[i], rows=max_rows) for i in range(k)]
    golden_s = time.perf_counter() - t0
    design = design or design_for(spec, lanes)
    sim = run_simulation(
        design, traces, masks, workdir, simulator, vcd_vectors=vcd_vectors, vcd_cycles=vcd_cycles,
        stall_seed=stall_seed, vcd_start=vcd_start, max_rows=max_rows,
    )
    rows = sim.y.shape[1]
    y_gold = np.stack([t.y for t in traces])[:, :rows]
    ctx_gold = np.stack([t.ctx for t in traces])[:, :rows]
    res: dict[str, Any] = {
        "kind": spec.kind,
        "golden_mismatches": int((sim.y != y_gold).sum()),
        "ctx_mismatches": int((sim.ctx != ctx_gold).sum()),
        "csim_mismatches": None,
    }
    if csim_y is not None:
        t = spec.precision.result
        cs = np.asarray(csim_y, dtype=np.float64).reshape(sim.y.shape)
        cs_m = np.floor(np.ldexp(cs, t.frac) + 0.5).astype(np.int64)
        res["csim_mismatches"] = int((sim.y != cs_m).sum())
    res.update(cycle_stats(design, sim))
    res.update(
        {
            "output_elements": int(sim.y.size),
            "build_s": round(sim.build_s, 2),
            "run_s": round(sim.run_s, 3),
            "golden_s": round(golden_s, 3),
            "vcd": None if sim.vcd is None else str(sim.vcd.relative_to(Path(workdir).resolve().parent.parent)),
            "vcd_vectors": min(vcd_vectors, k),
            "vcd_cycles": vcd_cycles,
            "vcd_start": vcd_start,
        }
    )
    return res
