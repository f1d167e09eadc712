"""The Yosys runner: which Yosys (PyPI ``pyosys`` when installed, else the ``yosys`` program), running a script in a
separate process (Yosys keeps global state) with its CPU seconds, and its version.

ABC9's closing self-check is switched off in every synthesis script (``scratchpad -set abc9.verify 0``,
:data:`ABC9_NO_VERIFY`): after mapping, ABC9 runs ``&verify``, a combinational equivalence check of its own output
against its input. It does not change the netlist, and on the multiplier-rich FP core it is the slow step (the FP
core at L = 512, d = 64 had its 89k LUTs mapped and then spent more than 8 minutes in ``&verify`` on a 16-core host).
The cores' function is checked where it matters: RTL co-simulation bit for bit against the golden model, and the
gate-level co-simulation of a synthesised netlist.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

from had_hls.errors import MissingToolError
from had_hls.procs import run_tool

INSTALL_YOSYS = "pip install pyosys  (or: apt-get install -y yosys)"
# skip ABC9's post-mapping equivalence self-check (&verify): same netlist, minutes less on large cores
ABC9_NO_VERIFY = "scratchpad -set abc9.verify 0"


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


def cpu_seconds(workdir: Path, log_name: str) -> float | None:
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

