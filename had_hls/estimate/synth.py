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

ABC9's closing self-check is switched off (``scratchpad -set abc9.verify 0``, :data:`ABC9_NO_VERIFY`): after
mapping, ABC9 runs ``&verify``, a combinational equivalence check of its own output against its input. It does
not change the netlist, and on the multiplier-rich FP core it is the slow step (the FP core at L = 512, d = 64
had its 89k LUTs mapped and then spent more than 8 minutes in ``&verify`` on a 16-core host). The cores' function
is checked where it matters: RTL co-simulation bit for bit against the golden model, and the gate-level
co-simulation of a synthesised netlist (verification/rtl/gate_level.py).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from had_hls.errors import MissingToolError
from had_hls.estimate.levels import logic_depth
from had_hls.estimate.synth_context import CONTEXT_FILE, context_summary, context_wrapper, part_contexts
from had_hls.procs import run_tool
from had_hls.rtl.generate import CORE_SOURCES, RTL_TEMPLATE_DIR, RtlDesign

INSTALL_YOSYS = "pip install pyosys  (or: apt-get install -y yosys)"
# skip ABC9's post-mapping equivalence self-check (&verify): same netlist, minutes less on large cores
ABC9_NO_VERIFY = "scratchpad -set abc9.verify 0"
# the mapped top module alone (not the cell library), for the logic-level analysis of estimate/levels.py
NETLIST_JSON = "netlist_xilinx.json"
WRITE_NETLIST = f"select synth_top\nwrite_json -selected {NETLIST_JSON}\nselect -clear"


def _write_netlist(top: str) -> str:
    return f"select {top}\nwrite_json -selected {NETLIST_JSON}\nselect -clear"


# LUT sites taken by one distributed-RAM / shift-register primitive (UG574, "CLB LUTs" as Vivado counts them)
LUTRAM_LUTS = {
    "RAM16X1S": 1,
    "RAM32X1S": 1,
    "RAM64X1S": 1,
    "RAM128X1S": 2,
    "RAM256X1S": 4,
    "RAM512X1S": 8,
    "RAM16X1D": 2,
    "RAM32X1D": 2,
    "RAM64X1D": 2,
    "RAM128X1D": 4,
    "RAM256X1D": 8,
    "RAM32M": 4,
    "RAM64M": 4,
    "RAM32M16": 8,
    "RAM64M8": 8,
    "RAM32X16DR8": 8,
    "RAM64X8SW": 8,
    "SRL16E": 1,
    "SRLC16E": 1,
    "SRLC32E": 1,
}
FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1", "LDCE", "LDPE")
DSP_CELLS = ("DSP48E2", "DSP48E1", "DSP48E", "DSP48A1")
BRAM36_CELLS = ("RAMB36E2", "RAMB36E1")
BRAM18_CELLS = ("RAMB18E2", "RAMB18E1")
URAM_CELLS = ("URAM288", "URAM288_BASE")
CARRY_CELLS = ("CARRY8", "CARRY4")


@dataclass
class SynthResult:
    """Resource counts of one core (UltraScale+ primitives) and what the synthesis saw."""

    kind: str
    lut: int
    ff: int
    dsp: int
    bram: float  # RAMB36 equivalents (RAMB18 = 0.5)
    carry: int
    uram: int = 0
    lut_logic: int = 0
    lut_ram: int = 0
    muxf: int = 0
    cells: dict[str, int] = field(default_factory=dict)
    memories: list[dict[str, Any]] = field(default_factory=list)
    tool: str = ""
    seconds: float = 0.0
    cpu_seconds: float | None = None  # CPU (user + system) of the Yosys process(es) where pyosys ran them
    timing: dict[str, Any] = field(default_factory=dict)  # levels.LogicDepth of the worst register-to-register path
    flow: str = "flat"  # "flat" (synth_xilinx -flatten) or "hierarchical" (each distinct module once)
    hierarchy: dict[str, Any] = field(default_factory=dict)  # hierarchical flow: the parts, runs, CPU and wall s

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------------ yosys runner
def yosys_backend() -> str:
    """'pyosys' when the Python package imports, else 'yosys' (the program) when on PATH; else MissingToolError."""
    try:
        import pyosys  # noqa: F401

        return "pyosys"
    except ImportError:
        pass
    if shutil.which("yosys"):
        return "yosys"
    raise MissingToolError(f"Yosys not found (neither the pyosys package nor yosys on PATH): {INSTALL_YOSYS}")


