"""Stages talk through their outputs: a stage whose input (an earlier stage's output) is missing stops with one
line naming the command to run first, exit 2, no traceback, nothing written; it never runs the earlier stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from had_hls.cli import main

TINY = {"seq_len": 8, "embed_dim": 8, "num_heads": 2, "top_n": 3, "seed": 0}


def _prepare(out: Path, what: str) -> None:
    """Leave an output folder as an earlier stage would have left it, minus what the case takes away."""
    out.mkdir(parents=True)
    if what == "cosim at other lanes":
        (out / "cosim.json").write_text(json.dumps({"lanes": 4, "pass": True}))
    if what == "cosim without activity":
        (out / "cosim.json").write_text(json.dumps({"lanes": 2, "pass": True}))
        (out / "rtl" / "had").mkdir(parents=True)
        (out / "rtl" / "had" / "activity.vcd").write_text("")


CASES = [
    # stage, project model overrides, extra flags, output folder state, expected pieces of the one line
    ("convert", {}, [], "empty", ["student.pt", "does not exist", "run `had-hls distill {p}` first"]),
    ("csim", {"checkpoint": "nowhere.pt"}, [], "empty",
     ["model.checkpoint", "nowhere.pt", "does not exist", "run `had-hls distill {p}` first"]),
    ("check", {"checkpoint": "nowhere.pt"}, [], "empty", ["nowhere.pt", "run `had-hls distill {p}` first"]),
    ("cosim", {}, [], "empty",
     ["csim_vectors.npz", "is missing in {o}", "run `had-hls csim {p} --out {o}` first"]),
    ("report", {}, [], "empty", ["cosim.json", "is missing in {o}", "run `had-hls cosim {p} --out {o}` first"]),
    ("report", {}, ["--lanes", "1"], "empty", ["cosim.json", "run `had-hls cosim {p} --out {o} --lanes 1` first"]),
    ("report", {}, [], "cosim at other lanes",
     ["cosim.json is at P=4 lanes, the report asks P=2", "run `had-hls cosim {p} --out {o} --lanes 2` first"]),
    ("report", {}, [], "cosim without activity",
     ["rtl/fp/activity.vcd", "run `had-hls cosim {p} --out {o}` first"]),
]


@pytest.mark.parametrize("stage,model,flags,state,expect", CASES,
                         ids=[f"{c[0]}-{c[3]}{'-' + '-'.join(c[2]) if c[2] else ''}" for c in CASES])
def test_a_missing_prerequisite_is_one_line_naming_the_command(tmp_path, project_file, capsys, stage, model, flags,
                                                               state, expect):
    if stage == "convert":
        path = project_file(name="p", model=model, teacher={"epochs": 1})
    else:
        path = project_file(name="p", model={**TINY, **model}, rtl={"lanes": 2, "simulator": "icarus"})
    out = tmp_path / "out"
    _prepare(out, state)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main([stage, str(path), "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"had-hls {stage}: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for piece in expect:
        assert piece.format(p=path.resolve(), o=out) in err, (piece, err)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # nothing written, no earlier stage run


def test_stage_graph_reads_only_what_earlier_stages_write():
    from had_hls.stages import READS, STAGE_ORDER, WRITES

    for i, stage in enumerate(STAGE_ORDER):
        earlier = {f for s in STAGE_ORDER[:i] for f in WRITES[s]}
        assert set(READS[stage]) <= earlier, stage
