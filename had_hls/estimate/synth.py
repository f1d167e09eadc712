"""Yosys synthesis of the RTL attention cores: UltraScale+ resource counts and the memory inventory.

The core synthesised is ``had_attention_core`` / ``fp_attention_core`` of templates/rtl/ with the parameters and
table files that :func:`had_hls.rtl.design_for` derives from an :class:`~had_hls.spec.AttentionSpec` (the same
integers the co-simulation runs on). Yosys runs in a separate process (its library keeps global state): PyPI
``pyosys`` when installed (Yosys 0.5x+, fastest), else the ``yosys`` program on PATH.

Counted like Vivado's utilisation report (CLB LUTs = logic LUTs + LUTs used as distributed RAM or shift
registers), from ``synth_xilinx -family xcup -flatten``. Yosys is not Vivado: use the counts for ratios between
the HAD and FP cores, not as sign-off numbers.

Two flows: flat (the default, the reference) and hierarchical (:func:`prepare_hierarchical`: the replicated or
large modules of the elaborated core synthesised once each, the rest flat with them as black boxes, the counts
composed by instance count; separate Yosys runs that :func:`run_batch` runs in parallel). docs/report.md
("Hierarchical synthesis") gives the method, its limits and what it measured against flat.

The synthesis room: this module (prepared folders, the flat flow, the top-N unit alone, batches, the command
``python -m had_hls.estimate.synth``), ``synth_scripts.py`` (sources, wrapper, the flat script), ``yosys.py`` (the
runner; ABC9's closing self-check is off), ``xilinx_cells.py`` (counts and the memory inventory), ``synth_hier.py``
(the hierarchical flow) and ``synth_context.py`` (a part in its instances' context).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from had_hls.estimate.levels import logic_depth
from had_hls.estimate.synth_hier import HIER_PART, compose_hierarchical, leaf_folders, prepare_hierarchical
from had_hls.estimate.synth_scripts import (
    NETLIST_JSON,
    XILINX_STEPS,
    flat_script,
    prepare_sources,
    read_cmds,
    write_netlist,
)
from had_hls.estimate.xilinx_cells import SynthResult, counts_from_cells, parse_memories, stat_cells
from had_hls.estimate.yosys import ABC9_NO_VERIFY, cpu_seconds, run_yosys, yosys_version
from had_hls.rtl.generate import RTL_TEMPLATE_DIR, RtlDesign


def prepare_xilinx(design: RtlDesign, workdir: str | Path, hierarchical: bool = False) -> Path:
    """A self-contained synthesis folder for the design's core: sources, tables and ``synth_xilinx.ys``.

    ``hierarchical``: the per-module flow of :func:`prepare_hierarchical` (a folder with one sub-folder per part).
    The memory inventory comes from a flattened copy of the RTL either way (every bank of a memory is counted)."""
    if hierarchical:
        return prepare_hierarchical(design, workdir)
    workdir = Path(workdir).resolve()
    files = prepare_sources(design, workdir)
    (workdir / "synth_xilinx.ys").write_text(flat_script(files, "synth_top"))
    (workdir / "synth_job.json").write_text(json.dumps({"kind": design.kind, "top": "synth_top", "flow": "flat"}))
    return workdir



def run_prepared(workdir: str | Path, timeout: float | None = None, jobs: int | None = None) -> SynthResult:
    """Run a prepared folder (``prepare_xilinx`` / ``prepare_topn``) and read its results: counts, memories, logic
    depth. Needs only Yosys and this package's pure-Python parts (runs on a machine without simulators too).
    A hierarchical folder runs its parts ``jobs`` at a time (default: one per core) and composes them."""
    workdir = Path(workdir).resolve()
    job = json.loads((workdir / "synth_job.json").read_text())
    t0 = time.perf_counter()
    if job.get("flow") == "hierarchical":
        import os

        leaves = leaf_folders(workdir)
        status = run_batch(leaves, min(len(leaves), jobs or os.cpu_count() or 1), timeout)
        bad = {k: v for k, v in status.items() if v != "ok"}
        if bad:
            raise RuntimeError(f"hierarchical synthesis: parts failed: {bad}")
        return compose_hierarchical(workdir)
    run_yosys((workdir / "synth_xilinx.ys").read_text(), workdir, "yosys_xilinx.log", timeout=timeout)
    res = finish_xilinx(job["kind"], workdir, job["top"], job.get("flow", "flat"))
    res.seconds = round(time.perf_counter() - t0, 2)
    res.cpu_seconds = cpu_seconds(workdir, "yosys_xilinx.log")
    return res


def finish_xilinx(kind: str, workdir: Path, top: str = "synth_top", flow: str = "flat") -> SynthResult:
    """Counts, memory inventory and logic depth of a finished synthesis folder."""
    res = counts_from_cells(kind, stat_cells(workdir / "stat_xilinx.json", top))
    res.memories = parse_memories(workdir / "memories.il")
    res.timing = logic_depth(workdir / NETLIST_JSON, top, boxes=(HIER_PART,)).as_dict()
    res.tool = f"{yosys_version()}: {XILINX_STEPS}"
    res.flow = flow
    return res


def synth_xilinx(design: RtlDesign, workdir: str | Path, timeout: float | None = None,
                 hierarchical: bool = False) -> SynthResult:
    """``synth_xilinx -family xcup`` (flat, or hierarchical: ``prepare_xilinx``) of the design's core; counts +
    memory inventory (before mapping) + the logic depth of the mapped netlist."""
    return run_prepared(prepare_xilinx(design, workdir, hierarchical), timeout=timeout)


def synth_ecp5_json(design: RtlDesign, workdir: str | Path, timeout: float | None = None) -> Path:
    """``synth_ecp5`` of the design's core into ``workdir/core_ecp5.json`` (input of nextpnr-ecp5)."""
    workdir = Path(workdir).resolve()
    files = prepare_sources(design, workdir)
    script = f"""{read_cmds(files)}
hierarchy -check -top synth_top
{ABC9_NO_VERIFY}
synth_ecp5 -top synth_top -json core_ecp5.json
tee -q -o stat_ecp5.json stat -json
"""
    run_yosys(script, workdir, "yosys_ecp5.log", timeout=timeout)
    return workdir / "core_ecp5.json"



