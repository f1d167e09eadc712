"""Simulator discovery and build + run of verification/rtl/tb_attention.v around a generated cosim_dut.

Both simulators run the same Verilog test bench: Icarus Verilog (``iverilog -g2005`` + ``vvp``) and Verilator
(``--cc --exe --build --timing --main``: Verilator >= 5.0 schedules the bench's delays itself, no C++ harness).
A missing tool raises :class:`had_hls.errors.MissingToolError` with one line naming it and the install command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from had_hls import procs
from had_hls.errors import MissingToolError, UserError
from had_hls.golden import GoldenTrace
from had_hls.rtl.generate import RTL_SOURCES, RTL_TEMPLATE_DIR, TB_DIR, TB_SOURCE, RtlDesign

SIMULATORS = ("verilator", "icarus")
INSTALL = {
    "verilator": "sudo apt-get install -y verilator  (Debian/Ubuntu; needs Verilator >= 5.0 for --timing)",
    "iverilog": "sudo apt-get install -y iverilog  (Debian/Ubuntu)",
    "vvp": "sudo apt-get install -y iverilog  (Debian/Ubuntu)",
    "yosys": "sudo apt-get install -y yosys  (Debian/Ubuntu)",
}
_TOOLS = {"verilator": ("verilator",), "icarus": ("iverilog", "vvp")}


@dataclass
class SimResult:
    """Rows and handshake times (cycles after reset) of one simulation of K inputs."""

    simulator: str
    ctx: np.ndarray  # (K, L, E) context mantissas leaving the core
    y: np.ndarray  # (K, L, E) result mantissas
    in_cycles: np.ndarray  # (K, L) cycle of each accepted input beat
    ctx_cycles: np.ndarray  # (K, L)
    y_cycles: np.ndarray  # (K, L)
    end_cycle: int
    build_s: float
    run_s: float
    vcd: Path | None = None
    log: list[str] = field(default_factory=list)


def find_simulator(name: str) -> dict[str, str]:
    """Paths of the programs of simulator ``name`` ('verilator' or 'icarus'), or MissingToolError."""
    if name not in _TOOLS:
        raise UserError(f"--simulator: {name!r} is not allowed; allowed: {', '.join(SIMULATORS)}")
    paths = {}
    for tool in _TOOLS[name]:
        path = shutil.which(tool)
        if path is None:
            raise MissingToolError(
                f"{tool} not found on PATH (needed for --simulator {name}): install with {INSTALL[tool]}"
            )
        paths[tool] = path
    return paths


def available_simulators() -> list[str]:
    out = []
    for name in SIMULATORS:
        try:
            find_simulator(name)
        except MissingToolError:
            continue
        out.append(name)
    return out


def default_simulator() -> str:
    """Verilator when installed (faster for many vectors), else Icarus; MissingToolError when neither is."""
    avail = available_simulators()
    if not avail:
        raise MissingToolError(
            "no RTL simulator found on PATH (verilator or iverilog): install with "
            "sudo apt-get install -y verilator iverilog"
        )
    return avail[0]


def source_files() -> list[Path]:
    return [RTL_TEMPLATE_DIR / f for f in RTL_SOURCES]


def run_simulation(
    design: RtlDesign,
    traces: list[GoldenTrace],
    masks: list[np.ndarray | None],
    workdir: Path,
    simulator: str = "verilator",
    vcd_vectors: int = 0,
    vcd_cycles: int = 0,
    stall_seed: int = 0,
    vcd_start: int = 0,
    dut_sources: list[Path] | None = None,
    max_cycles: int | None = None,
    max_rows: int | None = None,
    vcd_only: bool = False,
    dump_scope: str | None = None,
) -> SimResult:
    """Write the design and vectors into ``workdir``, build, simulate, and parse the rows back.

    ``dut_sources`` replaces templates/rtl/*.v + cosim_dut.v (the gate-level check passes a netlist).
    ``stall_seed`` != 0 drives out_ready from an LFSR (back-pressure). ``vcd_vectors`` > 0: before the full run,
    a run of only the first ``vcd_vectors`` inputs writes ``activity.vcd`` (toggle activity for the power report;
    the whole run would make a file of gigabytes), from the same build; ``vcd_cycles`` > 0 also ends that run
    after so many cycles (the VCD of one attn_demo input, 8.4k cycles, is ~0.5 GB); ``vcd_start`` > 0 begins the
    file at that cycle, so the window [vcd_start, vcd_cycles) can leave out the loading of the keys.
    ``max_rows`` (one input only): the run ends after that many result rows, and only they are returned (a long
    sequence's first query rows: enough for the cycles per query and a steady-state activity window).
    ``vcd_only``: run only that activity run; the result then holds the context rows it produced (``ctx`` of shape
    (rows, E), ``y`` empty). ``dump_scope``: dump only the nets of this scope of the test bench, one level deep
    (e.g. ``dut.core``: a flat netlist's nets without its cell models' insides).
    """
    if max_rows is not None and (len(traces) != 1 or not 2 <= max_rows <= design.spec.seq_len):
        raise ValueError(f"max_rows {max_rows}: one input and 2 <= max_rows <= L only")
    if vcd_cycles and vcd_start >= vcd_cycles:
        raise ValueError(f"vcd_start {vcd_start} must be below vcd_cycles {vcd_cycles}")
    vcd = vcd_vectors > 0
    tools = find_simulator(simulator)
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    design.write(workdir)
    s = design.spec
    k = len(traces)
    nbeats = k * s.seq_len
    (workdir / "vectors.hex").write_text("\n".join(design.encode_inputs(traces, masks)) + "\n")
    if max_cycles is None:
        per_input = s.seq_len * (s.num_heads * design.groups + s.embed_dim + 8) + 4 * design.groups + 64
        max_cycles = 4 * k * per_input + 1000
    cfg = [
        f"`define NBEATS {nbeats}",
        f"`define L {s.seq_len}",
        f"`define E {s.embed_dim}",
        f"`define QW {design.qk_width}",
        f"`define VW {s.precision.value.width}",
        f"`define CW {s.precision.context.width}",
        f"`define YW {s.precision.result.width}",
        f"`define IN_W {design.in_width}",
        f"`define MAX_CYCLES {max_cycles}",
        '`define VEC_FILE "vectors.hex"',
        '`define OUT_FILE "sim_out.txt"',
        f"`define STALL_SEED {int(stall_seed)}",
    ]
    if vcd:
        cfg += ["`define DUMP_VCD", '`define VCD_FILE "activity.vcd"']
        if dump_scope:
            cfg += [f"`define DUMP_SCOPE {dump_scope}", "`define DUMP_DEPTH 1"]
    (workdir / "cosim_config.vh").write_text("\n".join(cfg) + "\n")
    srcs = [str(p) for p in (dut_sources or [*source_files(), workdir / "cosim_dut.v"])]
    tb = str(TB_DIR / TB_SOURCE)
    out = workdir / "sim_out.txt"
    if out.exists():
        out.unlink()

    vcd_args = ["+vcd", f"+nbeats={min(vcd_vectors, k) * s.seq_len}", f"+stop={vcd_cycles}", f"+start={vcd_start}"]
    row_args = [f"+rows={max_rows}"] if max_rows else []
    t0 = time.perf_counter()
    if simulator == "icarus":
        run_tool([tools["iverilog"], "-g2005", "-I", str(workdir), "-s", "tb", "-o", "sim.vvp", tb, *srcs], workdir)
        build_s = time.perf_counter() - t0
        if vcd:
            run_tool([tools["vvp"], "-n", "sim.vvp", *vcd_args], workdir)
        t1 = time.perf_counter()
        if not vcd_only:
            run_tool([tools["vvp"], "-n", "sim.vvp", *row_args], workdir)
    else:
        cmd = [
            tools["verilator"], "--cc", "--exe", "--build", "--timing", "--main", "-j", str(os.cpu_count() or 1),
            "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-MULTIDRIVEN", "-Wno-UNOPTFLAT",
            "--top-module", "tb", "-I" + str(workdir), "--Mdir", "obj_dir", "-o", "Vtb",
            "-MAKEFLAGS", "OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O0",
        ]
        if vcd:
            cmd += ["--trace", "--no-trace-params"]  # parameters are constants, not hardware
        run_tool([*cmd, tb, *srcs], workdir)
        build_s = time.perf_counter() - t0
        if vcd:
            run_tool([str(workdir / "obj_dir" / "Vtb"), *vcd_args], workdir)
        t1 = time.perf_counter()
        if not vcd_only:
            run_tool([str(workdir / "obj_dir" / "Vtb"), *row_args], workdir)
    run_s = time.perf_counter() - t1
    if vcd_only:
        return _parse_window(design, out, simulator, build_s, t1 - t0 - build_s, workdir / "activity.vcd")
    return _parse(design, out, k, simulator, build_s, run_s, (workdir / "activity.vcd") if vcd else None, max_rows)


def run_tool(cmd: list[str], cwd: Path) -> None:
    """Run one step with its output appended to ``cwd/sim.log``; ToolError (tool, status or signal, log) on failure,
    the step's process tree killed on any exception (had_hls.procs.run_tool)."""
    name = Path(cmd[0]).name
    tool = f"{name} (the compiled Verilator model)" if name == "Vtb" else name
    procs.run_tool(cmd, cwd, cwd / "sim.log", tool=tool)


def _parse(design: RtlDesign, path: Path, k: int, simulator: str, build_s: float, run_s: float,
           vcd: Path | None, max_rows: int | None = None) -> SimResult:
    if not path.is_file():
        raise RuntimeError(f"{simulator}: the test bench wrote no {path.name}")
    s = design.spec
    ins: list[int] = []
    ctx_rows, ctx_cyc, y_rows, y_cyc = [], [], [], []
    end = -1
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "I":
            ins.append(int(parts[1]))
        elif parts[0] == "C":
            ctx_cyc.append(int(parts[1]))
            ctx_rows.append(design.decode_row(parts[2], "C"))
        elif parts[0] == "Y":
            y_cyc.append(int(parts[1]))
            y_rows.append(design.decode_row(parts[2], "Y"))
        elif parts[0] == "END":
            end = int(parts[1])
        elif parts[0] == "TIMEOUT":
            raise RuntimeError(
                f"{simulator}: simulation timed out at cycle {parts[1]} with {len(y_rows)} of {k * s.seq_len} "
                "result rows (the design hung)"
            )
    n = k * s.seq_len
    rows = max_rows or s.seq_len
    if len(y_rows) != k * rows or len(ctx_rows) < k * rows or len(ins) != n:
        raise RuntimeError(f"{simulator}: expected {k * rows} rows, got {len(ins)} in / {len(ctx_rows)} ctx / "
                           f"{len(y_rows)} y")
    ctx_rows, ctx_cyc = ctx_rows[: k * rows], ctx_cyc[: k * rows]
    shape = (k, rows, s.embed_dim)
    return SimResult(
        simulator=simulator,
        ctx=np.stack(ctx_rows).reshape(shape),
        y=np.stack(y_rows).reshape(shape),
        in_cycles=np.asarray(ins).reshape(k, s.seq_len),
        ctx_cycles=np.asarray(ctx_cyc).reshape(k, rows),
        y_cycles=np.asarray(y_cyc).reshape(k, rows),
        end_cycle=end,
        build_s=build_s,
        run_s=run_s,
        vcd=vcd,
    )


def _parse_window(design: RtlDesign, path: Path, simulator: str, build_s: float, run_s: float,
                  vcd: Path) -> SimResult:
    """The context rows (and their cycles) that an activity run, cut at +stop, produced: whole rows only."""
    if not path.is_file():
        raise RuntimeError(f"{simulator}: the test bench wrote no {path.name}")
    rows, cyc, ins = [], [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "C":
            cyc.append(int(parts[1]))
            rows.append(design.decode_row(parts[2], "C"))
        elif parts and parts[0] == "I":
            ins.append(int(parts[1]))
    e = design.spec.embed_dim
    empty = np.zeros((0, e), dtype=np.int64)
    return SimResult(simulator=simulator, ctx=np.stack(rows) if rows else empty, y=empty,
                     in_cycles=np.asarray(ins), ctx_cycles=np.asarray(cyc), y_cycles=np.zeros(0, dtype=np.int64),
                     end_cycle=-1, build_s=build_s, run_s=run_s, vcd=vcd)


def simulator_version(name: str) -> str:
    """First line of the simulator's version banner (e.g. 'Verilator 5.006 2023-01-22 rev ...')."""
    tools = find_simulator(name)
    cmd = [tools["verilator"], "--version"] if name == "verilator" else [tools["iverilog"], "-V"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0] if lines else name
