"""The C test bench of a generated hls4ml project, fed and run the way Vitis HLS C simulation runs it.

Every project had-hls writes ships tb_data/tb_input_features.dat (real inputs, one sample a line: every input of the
top function in port order) and tb_data/tb_output_predictions.dat (the expected outputs: golden for the attention
layers, the C-sim logits for the whole model). Its test bench (hls4ml's, made to check by had_hls.hls.top_style)
compares every output exactly and returns 1 on a mismatch, so ``csim_design`` in build_prj.tcl fails.

:func:`run_testbench` compiles that test bench with g++ as ``csim_design`` would: the sources that build_prj.tcl adds
(firmware/<top>.cpp and <top>_test.cpp), the standard it gives them (``add_files ... -cflags "-std=c++0x"``), no
``__SYNTHESIS__`` and none of had-hls's C-sim fast paths (HAD_HLS_FAST_CSIM_ENABLE is only set by the Python
bridge's build_lib.sh): the ap_fixed code that is synthesized. Vitis itself compiles with its bundled compiler,
without optimisation unless ``csim_design -O``; so does this (``opt``).
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CXX_STANDARD = "c++0x"  # hls4ml 1.3.0's build_prj.tcl: add_files firmware/<top>.cpp -cflags "-std=c++0x"


def write_dat(path: Path, rows: np.ndarray) -> None:
    """hls4ml's test-bench format: one sample a line, values separated by spaces, exact (repr of the double)."""
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    path.write_text("".join(" ".join(repr(float(v)) for v in row) + " \n" for row in rows))


def write_tb_data(project_dir: Path, inputs: list[np.ndarray], expected: np.ndarray) -> None:
    """tb_data/tb_input_features.dat (the inputs of each sample concatenated in port order) and
    tb_data/tb_output_predictions.dat (the expected outputs)."""
    tb = Path(project_dir) / "tb_data"
    tb.mkdir(parents=True, exist_ok=True)
    n = len(expected)
    write_dat(tb / "tb_input_features.dat", np.concatenate([np.asarray(a).reshape(n, -1) for a in inputs], axis=1))
    write_dat(tb / "tb_output_predictions.dat", np.asarray(expected).reshape(n, -1))


@dataclass
class TestbenchRun:
    """One compile + run of a project's C test bench."""

    returncode: int
    vectors: int
    mismatches: int
    compile_s: float
    run_s: float
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and self.mismatches == 0 and self.vectors > 0


def top_function(project_dir: Path) -> str:
    """The top function's name: the project's <top>_test.cpp."""
    tests = sorted(Path(project_dir).glob("*_test.cpp"))
    if len(tests) != 1:
        raise FileNotFoundError(f"{project_dir}: expected one <top>_test.cpp, found {len(tests)}")
    return tests[0].name[: -len("_test.cpp")]


EXE = "csim_tb"


def build_testbench(project_dir: Path, timeout: float = 900, opt: str = "-O0") -> tuple[int, float, str]:
    """Compile the project's C test bench (module docstring) into ``project_dir``/csim_tb: (status, seconds,
    compiler messages)."""
    project_dir = Path(project_dir)
    top = top_function(project_dir)
    cmd = [
        "g++", f"-std={CXX_STANDARD}", opt, "-w", "-Ifirmware/ap_types", "-Ifirmware",
        '-DWEIGHTS_DIR="firmware/weights"', f"firmware/{top}.cpp", f"{top}_test.cpp", "-o", EXE,
    ]  # fmt: skip
    t0 = time.perf_counter()
    built = subprocess.run(cmd, cwd=project_dir, capture_output=True, text=True, timeout=timeout)
    return built.returncode, time.perf_counter() - t0, built.stderr[-4000:]


def run_testbench(project_dir: Path, timeout: float = 900, opt: str = "-O0", build: bool = True) -> TestbenchRun:
    """Compile (unless ``build`` is False and csim_tb exists) and run the project's C test bench."""
    project_dir = Path(project_dir)
    compile_s = 0.0
    if build or not (project_dir / EXE).is_file():
        status, compile_s, messages = build_testbench(project_dir, timeout, opt)
        if status != 0:
            return TestbenchRun(status, 0, 0, compile_s, 0.0, messages)
    exe = project_dir / EXE
    t0 = time.perf_counter()
    ran = subprocess.run([f"./{exe.name}"], cwd=project_dir, capture_output=True, text=True, timeout=timeout)
    run_s = time.perf_counter() - t0
    out = ran.stdout + ran.stderr
    match = re.search(r"ERROR: (\d+) output values differ", out)
    vectors = re.search(r"INFO: all (\d+) test vectors match", out)
    return TestbenchRun(
        returncode=ran.returncode,
        vectors=int(vectors.group(1)) if vectors else 0,
        mismatches=int(match.group(1)) if match else 0,
        compile_s=compile_s,
        run_s=run_s,
        output=out[-4000:],
    )
