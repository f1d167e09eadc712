"""--out with the real flow: a csim into a folder that holds another command's outputs replaces the whole tree at
once and keeps those outputs; a second csim that fails late (its compiler crashes) leaves every file as the first
run wrote it (no mix of old and new), plus the crashed compiler's log. The bad --out values are rows of
tests/test_bad_input.py; the swap itself is unit-tested in tests/test_io.py."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from had_hls.cli import main

pytestmark = pytest.mark.slow


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_csim_into_an_existing_folder_then_a_failed_run(tmp_path, project_file, monkeypatch, capsys) -> None:
    out = tmp_path / "out"
    (out / "hls" / "model").mkdir(parents=True)
    (out / "hls" / "model" / "build_prj.tcl").write_text("convert's project")
    (out / "cosim.json").write_text("{}")
    old_inode = out.stat().st_ino
    old_umask = os.umask(0o022)
    try:
        assert main(["csim", str(project_file()), "--out", str(out), "--vectors", "2", "--quiet"]) == 0
    finally:
        os.umask(old_umask)
    assert out.stat().st_ino != old_inode  # swapped in whole
    assert (out / "hls" / "model" / "build_prj.tcl").read_text() == "convert's project"
    assert (out / "cosim.json").read_text() == "{}"
    assert {p.name for p in (out / "hls").iterdir()} == {"had", "fp", "model"}
    assert (out / "hls" / "had").stat().st_mode & 0o777 == 0o755
    first = _tree(out)
    capsys.readouterr()

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "g++").write_text("#!/bin/sh\nkill -SEGV $$\n")
    (bin_dir / "g++").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert main(["csim", str(project_file()), "--out", str(out), "--vectors", "3", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "g++" in err and "SIGSEGV" in err and str(out / "logs") in err
    after = _tree(out)
    logs = {k for k in after if k.startswith("logs/")}
    assert len(logs) == 1
    assert {k: v for k, v in after.items() if k not in logs} == first  # every old file as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "out", "t.yaml"]
