"""Bad input: one line naming the key, the value and what is allowed; exit code 2; nothing written."""

from __future__ import annotations

import pytest

from had_hls.cli import main

CASES = [  # (description, model overrides, extra sections, text the message must contain)
    ("N > L", {"top_n": 9}, {}, ["model.top_n", "9", "1 <= top_n <= seq_len=8"]),
    ("N = 0", {"top_n": 0}, {}, ["model.top_n", "0"]),
    ("E not divisible by H", {"embed_dim": 10, "num_heads": 3}, {}, ["model.embed_dim", "10", "num_heads=3"]),
    ("unknown model key", {"heads": 2}, {}, ["model.heads", "unknown key", "seq_len"]),
    ("string for int", {"seq_len": "long"}, {}, ["model.seq_len", "'long'", "integer"]),
    ("bool for int", {"seq_len": True}, {}, ["model.seq_len", "true", "boolean", "integer"]),
    ("missing checkpoint", {"checkpoint": "nowhere.pt"}, {}, ["model.checkpoint", "nowhere.pt", "does not exist"]),
    ("bad backend", {}, {"hls": {"backend": "Quartus"}}, ["hls.backend", "'Quartus'", "Vitis, Vivado"]),
    ("bad io_type", {}, {"hls": {"io_type": "io_serial"}}, ["hls.io_type", "io_serial", "io_parallel"]),
    ("bad type string", {}, {"hls": {"precision": {"weight": "float16"}}}, ["hls.precision.weight", "float16"]),
    ("bad context modes", {}, {"hls": {"precision": {"context": "ap_fixed<16,6>"}}}, ["precision.context", "AP_RND"]),
    ("negative clock", {}, {"hls": {"clock_period": -1}}, ["hls.clock_period", "-1", "> 0"]),
    ("unknown section", {}, {"hsl": {}}, ["hsl", "unknown key", "allowed"]),
    ("bad vectors", {}, {"csim": {"vectors": 0}}, ["csim.vectors", "0", ">= 1"]),
]


@pytest.mark.parametrize("desc,model,extra,needles", CASES, ids=[c[0] for c in CASES])
def test_bad_project_exits_2_with_one_line_and_writes_nothing(
    tmp_path, project_file, capsys, desc, model, extra, needles
):
    path = project_file(name="bad", model=model, **extra)
    out = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["csim", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no temp folder left


def test_missing_required_key(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("name: x\nmodel:\n  seq_len: 8\n  embed_dim: 8\n  num_heads: 2\n")
    assert main(["csim", str(path)]) == 2
    assert "model.top_n: missing required key" in capsys.readouterr().err


def test_missing_project_file(tmp_path, capsys):
    assert main(["csim", str(tmp_path / "none.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_invalid_yaml(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("name: [unclosed\n")
    assert main(["csim", str(path)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_bad_name(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text("name: ../escape\nmodel: {seq_len: 8, embed_dim: 8, num_heads: 2, top_n: 2}\n")
    assert main(["csim", str(path)]) == 2
    assert "name: '../escape'" in capsys.readouterr().err


def test_bad_vectors_flag(tmp_path, project_file, capsys):
    assert main(["csim", str(project_file()), "--vectors", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--vectors: 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args,needles", [
    (["--precision", "exp_tabl=ap_ufixed<16,1>"], ["--precision", "exp_tabl", "exp_table"]),
    (["--precision", "exp_table=ap_foo<3>"], ["--precision.exp_table", "ap_foo<3>", "ap_ufixed"]),
    (["--precision", "recip_index_bits=x"], ["recip_index_bits", "'x'", "integer"]),
    (["--power-window", "0"], ["--power-window", "0", ">= 1"]),
    (["--seq-len", "64,x"], ["64,x", "integers"]),
], ids=["unknown precision name", "bad precision type", "bad precision int", "zero power window", "bad L list"])
def test_bad_sweep_options(tmp_path, capsys, args, needles):
    out = tmp_path / "sweep"
    assert main(["sweep", "--seq-len", "8", "--head-dim", "4", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(n in err for n in needles), err
    assert not out.exists()
