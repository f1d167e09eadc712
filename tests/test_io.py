"""Staged outputs: nothing half-written, and commands sharing projects/<name>/hls/ keep each other's projects."""

from __future__ import annotations

import pytest

from had_hls.io import staged_output


def test_failure_leaves_the_output_folder_untouched(tmp_path):
    out = tmp_path / "p"
    out.mkdir()
    (out / "csim.json").write_text("old")
    with pytest.raises(RuntimeError), staged_output(out) as stage:
        (stage / "csim.json").write_text("new")
        raise RuntimeError("boom")
    assert (out / "csim.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]  # no temporary folder left


def test_success_replaces_entries_and_keeps_other_commands_outputs(tmp_path):
    out = tmp_path / "p"
    (out / "hls" / "model").mkdir(parents=True)
    (out / "hls" / "model" / "build_prj.tcl").write_text("convert")
    (out / "hls" / "had").mkdir()
    (out / "hls" / "had" / "stale.h").write_text("stale")
    (out / "cosim.json").write_text("{}")
    with staged_output(out) as stage:
        (stage / "hls" / "had").mkdir(parents=True)
        (stage / "hls" / "had" / "fresh.h").write_text("fresh")
        (stage / "csim.json").write_text("{}")
    assert (out / "hls" / "model" / "build_prj.tcl").read_text() == "convert"
    assert not (out / "hls" / "had" / "stale.h").exists()
    assert (out / "hls" / "had" / "fresh.h").exists()
    assert (out / "cosim.json").exists() and (out / "csim.json").exists()


def test_new_output_folder_appears_only_on_success(tmp_path):
    out = tmp_path / "new"
    with staged_output(out) as stage:
        assert not out.exists()
        (stage / "a.txt").write_text("a")
    assert (out / "a.txt").read_text() == "a"


# ------------------------------------------------------------------------------------------------ whole-tree swap
def test_new_output_folder_gets_the_umask_permissions(tmp_path):
    import os

    for umask, mode in ((0o022, 0o755), (0o027, 0o750)):
        old = os.umask(umask)
        try:
            out = tmp_path / f"new_{umask:o}"
            with staged_output(out) as stage:
                (stage / "hls" / "had").mkdir(parents=True)
        finally:
            os.umask(old)
        assert out.stat().st_mode & 0o777 == mode
        assert (out / "hls").stat().st_mode & 0o777 == mode


def test_existing_folder_is_swapped_whole_and_keeps_other_outputs_by_hard_link(tmp_path):
    out = tmp_path / "p"
    (out / "rtl" / "had").mkdir(parents=True)
    (out / "rtl" / "had" / "sim.log").write_text("cosim")
    (out / "csim.json").write_text("old")
    out.chmod(0o750)
    kept = (out / "rtl" / "had" / "sim.log").stat().st_ino
    folder = out.stat().st_ino
    with staged_output(out) as stage:
        (stage / "csim.json").write_text("new")
        assert (out / "csim.json").read_text() == "old"  # nothing of the new run is visible before the swap
    assert out.stat().st_ino != folder  # a new folder took the old one's place
    assert out.stat().st_mode & 0o777 == 0o750  # with the old one's permissions
    assert (out / "csim.json").read_text() == "new"
    assert (out / "rtl" / "had" / "sim.log").stat().st_ino == kept  # the other command's file, not a copy
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_failure_while_completing_the_new_tree_leaves_the_old_one(tmp_path, monkeypatch):
    from had_hls import io as io_mod

    out = tmp_path / "p"
    (out / "a").mkdir(parents=True)
    (out / "a" / "x.txt").write_text("x")
    (out / "csim.json").write_text("old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(io_mod, "_link_tree", broken)
    with pytest.raises(OSError, match="disk full"), staged_output(out) as stage:
        (stage / "csim.json").write_text("new")
    assert (out / "csim.json").read_text() == "old" and (out / "a" / "x.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_failure_removes_the_parent_folders_it_created(tmp_path):
    with pytest.raises(RuntimeError), staged_output(tmp_path / "a" / "b" / "out") as stage:
        (stage / "x").write_text("x")
        raise RuntimeError("late bad input")
    assert list(tmp_path.iterdir()) == []


def test_failure_kills_processes_still_working_in_the_staging_folder(tmp_path):
    import subprocess

    from had_hls.procs import wait_gone

    with pytest.raises(KeyboardInterrupt), staged_output(tmp_path / "out") as stage:
        # an orphaned compiler: started outside our control, working inside the temporary folder
        proc = subprocess.Popen(["sleep", "60"], cwd=stage, start_new_session=True)
        raise KeyboardInterrupt
    assert wait_gone([proc.pid]) == []
    proc.wait(timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_tool_keeps_its_log_under_out(tmp_path):
    from had_hls.procs import ToolError, run_tool

    out = tmp_path / "out"
    with pytest.raises(ToolError) as err, staged_output(out) as stage:
        work = stage / "rtl" / "had"
        work.mkdir(parents=True)
        run_tool(["sh", "-c", "echo 'error: the design is wrong'; kill -SEGV $$"], work, work / "sim.log", tool="sim")
    kept = out / "logs" / "rtl-had-sim.log"
    assert err.value.log == kept and kept.is_file()
    assert "error: the design is wrong" in kept.read_text()
    assert str(err.value) == f"sim was killed by SIGSEGV (signal 11); log: {kept}"
    assert sorted(p.name for p in out.iterdir()) == ["logs"]  # only the log: no half-written outputs


def test_two_commands_finishing_into_one_folder_keep_each_others_outputs(tmp_path):
    import threading

    out = tmp_path / "p"
    out.mkdir()
    barrier = threading.Barrier(2)

    def command(name):
        with staged_output(out) as stage:
            (stage / f"{name}.json").write_text(name)
            barrier.wait()

    threads = [threading.Thread(target=command, args=(n,)) for n in ("csim", "cosim")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.name for p in out.iterdir()) == ["cosim.json", "csim.json"]


def test_write_json_is_atomic_and_writes_null_for_non_finite(tmp_path):
    import json

    import numpy as np

    from had_hls.io import write_json

    path = tmp_path / "r.json"
    write_json(path, {"a": float("inf"), "b": [np.float64("nan"), 1.5], "c": np.int64(3)})
    assert json.loads(path.read_text()) == {"a": None, "b": [None, 1.5], "c": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