_PYOSYS_RUNNER = """
import json, resource, sys
from pyosys import libyosys as ys
d = ys.Design()
ys.run_pass("script " + sys.argv[1], d)
r = resource.getrusage(resource.RUSAGE_SELF)
open(sys.argv[1] + ".cpu", "w").write(json.dumps(r.ru_utime + r.ru_stime))
"""


def _cpu_seconds(workdir: Path, log_name: str) -> float | None:
    """CPU seconds (user + system) of the last pyosys run of ``log_name`` in ``workdir``; None when unknown."""
    f = workdir / (Path(log_name).stem + ".ys.cpu")
    try:
        return round(float(f.read_text()), 2)
    except (OSError, ValueError):
        return None


def run_yosys(script: str, workdir: Path, log_name: str = "yosys.log", timeout: float | None = None) -> str:
    """Run a Yosys script (text) in ``workdir``; returns the log. Raises RuntimeError with the log tail on failure."""
    backend = yosys_backend()
    workdir.mkdir(parents=True, exist_ok=True)
    ys_file = workdir / (Path(log_name).stem + ".ys")
    ys_file.write_text(script)
    log = workdir / log_name
    if backend == "pyosys":
        cmd = [sys.executable, "-c", _PYOSYS_RUNNER, ys_file.name]
    else:
        cmd = [shutil.which("yosys") or "yosys", "-q", "-s", ys_file.name]
    log.unlink(missing_ok=True)
    (workdir / (ys_file.name + ".cpu")).unlink(missing_ok=True)
    # ToolError (a RuntimeError: exit status or signal, log) on failure; the process tree killed on any exception
    run_tool(cmd, workdir, log, tool="yosys", timeout=timeout, echo_command=False)
    return log.read_text(errors="replace")


@functools.lru_cache(maxsize=1)
def yosys_version() -> str:
    """'Yosys 0.xx (...)' of the backend in use."""
    backend = yosys_backend()
    if backend == "pyosys":
        code = "from pyosys import libyosys as ys; print(ys.yosys_maybe_version())"
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            line = out.stdout.strip().splitlines()
            if line:
                return f"{line[-1]} (pyosys)"
        except (OSError, subprocess.SubprocessError):
            pass
        from importlib.metadata import version

        return f"Yosys (pyosys {version('pyosys')})"
    out = subprocess.run([shutil.which("yosys") or "yosys", "-V"], capture_output=True, text=True)
    return out.stdout.strip()


# ------------------------------------------------------------------------------------------------ sources
def core_wrapper(design: RtlDesign, top: str = "synth_top") -> str:
    """A top module instantiating the design's core with every parameter and the table files of ``design.write``."""
    kind = design.kind
    e, qw, vw, cw = (
        design.spec.embed_dim,
        design.qk_width,
        design.spec.precision.value.width,
        design.spec.precision.context.width,
    )
    return f"""// Generated by had_hls.estimate.synth: the {kind} core of spec {design.spec.name!r}, P = {design.lanes}.
`default_nettype none
module {top} (
    input wire clk, input wire rst, input wire in_valid, output wire in_ready,
    input wire [{e * qw - 1}:0] in_q, input wire [{e * qw - 1}:0] in_k, input wire [{e * vw - 1}:0] in_v,
    input wire in_pad, output wire ctx_valid, input wire ctx_ready, output wire [{e * cw - 1}:0] ctx_data,
    output wire busy
);
    {design.core_instance()}
endmodule
`default_nettype wire
"""


