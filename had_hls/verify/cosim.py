"""RTL co-simulation: the Verilog twins of the HAD and FP attention layers, driven by the C-simulation's vectors.

Flow (``had-hls cosim``): the C-sim vectors (``<out>/csim_vectors.npz`` written by ``had-hls csim``; when it is
missing the co-simulation stops with one line naming `had-hls csim` (had_hls.stages), or, with ``csim=False``, uses
the project's seeded vectors: then ``csim_mismatches`` is null and a note says so) -> the project's HAD and FP
specs (had_hls.layer.build_specs) -> golden.attention_trace per input -> projection outputs into the RTL (Q/K
sign bits for HAD, Q/K qk mantissas for FP, V mantissas; the attention core and the output projection Wo are
RTL, see docs/rtl.md) -> simulate -> compare every element:
  golden_mismatches: RTL y != golden trace.y   (also ctx_mismatches: RTL context != trace.ctx)
  csim_mismatches:   RTL y != the C-sim output (its float values are exact values of the result type)
Cycles (the design's timing is data independent): cycles_per_query = steady-state cycles between two context
rows (query rows, all heads) = H * ceil(L / P) by design; latency_cycles = first input beat accepted -> last
result row of one input (load L beats, all jobs, context FIFO, Wo); query_latency_cycles = last input beat ->
first context row (the pipeline depth seen by one query).
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from had_hls.config import Project
from had_hls.errors import UserError
from had_hls.io import staged_output, write_json
from had_hls.procs import kill_tree, processes_in
from had_hls.rtl.config import RtlSection
from had_hls.rtl.sim import default_simulator, find_simulator, simulator_version
from had_hls.verify.rtlsim import checked_designs, cosim_layer, cycle_stats  # noqa: F401  (cycle_stats: re-exported)

VECTORS_FILE = "csim_vectors.npz"


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
        from had_hls.stages import require_csim_vectors

        require_csim_vectors(out_dir, project.path)
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
    from had_hls.layer import make_vectors

    k = vectors if vectors is not None else project.csim.vectors
    x, mask = make_vectors(project, k)
    return x, mask, None, "had_hls.layer.make_vectors (no C-sim run: csim_mismatches is null)"


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
    from had_hls.io import check_output_dir
    from had_hls.layer import build_specs
    from had_hls.ops import pair
    from had_hls.project import check_datapath
    from had_hls.rtl.config import check_lanes

    cfg = rtl_section(project)
    if vectors is not None and vectors < 1:
        raise UserError(f"--vectors: {vectors} is not allowed: must be >= 1")
    check_datapath(project, vectors, "--vectors" if vectors is not None else "csim.vectors")
    lanes = check_lanes(lanes, project.model.seq_len, "--lanes") if lanes is not None else cfg.lanes
    simulator = simulator or cfg.simulator or default_simulator()
    find_simulator(simulator)
    out = project.output_dir(out_dir)
    check_output_dir(out)
    ops = pair()  # the HAD and FP ops (had_hls.ops): RTL design and simulation of each
    had_spec, fp_spec = build_specs(project)
    checked_designs({"had": had_spec, "fp": fp_spec}, lanes)  # before anything runs: one line if the RTL can't
    x, mask, cs, source = load_vectors(project, out, vectors, csim, quiet)
    layers = {}
    with staged_output(out) as stage:
        def one(kind: str, spec: Any) -> dict[str, Any]:
            if not quiet:
                print(f"cosim {kind}: {simulator}, {x.shape[0]} vectors ...", flush=True)
            work = stage / "rtl" / kind
            res = ops[kind].rtlsim(
                spec, x, mask, None if cs is None else cs[kind], work, simulator, lanes, vcd_vectors=cfg.vcd_vectors,
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
