"""Yosys synthesis of the RTL attention cores: UltraScale+ resource counts and the memory inventory.

The core synthesised is ``had_attention_core`` / ``fp_attention_core`` of templates/rtl/ with the parameters and
table files that :func:`had_hls.rtl.design_for` derives from an :class:`~had_hls.spec.AttentionSpec` (the same
integers the co-simulation runs on). Yosys runs in a separate process (its library keeps global state): PyPI
``pyosys`` when installed (Yosys 0.5x+, fastest), else the ``yosys`` program on PATH.

Counted like Vivado's utilisation report (CLB LUTs = logic LUTs + LUTs used as distributed RAM or shift
registers), from ``synth_xilinx -family xcup -flatten``. Yosys is not Vivado: use the counts for ratios between
the HAD and FP cores, not as sign-off numbers.

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
    timing: dict[str, Any] = field(default_factory=dict)  # levels.LogicDepth of the worst register-to-register path
    flow: str = "flat"  # "flat" (synth_xilinx -flatten) or "hierarchical" (each distinct module once)

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
import sys
from pyosys import libyosys as ys
d = ys.Design()
ys.run_pass("script " + sys.argv[1], d)
"""


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

    ``hierarchical``: ``synth_xilinx`` without ``-flatten`` (module boundaries kept; the mapped netlist is flattened
    afterwards for the counts and the logic levels). Measured (benchmarks/synth_flows.py): not faster than flat, and
    up to 26 % off the flat counts, since optimisation stops at the boundaries; issue 13's per-module-once flow is not
    built yet. The memory inventory comes from a flattened copy of the RTL
    either way (every bank of a memory is counted)."""
    workdir = Path(workdir).resolve()
    files = prepare_sources(design, workdir)
    flags = "-noiopad" if hierarchical else "-flatten -noiopad"
    script = f"""{_read_cmds(files)}
hierarchy -check -top synth_top
proc
design -save rtl
flatten
opt_clean
memory_collect
tee -q -o memories.il dump t:$mem_v2 t:$mem
design -load rtl
{ABC9_NO_VERIFY}
synth_xilinx -family xcup -top synth_top {flags}
flatten
tee -q -o stat_xilinx.json stat -json
{WRITE_NETLIST}
"""
    (workdir / "synth_xilinx.ys").write_text(script)
    (workdir / "synth_job.json").write_text(
        json.dumps({"kind": design.kind, "top": "synth_top", "flow": "hierarchical" if hierarchical else "flat"}))
    return workdir


def run_prepared(workdir: str | Path, timeout: float | None = None) -> SynthResult:
    """Run a prepared folder (``prepare_xilinx`` / ``prepare_topn``) and read its results: counts, memories, logic
    depth. Needs only Yosys and this package's pure-Python parts (runs on a machine without simulators too)."""
    workdir = Path(workdir).resolve()
    job = json.loads((workdir / "synth_job.json").read_text())
    t0 = time.perf_counter()
    run_yosys((workdir / "synth_xilinx.ys").read_text(), workdir, "yosys_xilinx.log", timeout=timeout)
    res = finish_xilinx(job["kind"], workdir, job["top"], job.get("flow", "flat"))
    res.seconds = round(time.perf_counter() - t0, 2)
    return res


def finish_xilinx(kind: str, workdir: Path, top: str = "synth_top", flow: str = "flat") -> SynthResult:
    """Counts, memory inventory and logic depth of a finished synthesis folder."""
    res = counts_from_cells(kind, _stat_cells(workdir / "stat_xilinx.json", top))
    res.memories = parse_memories(workdir / "memories.il")
    res.timing = logic_depth(workdir / NETLIST_JSON, top).as_dict()
    steps = XILINX_STEPS if flow == "flat" else XILINX_STEPS.replace("-flatten ", "") + ", hierarchical"
    res.tool = f"{yosys_version()}: {steps}"
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
    ``error.txt``. Returns {folder: "ok" | error line}."""
    from concurrent.futures import ProcessPoolExecutor

    status: dict[str, str] = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_run_one, str(f), timeout): str(f) for f in folders}
        for fut in futures:
            status[futures[fut]] = fut.result()
    return status


def _run_one(folder: str, timeout: float | None) -> str:
    path = Path(folder)
    try:
        res = run_prepared(path, timeout=timeout)
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        line = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        (path / "error.txt").write_text(line + "\n")
        return line
    (path / "result.json").write_text(json.dumps(res.as_dict()))
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