def prepare_sources(design: RtlDesign, workdir: Path) -> list[str]:
    """Write tables + wrapper and copy the RTL sources into ``workdir``; return the Verilog files to read (names
    relative to ``workdir``: the folder is self-contained, so the synthesis can run on another machine)."""
    workdir.mkdir(parents=True, exist_ok=True)
    design.write(workdir)
    (workdir / "synth_top.v").write_text(core_wrapper(design))
    names = list(CORE_SOURCES[design.kind])
    for f in names:
        shutil.copyfile(RTL_TEMPLATE_DIR / f, workdir / f)
    return [*names, "synth_top.v"]


def _read_cmds(files: list[str]) -> str:
    return "\n".join(f"read_verilog -defer -DSYNTHESIS {f}" for f in files)


# ------------------------------------------------------------------------------------------------ synthesis
XILINX_STEPS = "synth_xilinx -family xcup -flatten -noiopad (abc9.verify 0)"


def prepare_xilinx(design: RtlDesign, workdir: str | Path, hierarchical: bool = False) -> Path:
    """A self-contained synthesis folder for the design's core: sources, tables and ``synth_xilinx.ys``.

    ``hierarchical``: the per-module flow of :func:`prepare_hierarchical` (a folder with one sub-folder per part).
    The memory inventory comes from a flattened copy of the RTL either way (every bank of a memory is counted)."""
    if hierarchical:
        return prepare_hierarchical(design, workdir)
    workdir = Path(workdir).resolve()
    files = prepare_sources(design, workdir)
    (workdir / "synth_xilinx.ys").write_text(_flat_script(files, "synth_top"))
    (workdir / "synth_job.json").write_text(json.dumps({"kind": design.kind, "top": "synth_top", "flow": "flat"}))
    return workdir


def _flat_script(files: list[str], top: str, pre: str = "", memories: bool = True, boxes: str = "") -> str:
    mem = """design -save rtl
flatten
opt_clean
memory_collect
tee -q -o memories.il dump t:$mem_v2 t:$mem
design -load rtl
""" if memories else ""
    return f"""{_read_cmds(files)}
hierarchy -check -top synth_top
{pre}proc
{mem}{boxes}{ABC9_NO_VERIFY}
synth_xilinx -family xcup -top {top} -flatten -noiopad
flatten
tee -q -o stat_xilinx.json stat -json
{_write_netlist(top)}
"""


# ------------------------------------------------------------------------------------------------ hierarchical
# A module of the elaborated core becomes a separately synthesised part when it is instanced at least
# HIER_MIN_COUNT times (through its parents) and holds at least HIER_MIN_CELLS cells after ``proc`` (with its
# submodules), or when, instanced once, it holds at least HIER_MIN_SHARE of the core's cells (and at most half:
# not the core itself): small modules (a word select, a short adder) stay in the flattened rest, where flat
# synthesis's cross-boundary optimisation (constant inputs, unused outputs, LUT packing) applies to them.
HIER_MIN_COUNT = 2
HIER_MIN_CELLS = 40
HIER_MIN_SHARE = 0.05
HIER_CONTEXT = "in-context"  # parts synthesised in their instances' context (had_hls.estimate.synth_context)
HIER_PART = "hier_part"  # prefix of the renamed part modules (black boxes in the rest)
HIER_STEPS = ("per module: synth_xilinx -family xcup -flatten -noiopad (abc9.verify 0) of each part once, in the "
              "context of its instances (tied inputs, unread outputs), and of the rest with the parts as black boxes; "
              "counts = rest + sum(instances x part)")


