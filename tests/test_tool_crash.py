"""A compiler or simulator that crashes: one line naming the tool, the signal and a log kept under --out; exit 1.

The crashing tools are stand-ins put first on PATH (a script that kills itself with SIGSEGV), so the real flow runs
up to the tool: hls4ml writes the project and runs had-hls's build_lib.sh, which calls ``g++``; the co-simulation
calls ``verilator``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from had_hls.cli import main

CRASH = '#!/bin/sh\necho "$0: about to crash" >&2\nkill -SEGV $$\n'


@pytest.fixture
def crashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def install(*names: str) -> None:
        bin_dir = tmp_path / "crashing-bin"
        bin_dir.mkdir(exist_ok=True)
        for name in names:
            (bin_dir / name).write_text(CRASH)
            (bin_dir / name).chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    return install


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def test_crashing_compiler(tmp_path: Path, project_file, crashing, capsys: pytest.CaptureFixture[str]) -> None:
    crashing("g++")
    out = tmp_path / "out"
    assert main(["csim", str(project_file()), "--out", str(out), "--vectors", "1", "--quiet"]) == 1
    err = _one_line(capsys)
    match = re.fullmatch(r"had-hls csim: error: g\+\+ \((\S+)\) was killed by SIGSEGV \(signal 11\); log: (\S+)", err)
    assert match, err
    log = Path(match.group(2))
    assert log.parent == out / "logs" and log.is_file()
    assert "about to crash" in log.read_text()
    assert sorted(p.name for p in out.iterdir()) == ["logs"]  # nothing but the log
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crashing-bin", "out", "t.yaml"]  # no temporary folder


def test_crashing_simulator(tmp_path: Path, project_file, crashing, capsys: pytest.CaptureFixture[str]) -> None:
    crashing("verilator")
    out = tmp_path / "out"
    argv = ["cosim", str(project_file()), "--out", str(out), "--no-csim", "--simulator", "verilator", "--quiet"]
    assert main(argv) == 1
    err = _one_line(capsys)
    match = re.fullmatch(r"had-hls cosim: error: verilator was killed by SIGSEGV \(signal 11\); log: (\S+)", err)
    assert match, err
    log = Path(match.group(1))
    assert log.parent == out / "logs" and log.name.startswith("rtl-") and log.is_file()
    assert "verilator" in log.read_text()
    assert sorted(p.name for p in out.iterdir()) == ["logs"]
