"""RTL co-simulation: the Verilog twins of the HAD and FP attention layers, driven by the C-simulation's vectors.

Flow (``had-hls cosim``): the C-sim vectors (``<out>/csim_vectors.npz`` written by ``had-hls csim``; when it is
missing, the C-simulation is run first, or skipped with ``csim=False``: then ``csim_mismatches`` is null and a
note says so) -> the project's HAD and FP specs (had_hls.verify.csim.build_specs) -> golden.attention_trace per
input -> projection outputs into the RTL (Q/K sign bits for HAD, Q/K qk mantissas for FP, V mantissas; the
attention core and the output projection Wo are RTL, see docs/rtl.md) -> simulate -> compare every element:
  golden_mismatches: RTL y != golden trace.y   (also ctx_mismatches: RTL context != trace.ctx)
  csim_mismatches:   RTL y != the C-sim output (its float values are exact values of the result type)
Cycles (the design's timing is data independent): cycles_per_query = steady-state cycles between two context
rows (query rows, all heads) = H * ceil(L / P) by design; latency_cycles = first input beat accepted -> last
result row of one input (load L beats, all jobs, context FIFO, Wo); query_latency_cycles = last input beat ->
first context row (the pipeline depth seen by one query).
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from had_hls import golden
from had_hls.config import ConfigError, Project
from had_hls.errors import UserError
from had_hls.io import staged_output, write_json
from had_hls.procs import kill_tree, processes_in
from had_hls.rtl.config import RtlSection
from had_hls.rtl.generate import DEFAULT_LANES, RtlDesign, RtlLimitError, design_for
from had_hls.rtl.sim import SimResult, default_simulator, find_simulator, run_simulation, simulator_version
from had_hls.spec import AttentionSpec

VECTORS_FILE = "csim_vectors.npz"


def checked_designs(specs: dict[str, AttentionSpec], lanes: int) -> dict[str, RtlDesign]:
    """The RTL design of each spec; a spec the Verilog cannot take is a ConfigError naming the project key."""
    try:
        return {kind: design_for(spec, lanes) for kind, spec in specs.items()}
    except RtlLimitError as err:
        raise ConfigError(f"{err.key}: {err}") from None


def rtl_section(project: Project) -> RtlSection:
    try:
        return project.section("rtl")
    except KeyError:
        return RtlSection()


def load_vectors(
    project: Project, out_dir: Path, vectors: int | None, csim: bool, quiet: bool
) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray] | None, str]:
    """(x (K, L, E), mask (K, L) or None, {'had': C-sim y, 'fp': C-sim y} or None, where the vectors came from)."""
    path = out_dir / VECTORS_FILE
    if not path.is_file() and csim:
        from had_hls.verify.csim import run_csim

        run_csim(project, out_dir, vectors, quiet=quiet)
    if path.is_file():
        data = np.load(path)
        x = data["x"]
        m = project.model
        if x.ndim != 3 or x.shape[1:] != (m.seq_len, m.embed_dim):
            raise UserError(
                f"{path}: vectors of shape {x.shape[1:]} do not match the project (L={m.seq_len}, E={m.embed_dim}): "
                "run `had-hls csim` again"
            )
        k = x.shape[0] if vectors is None else min(vectors, x.shape[0])
        mask = data["mask"][:k] if "mask" in data.files else None
        cs = {"had": data["had_csim"][:k], "fp": data["fp_csim"][:k]}
        note = f"{path.name} (C-sim vectors, first {k} of {x.shape[0]})"
        if vectors is not None and vectors > x.shape[0]:
            note += f"; --vectors {vectors} asked for more than the C-sim ran"
        return x[:k], mask, cs, note
    from had_hls.verify.csim import make_vectors

    k = vectors if vectors is not None else project.csim.vectors
    x, mask = make_vectors(project, k)
    return x, mask, None, "had_hls.verify.csim.make_vectors (no C-sim run: csim_mismatches is null)"


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
    traces = [golden.attention_trace(spec, x[i], masks[i]) for i in range(k)]
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


def run_cosim(
    project: Project,
    out_dir: str | Path | None = None,
    vectors: int | None = None,
    simulator: str | None = None,
    lanes: int | None = None,
    csim: bool = True,
    quiet: bool = False,
) -> dict[str, Any]:
    """The whole co-simulation (HAD + FP baseline); returns the cosim.json dict, written to ``<out>/cosim.json``."""
    from had_hls.config import check_datapath
    from had_hls.io import check_output_dir
    from had_hls.rtl.config import check_lanes
    from had_hls.verify.csim import build_specs

    cfg = rtl_section(project)
    if vectors is not None and vectors < 1:
        raise UserError(f"--vectors: {vectors} is not allowed: must be >= 1")
    check_datapath(project, vectors, "--vectors" if vectors is not None else "csim.vectors")
    lanes = check_lanes(lanes, project.model.seq_len, "--lanes") if lanes is not None else cfg.lanes
    simulator = simulator or cfg.simulator or default_simulator()
    find_simulator(simulator)
    out = project.output_dir(out_dir)
    check_output_dir(out)
    had_spec, fp_spec = build_specs(project)
    checked_designs({"had": had_spec, "fp": fp_spec}, lanes)  # before anything runs: one line if the RTL can't
    x, mask, cs, source = load_vectors(project, out, vectors, csim, quiet)
    layers = {}
    with staged_output(out) as stage:
        def one(kind: str, spec: Any) -> dict[str, Any]:
            if not quiet:
                print(f"cosim {kind}: {simulator}, {x.shape[0]} vectors ...", flush=True)
            work = stage / "rtl" / kind
            res = cosim_layer(
                spec, x, mask, None if cs is None else cs[kind], work, simulator, lanes, cfg.vcd_vectors,
                vcd_cycles=cfg.vcd_cycles,
            )
            _clean_build(work)
            return res

        # the two cores build and simulate in separate folders and processes: side by side
        with ThreadPoolExecutor(max_workers=2) as pool:
            futs = {kind: pool.submit(one, kind, spec) for kind, spec in (("had", had_spec), ("fp", fp_spec))}
            try:
                layers = {kind: f.result() for kind, f in futs.items()}
            except BaseException:  # one core failed (or a stop): the other's simulator must not run on
                kill_tree(processes_in(stage))
                raise
        had, fp = layers["had"], layers["fp"]
        keys = ("golden_mismatches", "ctx_mismatches", "csim_mismatches", "cycles_per_query",
                "cycles_per_query_model", "latency_cycles", "query_latency_cycles", "build_s", "run_s", "vcd")
        report: dict[str, Any] = {
            "name": project.name,
            "simulator": simulator,
            "simulator_version": simulator_version(simulator),
            "vectors": int(x.shape[0]),
            "vectors_source": source,
            "masked": mask is not None,
            "lanes": lanes,
            "shape": {"seq_len": had_spec.seq_len, "embed_dim": had_spec.embed_dim, "num_heads": had_spec.num_heads,
                      "head_dim": had_spec.head_dim, "top_n": had_spec.top_n},
            "output_elements": had["output_elements"],
            **{k: had[k] for k in keys},
            "had": had,
            "fp_baseline": {k: fp[k] for k in keys} | {"detail": fp},
            "rtl": "templates/rtl/*.v (cosim_dut: core + context FIFO + Wo); projections Q/K/V fed from the "
                   "golden trace, see docs/rtl.md",
            "pass": _passed(had) and _passed(fp),
        }
        if cs is None:
            report["note"] = "csim_mismatches is null: no C-sim vectors (run `had-hls csim` first or drop --no-csim)"
        write_json(stage / "cosim.json", report)
    return report


def _passed(layer: dict[str, Any]) -> bool:
    return (
        layer["golden_mismatches"] == 0
        and layer["ctx_mismatches"] == 0
        and layer["csim_mismatches"] in (0, None)
    )


def _clean_build(work: Path) -> None:
    """Drop compiled simulator objects (MBs); keep sources, vectors, outputs, logs and the VCD."""
    shutil.rmtree(work / "obj_dir", ignore_errors=True)
    (work / "sim.vvp").unlink(missing_ok=True)