def elaborate(workdir: Path, files: list[str], timeout: float | None = None) -> dict[str, Any]:
    """The elaborated module hierarchy of ``synth_top`` (Yosys ``hierarchy`` + ``proc``): {module: {"cells": own
    cells, "subs": {submodule: instances}}} and the seconds it took (``elab.log`` in ``workdir``)."""
    t0 = time.perf_counter()
    run_yosys(f"""{_read_cmds(files)}
hierarchy -check -top synth_top
proc
opt_clean
tee -q -o elab_stat.json stat -json
write_json elab_design.json
""", workdir, "yosys_elab.log", timeout=timeout)
    mods = json.loads((workdir / "elab_stat.json").read_text())["modules"]
    names = set(mods)
    out = {}
    for m, v in mods.items():
        by_type = v.get("num_cells_by_type", {})
        # stat names a submodule's cells by its type without the backslash its module key has ($paramod names
        # carry none): both spellings are a submodule
        subs = {(t if t in names else "\\" + t): int(n) for t, n in by_type.items()
                if t in names or "\\" + t in names}
        own = int(v.get("num_cells", 0)) - sum(subs.values())
        out[m] = {"cells": own, "subs": subs}
    return {"modules": out, "seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": _cpu_seconds(workdir, "yosys_elab.log"), "design": workdir / "elab_design.json"}


def choose_parts(modules: dict[str, Any], top: str = "\\synth_top", min_count: int = HIER_MIN_COUNT,
                 min_cells: int = HIER_MIN_CELLS, min_share: float = HIER_MIN_SHARE) -> dict[str, int]:
    """{module: instance count} of the parts: walking down from ``top``, the first module on each branch that is
    instanced ``min_count`` times or more in all and holds ``min_cells`` cells or more with its submodules, or whose
    instances hold between ``min_share`` and half of all cells (its own submodules are then synthesised inside
    it). Generic: only the hierarchy Yosys elaborated is used."""

    @functools.cache
    def size(m: str) -> int:
        info = modules[m]
        return info["cells"] + sum(n * size(s) for s, n in info["subs"].items())

    # parents before children (a module may sit under several parents): instance counts accumulate top-down
    order: list[str] = []

    def topo(m: str, seen: set[str]) -> None:
        if m in seen:
            return
        seen.add(m)
        for s in modules[m]["subs"]:
            topo(s, seen)
        order.append(m)

    topo(top, set())
    total = size(top)
    order.reverse()  # parents before children
    parts: dict[str, int] = {}
    counts = {top: 1}  # instances of each module reached through non-part parents
    for m in order:
        mult = counts.get(m, 0)
        if not mult:
            continue
        big = min_share * total <= mult * size(m) <= 0.5 * total
        if m != top and ((mult >= min_count and size(m) >= min_cells) or big):
            parts[m] = mult
            continue  # its submodules go with it
        for s, n in modules[m]["subs"].items():
            counts[s] = counts.get(s, 0) + mult * n
    return parts


