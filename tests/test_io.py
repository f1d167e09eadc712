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