# ------------------------------------------------------------------------------------------------ top-N unit alone
TOPN_SOURCE = "topn_stream.v"
INSERTION_SORT_SOURCE = Path(__file__).resolve().parents[2] / "benchmarks" / "rtl" / "insertion_topn.v"


def prepare_topn(head_dim: int, lanes: int, top_n: int, seq_len: int, workdir: str | Path,
                 design: str = "topn_stream") -> Path:
    """A synthesis folder for the streaming top-N unit alone, ``topn_stream #(P, L, D, N)`` of templates/rtl, or
    ``design = "insertion_topn"``: the register insertion sort of benchmarks/rtl (one key per clock) it is compared
    with. Its ports are the module's (in and out registered inside), so the counts are the unit's own."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    src = RTL_TEMPLATE_DIR / TOPN_SOURCE if design == "topn_stream" else INSERTION_SORT_SOURCE
    shutil.copyfile(src, workdir / src.name)
    params = f"-set L {seq_len} -set D {head_dim} -set N {top_n}" + (f" -set P {lanes}" if design == "topn_stream"
                                                                       else "")
    script = f"""read_verilog -defer {src.name}
chparam {params} {design}
hierarchy -check -top {design}
{ABC9_NO_VERIFY}
synth_xilinx -family xcup -top {design} -flatten -noiopad
tee -q -o stat_xilinx.json stat -json
{write_netlist(design)}
"""
    (workdir / "synth_xilinx.ys").write_text(script)
    (workdir / "memories.il").write_text("")
    (workdir / "synth_job.json").write_text(json.dumps({"kind": design, "top": design}))
    return workdir


def synth_topn(head_dim: int, lanes: int, top_n: int, seq_len: int, workdir: str | Path,
               timeout: float | None = None, design: str = "topn_stream") -> SynthResult:
    """UltraScale+ counts and logic depth of the top-N unit alone (``prepare_topn``)."""
    return run_prepared(prepare_topn(head_dim, lanes, top_n, seq_len, workdir, design), timeout=timeout)


# ------------------------------------------------------------------------------------------------ batches
def run_batch(folders: list[Path], jobs: int = 1, timeout: float | None = None) -> dict[str, str]:
    """Run prepared synthesis folders, ``jobs`` at a time; each gets ``result.json`` (SynthResult) or
    ``error.txt``. Returns {folder: "ok" | error line}. A hierarchical folder's parts and rest are scheduled as
    separate jobs (one pool for all folders), then composed."""
    from concurrent.futures import ProcessPoolExecutor

    leaves: dict[str, str] = {}  # leaf folder -> its folder
    for f in folders:
        for leaf in leaf_folders(Path(f).resolve()):
            leaves[str(leaf)] = str(f)
    status: dict[str, str] = {str(f): "ok" for f in folders}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_run_one, leaf, timeout): leaf for leaf in leaves}
        for fut in futures:
            leaf, st = futures[fut], fut.result()
            f = leaves[leaf]
            if st != "ok" and status[f] == "ok":
                status[f] = st if Path(leaf) == Path(f).resolve() else f"{Path(leaf).name}: {st}"
    for f in folders:
        path = Path(f).resolve()
        if len(leaf_folders(path)) == 1 and leaf_folders(path)[0] == path:
            continue
        if status[str(f)] != "ok":
            (path / "error.txt").write_text(status[str(f)] + "\n")
            continue
        try:
            res = compose_hierarchical(path)
        except (OSError, KeyError, ValueError) as err:
            status[str(f)] = f"compose: {type(err).__name__}: {err}"
            (path / "error.txt").write_text(status[str(f)] + "\n")
            continue
        (path / "result.json").write_text(json.dumps(res.as_dict()))
    return status


def _run_one(folder: str, timeout: float | None) -> str:
    path = Path(folder)
    started = time.time()
    try:
        res = run_prepared(path, timeout=timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        line = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        (path / "error.txt").write_text(line + "\n")
        return line
    (path / "result.json").write_text(json.dumps(res.as_dict() | {"started": started, "ended": time.time()}))
    return "ok"


def main(argv: list[str] | None = None) -> int:
    """``python -m had_hls.estimate.synth FOLDER... [--jobs N] [--timeout S]``: run prepared synthesis folders (on
    any machine with Yosys: the heavy ones go to a many-core host)."""
    import argparse

    ap = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=None)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    status = run_batch([Path(f) for f in a.folders], a.jobs, a.timeout)
    for folder, st in status.items():
        print(f"{folder}: {st}", flush=True)
    print(f"{len(status)} folders in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0 if all(v == "ok" for v in status.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