def prepare_hierarchical(design: RtlDesign, workdir: str | Path, min_count: int = HIER_MIN_COUNT,
                         min_cells: int = HIER_MIN_CELLS, min_share: float = HIER_MIN_SHARE) -> Path:
    """The hierarchical flow's folder: the core elaborated once (Yosys, here), its parts chosen
    (:func:`choose_parts`), and one self-contained sub-folder per run: ``part_<i>/`` synthesises one distinct part
    module flat (exact parameters of its instances), ``rest/`` the core flat with the parts as black boxes (and the
    memory inventory). :func:`run_prepared` / :func:`run_batch` run them (in parallel) and compose the counts."""
    workdir = Path(workdir).resolve()
    files = prepare_sources(design, workdir)
    elab = elaborate(workdir, files)
    parts = choose_parts(elab["modules"], min_count=min_count, min_cells=min_cells, min_share=min_share)
    names = {m: f"{HIER_PART}_{i}" for i, m in enumerate(sorted(parts))}
    shared = [f for f in sorted(workdir.iterdir()) if f.is_file() and not f.name.startswith(("yosys_", "elab_"))
              and f.suffix not in (".ys", ".json")]
    contexts = part_contexts(json.loads(elab["design"].read_text()), set(parts))
    elab["design"].unlink()  # megabytes; the folder travels to the synthesis host
    jobs = []
    for m, name in names.items():
        sub = workdir / name
        _copy_files(shared, sub)
        (sub / CONTEXT_FILE).write_text(context_wrapper(name, m, contexts[m]))
        pre = f"read_rtlil {CONTEXT_FILE}\nhierarchy -top {name}\n"
        (sub / "synth_xilinx.ys").write_text(_flat_script(files, name, pre=pre, memories=False))
        (sub / "synth_job.json").write_text(json.dumps({"kind": design.kind, "top": name, "flow": "part"}))
        jobs.append({"dir": name, "module": m, "count": parts[m], "context": context_summary(contexts[m])})
    sub = workdir / "rest"
    _copy_files(shared, sub)
    # rename the module and retype its instances (``rename`` alone leaves the cells on the old name)
    renames = "".join(f"rename {m} {name}\nchtype -map {m} {name}\n" for m, name in names.items())
    boxes = "".join(f"blackbox {name}\n" for name in names.values())
    (sub / "synth_xilinx.ys").write_text(_flat_script(files, "synth_top", pre=renames, boxes=boxes))
    (sub / "synth_job.json").write_text(json.dumps({"kind": design.kind, "top": "synth_top", "flow": "rest"}))
    (workdir / "synth_job.json").write_text(json.dumps({
        "kind": design.kind, "top": "synth_top", "flow": "hierarchical", "parts": jobs, "rest": "rest",
        "elab_seconds": elab["seconds"], "elab_cpu_seconds": elab["cpu_seconds"], "min_count": min_count,
        "min_cells": min_cells, "min_share": min_share, "parts_in_context": True}))
    return workdir


def _copy_files(files: list[Path], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, dest / f.name)


def _leaves(workdir: Path) -> list[Path]:
    """The folders a prepared folder runs: itself, or a hierarchical folder's parts and rest."""
    job = json.loads((workdir / "synth_job.json").read_text())
    if job.get("flow") != "hierarchical":
        return [workdir]
    return [workdir / p["dir"] for p in job["parts"]] + [workdir / job["rest"]]


def compose_hierarchical(workdir: Path) -> SynthResult:
    """The core's counts from a finished hierarchical folder: rest + sum(instances x part), cell by cell.
    ``seconds``: the wall time from the first run's start to the last one's end (the elaboration, done when the
    folder was prepared, left out); ``hierarchy["run_seconds"]``: the runs' wall seconds summed, and
    ``hierarchy["cpu_seconds"]`` their CPU seconds (pyosys), the elaboration included in both."""
    job = json.loads((workdir / "synth_job.json").read_text())
    stamps: list[tuple[float, float]] = []
    cells: dict[str, int] = {}
    seconds = {"elaborate": job.get("elab_seconds", 0.0)}
    cpu: dict[str, float | None] = {"elaborate": job.get("elab_cpu_seconds")}
    timings: list[tuple[dict[str, Any], str]] = []
    parts_out = []
    for p in [*job["parts"], {"dir": job["rest"], "module": "rest", "count": 1}]:
        res = json.loads((workdir / p["dir"] / "result.json").read_text())
        for c, n in res["cells"].items():
            if not c.startswith(HIER_PART):
                cells[c] = cells.get(c, 0) + p["count"] * n
        seconds[p["dir"]] = res["seconds"]
        cpu[p["dir"]] = res.get("cpu_seconds")
        if "started" in res:
            stamps.append((res["started"], res["ended"]))
        timings.append((res["timing"], p["dir"]))
        parts_out.append({"module": p["module"], "name": p["dir"], "instances": p["count"], "lut": res["lut"],
                          "ff": res["ff"], "dsp": res["dsp"], "bram": res["bram"], "seconds": res["seconds"],
                          "logic_levels": res["timing"].get("logic_levels")})
    wall_s = round(max(e for _, e in stamps) - min(b for b, _ in stamps), 2) if stamps else None
    out = counts_from_cells(job["kind"], cells)
    rest = json.loads((workdir / job["rest"] / "result.json").read_text())
    out.memories = rest["memories"]
    worst, where = max(timings, key=lambda t: (t[0].get("logic_levels", 0), t[0].get("path_ns", 0.0)))
    out.timing = dict(worst) | {"where": where, "composed": "max over the parts and the rest (register-to-register "
                                                          "inside each; a black box's ports end paths)"}
    out.tool = f"{yosys_version()}: {HIER_STEPS}"
    out.flow = "hierarchical"
    out.hierarchy = {"parts": parts_out, "yosys_runs": len(parts_out) + 1,  # + the elaboration
                     "run_seconds": round(sum(seconds.values()), 2), "seconds_by_run": seconds, "wall_seconds": wall_s,
                     "cpu_seconds": None if None in cpu.values() else round(sum(cpu.values()), 2),
                     "cpu_seconds_by_run": cpu}
    out.cpu_seconds = out.hierarchy["cpu_seconds"]
    out.seconds = wall_s if wall_s is not None else round(sum(seconds.values()), 2)
    return out


