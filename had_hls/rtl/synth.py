"""Yosys synthesis of the RTL twin and the gate-level netlist for the gate-level co-simulation check.

``synthesize(design, workdir)`` writes the design (cosim_dut.v + tables) into ``workdir``, runs Yosys there
(the $readmemh tables become LUT/ROM contents) and writes ``netlist.v``: flattened, Xilinx 7-series cells
(``synth_xilinx``) or Yosys's generic gates (``synth``). ``gate_level_sources`` lists what a simulator needs
to run the netlist under verification/rtl/tb_attention.v: the netlist plus Yosys's own cell models
(share/xilinx/cells_sim.v, or share/simcells.v + simlib.v).
Resource counts of Yosys are not calibrated against Vivado: use them as ratios (HAD vs FP), not absolutes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from had_hls.errors import MissingToolError
from had_hls.rtl.generate import RtlDesign
from had_hls.rtl.sim import INSTALL, source_files


@dataclass
class SynthResult:
    netlist: Path
    target: str
    cells: dict[str, int]
    seconds: float  # wall time of this call (0 when an existing netlist was reused)
    cpu_s: float | None = None  # Yosys's own CPU time (from synth.log), also for a reused netlist


def yosys_path() -> str:
    path = shutil.which("yosys")
    if path is None:
        raise MissingToolError(
            f"yosys not found on PATH (needed for the gate-level check): install with {INSTALL['yosys']}"
        )
    return path


def yosys_datdir() -> Path:
    cfg = shutil.which("yosys-config")
    if cfg:
        out = subprocess.run([cfg, "--datdir"], capture_output=True, text=True).stdout.strip()
        if out:
            return Path(out)
    return Path(yosys_path()).resolve().parents[1] / "share" / "yosys"


def synthesize(design: RtlDesign, workdir: Path, target: str = "xilinx", reuse: bool = False) -> SynthResult:
    """Synthesize ``cosim_dut`` (the whole layer from the projections on: core + FIFO + Wo) with Yosys.

    ``reuse``: keep an existing netlist.v (and synth.log) of the same design in ``workdir``."""
    yosys = yosys_path()
    workdir = Path(workdir).resolve()
    wrapper = workdir / "cosim_dut.v"
    if reuse and (workdir / "netlist.v").is_file() and wrapper.is_file() and wrapper.read_text() == design.wrapper():
        log = workdir / "synth.log"
        return SynthResult(workdir / "netlist.v", target, _cells(log), 0.0, _cpu(log))
    design.write(workdir)
    srcs = " ".join(str(p) for p in [*source_files(), workdir / "cosim_dut.v"])
    # -nobram: Yosys's share/xilinx/cells_sim.v models RAMB18E1 / RAMB36E1 with timing only (their outputs stay z in
    # simulation), so the gate-level netlist keeps its memories in LUTRAM / LUTs, which have behavioural models
    xilinx = "synth_xilinx -flatten -noiopad -nobram -top cosim_dut"
    synth = xilinx if target == "xilinx" else "synth -flatten -top cosim_dut"
    script = f"read_verilog -defer {srcs}\nhierarchy -top cosim_dut\n{synth}\nstat\nwrite_verilog -noattr netlist.v\n"
    (workdir / "synth.ys").write_text(script)
    t0 = time.perf_counter()
    proc = subprocess.run([yosys, "-q", "-l", "synth.log", "synth.ys"], cwd=workdir, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-10:]
        raise RuntimeError("yosys failed:\n" + "\n".join(tail))
    log = workdir / "synth.log"
    return SynthResult(workdir / "netlist.v", target, _cells(log), seconds, _cpu(log))


def synthesize_topn(
    lanes: int, seq_len: int, head_dim: int, top_n: int, workdir: Path, masked: bool = False
) -> list[Path]:
    """topn_stream #(P, L, D, N) alone as a Xilinx gate-level netlist (``synth_xilinx -nobram``: block RAMs have no
    behavioural model in cells_sim.v); returns [netlist.v, cells_sim.v] for a simulator."""
    from had_hls.rtl.topn_sim import TOPN_SOURCE

    yosys = yosys_path()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    params = f"-set P {lanes} -set L {seq_len} -set D {head_dim} -set N {top_n} -set MASKED {int(masked)}"
    script = (
        f"read_verilog -defer {TOPN_SOURCE}\nchparam {params} topn_stream\nhierarchy -top topn_stream\n"
        "synth_xilinx -flatten -noiopad -nobram -top topn_stream\nstat\nwrite_verilog -noattr netlist.v\n"
    )
    (workdir / "synth.ys").write_text(script)
    proc = subprocess.run([yosys, "-q", "-l", "synth.log", "synth.ys"], cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-10:]
        raise RuntimeError("yosys failed:\n" + "\n".join(tail))
    return gate_level_sources(SynthResult(workdir / "netlist.v", "xilinx", _cells(workdir / "synth.log"), 0.0))


def gate_level_sources(result: SynthResult) -> list[Path]:
    dat = yosys_datdir()
    if result.target == "xilinx":
        models = [dat / "xilinx" / "cells_sim.v"]  # cells_xtra.v is not Verilog-2005 (Icarus rejects it)
    else:
        models = [dat / "simcells.v", dat / "simlib.v"]
    return [result.netlist, *[m for m in models if m.is_file()]]


def _cells(log: Path) -> dict[str, int]:
    """Cell counts of the last ``stat`` in a Yosys log."""
    text = log.read_text()
    last = text.rfind("Number of cells:")
    cells: dict[str, int] = {}
    if last < 0:
        return cells
    for line in text[last:].splitlines()[1:]:
        m = re.match(r"^\s+(\S+)\s+(\d+)\s*$", line)
        if m:
            cells[m.group(1)] = int(m.group(2))
        elif line.strip() == "" and cells:
            break
    total = re.search(r"Number of cells:\s+(\d+)", text[last:])
    if total:
        cells["total"] = int(total.group(1))
    return cells


def _cpu(log: Path) -> float | None:
    """Yosys's 'CPU: user X s system Y s' of the whole script."""
    m = re.findall(r"CPU: user ([0-9.]+)s system ([0-9.]+)s", log.read_text()) if log.is_file() else []
    return round(float(m[-1][0]) + float(m[-1][1]), 1) if m else None