def run_prepared(workdir: str | Path, timeout: float | None = None, jobs: int | None = None) -> SynthResult:
    """Run a prepared folder (``prepare_xilinx`` / ``prepare_topn``) and read its results: counts, memories, logic
    depth. Needs only Yosys and this package's pure-Python parts (runs on a machine without simulators too).
    A hierarchical folder runs its parts ``jobs`` at a time (default: one per core) and composes them."""
    workdir = Path(workdir).resolve()
    job = json.loads((workdir / "synth_job.json").read_text())
    t0 = time.perf_counter()
    if job.get("flow") == "hierarchical":
        import os

        leaves = _leaves(workdir)
        status = run_batch(leaves, min(len(leaves), jobs or os.cpu_count() or 1), timeout)
        bad = {k: v for k, v in status.items() if v != "ok"}
        if bad:
            raise RuntimeError(f"hierarchical synthesis: parts failed: {bad}")
        return compose_hierarchical(workdir)
    run_yosys((workdir / "synth_xilinx.ys").read_text(), workdir, "yosys_xilinx.log", timeout=timeout)
    res = finish_xilinx(job["kind"], workdir, job["top"], job.get("flow", "flat"))
    res.seconds = round(time.perf_counter() - t0, 2)
    res.cpu_seconds = _cpu_seconds(workdir, "yosys_xilinx.log")
    return res


def finish_xilinx(kind: str, workdir: Path, top: str = "synth_top", flow: str = "flat") -> SynthResult:
    """Counts, memory inventory and logic depth of a finished synthesis folder."""
    res = counts_from_cells(kind, _stat_cells(workdir / "stat_xilinx.json", top))
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
    script = f"""{_read_cmds(files)}
hierarchy -check -top synth_top
{ABC9_NO_VERIFY}
synth_ecp5 -top synth_top -json core_ecp5.json
tee -q -o stat_ecp5.json stat -json
"""
    run_yosys(script, workdir, "yosys_ecp5.log", timeout=timeout)
    return workdir / "core_ecp5.json"


def _stat_cells(path: Path, top_name: str = "synth_top") -> dict[str, int]:
    data = json.loads(path.read_text())
    mods = data.get("modules", {})
    top = next((v for k, v in mods.items() if k.lstrip("\\") == top_name), None)
    if top is None:
        top = data.get("design", {})
    cells = top.get("num_cells_by_type", {})
    return {k.lstrip("\\"): int(v) for k, v in cells.items()}


def counts_from_cells(kind: str, cells: dict[str, int]) -> SynthResult:
    """Vivado-style counts from Yosys cell types (UltraScale+ primitives)."""
    lut_logic = sum(n for c, n in cells.items() if re.fullmatch(r"LUT[1-6]", c))
    lut_ram = sum(LUTRAM_LUTS[c] * n for c, n in cells.items() if c in LUTRAM_LUTS)
    unknown_ram = [
        c for c in cells if c.startswith(("RAM", "SRL")) and c not in LUTRAM_LUTS and not c.startswith("RAMB")
    ]
    if unknown_ram:
        raise RuntimeError(f"unknown distributed-RAM primitives in the netlist: {unknown_ram}")
    ff = sum(n for c, n in cells.items() if c in FF_CELLS)
    dsp = sum(n for c, n in cells.items() if c in DSP_CELLS)
    bram = sum(n for c, n in cells.items() if c in BRAM36_CELLS) + 0.5 * sum(
        n for c, n in cells.items() if c in BRAM18_CELLS
    )
    uram = sum(n for c, n in cells.items() if c in URAM_CELLS)
    carry = sum(n for c, n in cells.items() if c in CARRY_CELLS)
    muxf = sum(n for c, n in cells.items() if c.startswith("MUXF"))
    return SynthResult(
        kind=kind,
        lut=lut_logic + lut_ram,
        ff=ff,
        dsp=dsp,
        bram=bram,
        carry=carry,
        uram=uram,
        lut_logic=lut_logic,
        lut_ram=lut_ram,
        muxf=muxf,
        cells=dict(sorted(cells.items())),
    )


_MEM_CELL = re.compile(r"^\s*cell \$mem(?:_v2)? (\S+)")
_MEM_PARAM = re.compile(r"^\s*parameter \\(\w+) (.+)$")


def parse_memories(path: Path) -> list[dict[str, Any]]:
    """Memories Yosys inferred before technology mapping: name, width, depth, bits, read/write ports, banks.

    Banks of one memory (same name and width in different generate blocks, e.g. the K memory banked by lane) are
    summed into one entry: the HAD core's ``kmem`` is L x E bits in total."""
    if not path.is_file():
        return []
    mems: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for line in path.read_text().splitlines():
        m = _MEM_CELL.match(line)
        if m:
            cur = {"cell": m.group(1)}
            mems.append(cur)
            continue
        if cur is None:
            continue
        p = _MEM_PARAM.match(line)
        if p:
            cur[p.group(1)] = p.group(2).strip()
        elif line.strip() == "end":
            cur = None
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for m in mems:
        width = _param_int(m.get("WIDTH", "0"))
        size = _param_int(m.get("SIZE", "0"))
        path = m.get("MEMID", m["cell"]).strip('"').lstrip("\\")
        name = path.split(".")[-1]
        # the cores bank a memory by lane (kb[p].kmem, vr[a].vmem, cb[b].cbuf): one entry per (name, width) with the
        # banks summed (depth = rows over all banks, bits = total bits, ports = over all banks)
        e = out.setdefault(
            (name, width),
            {
                "name": name,
                "path": path,
                "width": width,
                "depth": 0,
                "bits": 0,
                "read_ports": 0,
                "write_ports": 0,
                "banks": 0,
            },
        )
        e["depth"] += size
        e["bits"] += width * size
        e["read_ports"] += _param_int(m.get("RD_PORTS", "0"))
        e["write_ports"] += _param_int(m.get("WR_PORTS", "0"))
        e["banks"] += 1
    return sorted(out.values(), key=lambda d: (d["name"], d["width"]))


def _param_int(text: str) -> int:
    text = text.strip()
    m = re.fullmatch(r"(\d+)'([01xz]+)", text)
    if m:
        return int(m.group(2).replace("x", "0").replace("z", "0"), 2)
    try:
        return int(text)
    except ValueError:
        return 0


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
{_write_netlist(design)}
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
        for leaf in _leaves(Path(f).resolve()):
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
        if len(_leaves(path)) == 1 and _leaves(path)[0] == path:
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
