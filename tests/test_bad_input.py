"""Every bad input, one table: exit code 2, exactly one line on stderr naming the key or flag, the value and what is
allowed, no traceback, and nothing written anywhere (the folder holding the inputs is listed before and after).

Each row: (id, files written first (name -> text or bytes), the had-hls arguments ({d} is that folder), what the
line must contain). tests/test_cli_errors.py holds the schema rows (types, unknown keys, N > L, ...).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from had_hls.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "projects" / "checkpoints" / "default_fmnist.pt"  # 2 attention layers, L=49, E=64, H=4, N=16
MODEL = "model: {seq_len: 8, embed_dim: 16, num_heads: 2, top_n: 3}\n"
OK = "name: t\n" + MODEL


def _model(**extra: object) -> str:
    fields = {"seq_len": 8, "embed_dim": 16, "num_heads": 2, "top_n": 3, **extra}
    return "name: t\nmodel: {" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}\n"


CKPT_MODEL = f"name: t\nmodel: {{seq_len: 49, embed_dim: 64, num_heads: 4, top_n: 16, checkpoint: {CHECKPOINT}"

CASES = [
    # ------------------------------------------------------------------ the project file itself
    (
        "yaml not utf-8",
        {"p.yaml": b"name: t\xff\n" + MODEL.encode()},
        ["csim", "{d}/p.yaml"],
        ["'{d}/p.yaml'", "not UTF-8", "0xff", "line 1"],
    ),
    (
        "yaml binary",
        {"p.yaml": b"\x7fELF\x02\x01\x01\x00\x00\x00"},
        ["csim", "{d}/p.yaml"],
        ["'{d}/p.yaml'", "not a text file", "NUL"],
    ),
    (
        "yaml duplicate section",
        {"p.yaml": OK + MODEL},
        ["csim", "{d}/p.yaml"],
        ["model: duplicate key", "line 3", "first at line 2", "once"],
    ),
    (
        "yaml duplicate nested key",
        {"p.yaml": "name: t\nmodel:\n  seq_len: 8\n  seq_len: 9\n"},
        ["csim", "{d}/p.yaml"],
        ["model.seq_len: duplicate key", "line 4", "first at line 3"],
    ),
    ("yaml invalid", {"p.yaml": "name: [unclosed\n"}, ["csim", "{d}/p.yaml"], ["not valid YAML", "line"]),
    ("project is a folder", {"sub/x.txt": "x"}, ["csim", "{d}/sub"], ["'{d}/sub'", "is a folder"]),
    ("project empty path", {}, ["csim", ""], ["project file ''", "give the path"]),
    ("project missing", {}, ["csim", "{d}/none.yaml"], ["'{d}/none.yaml'", "does not exist"]),
    # ------------------------------------------------------------------ numbers
    (
        "clock .inf",
        {"p.yaml": OK + "hls: {clock_period: .inf}\n"},
        ["csim", "{d}/p.yaml"],
        ["hls.clock_period: inf", "finite"],
    ),
    (
        "input_scale .nan",
        {"p.yaml": OK + "csim: {input_scale: .nan}\n"},
        ["csim", "{d}/p.yaml"],
        ["csim.input_scale: nan", "finite"],
    ),
    ("sigma -.inf", {"p.yaml": _model(sigma_q="-.inf")}, ["csim", "{d}/p.yaml"], ["model.sigma_q: -inf", "finite"]),
    (
        "name: yes",
        {"p.yaml": "name: yes\n" + MODEL},
        ["csim", "{d}/p.yaml"],
        ["name: true", "boolean", "expected a string", "quote"],
    ),
    ("part: 5", {"p.yaml": OK + "hls: {part: 5}\n"}, ["csim", "{d}/p.yaml"], ["hls.part: 5", "expected a string"]),
    # ------------------------------------------------------------------ shapes beyond the machine
    (
        "seq_len 1e9",
        {"p.yaml": _model(seq_len=10**9)},
        ["csim", "{d}/p.yaml"],
        ["model.seq_len: 1000000000", "too large for this machine", "GiB", "seq_len <= "],
    ),
    (
        "embed_dim 1e9",
        {"p.yaml": _model(embed_dim=10**9)},
        ["csim", "{d}/p.yaml"],
        ["model.embed_dim: 1000000000", "too large", "embed_dim <= "],
    ),
    (
        "--vectors 1e8",
        {"p.yaml": OK},
        ["csim", "{d}/p.yaml", "--vectors", "100000000", "--out", "{d}/o"],
        ["--vectors: 100000000", "too large", "--vectors <= "],
    ),
    # ------------------------------------------------------------------ layers and checkpoints
    (
        "layer without checkpoint",
        {"p.yaml": _model(layer=99)},
        ["csim", "{d}/p.yaml"],
        ["model.layer: 99", "without model.checkpoint"],
    ),
    (
        "layer out of range",
        {"p.yaml": CKPT_MODEL + ", layer: 5}\n"},
        ["csim", "{d}/p.yaml", "--out", "{d}/o"],
        ["model.layer: 5", "attention layers 0..1"],
    ),
    (
        "checkpoint ''",
        {"p.yaml": _model(checkpoint="''")},
        ["csim", "{d}/p.yaml"],
        ["model.checkpoint: ''", "give a checkpoint file"],
    ),
    (
        "checkpoint is a folder",
        {"p.yaml": _model(checkpoint="ck"), "ck/x": "x"},
        ["csim", "{d}/p.yaml"],
        ["model.checkpoint: '{d}/ck'", "is a folder"],
    ),
    (
        "checkpoint missing",
        {"p.yaml": _model(checkpoint="none.pt")},
        ["csim", "{d}/p.yaml"],
        ["model.checkpoint: '{d}/none.pt'", "does not exist"],
    ),
    (
        "checkpoint garbage",
        {"p.yaml": _model(checkpoint="g.pt"), "g.pt": "not a checkpoint\n"},
        ["csim", "{d}/p.yaml"],
        ["model.checkpoint: '{d}/g.pt'", "not a torch checkpoint file"],
    ),
    (
        "checkpoint of something else",
        {"p.yaml": _model(checkpoint="o.pt"), "o.pt": "TORCH:{'weights': 1}"},
        ["csim", "{d}/p.yaml"],
        ["model.checkpoint: '{d}/o.pt'", "not a had-hls checkpoint", "format"],
    ),
    # ------------------------------------------------------------------ precision and tables
    (
        "recip_index_bits 20",
        {"p.yaml": OK + "hls: {precision: {recip_index_bits: 20}}\n"},
        ["csim", "{d}/p.yaml"],
        ["hls.precision.recip_index_bits: 20", "1..16"],
    ),
    (
        "recip bits > exp frac",
        {"p.yaml": OK + "hls: {precision: {recip_index_bits: 12, exp_table: 'ap_ufixed<10,1>'}}\n"},
        ["csim", "{d}/p.yaml"],
        ["hls.precision.recip_index_bits: 12", "exp table's fractional bits (9"],
    ),
    (
        "exp_table signed",
        {"p.yaml": OK + "hls: {precision: {exp_table: 'ap_fixed<18,1>'}}\n"},
        ["csim", "{d}/p.yaml"],
        ["hls.precision.exp_table: ap_fixed<18,1>", "ap_ufixed<W,1>"],
    ),
    (
        "fp table size 0",
        {"p.yaml": OK + "hls: {precision: {fp_exp_table_size: 0}}\n"},
        ["csim", "{d}/p.yaml"],
        ["hls.precision.fp_exp_table_size: 0", "1..65536"],
    ),
    (
        "type too wide",
        {"p.yaml": OK + "hls: {precision: {weight: 'ap_fixed<2000,4>'}}\n"},
        ["csim", "{d}/p.yaml"],
        ["hls.precision.weight: 'ap_fixed<2000,4>' is not allowed", "1..1024"],
    ),
    (
        "internal width > ap_int's 1024",
        {"p.yaml": OK + "hls: {precision: {exp_table: 'ap_ufixed<1020,1>'}}\n"},
        ["csim", "{d}/p.yaml"],
        ["hls.precision.exp_table: ap_ufixed<1020,1>", "av_acc needs", "1024"],
    ),
    # ------------------------------------------------------------------ flags
    (
        "--lanes 0",
        {"p.yaml": OK},
        ["cosim", "{d}/p.yaml", "--lanes", "0", "--out", "{d}/o"],
        ["--lanes: 0", "1 <= lanes <= model.seq_len=8"],
    ),
    ("--lanes -1", {"p.yaml": OK}, ["cosim", "{d}/p.yaml", "--lanes", "-1", "--out", "{d}/o"], ["--lanes: -1"]),
    (
        "--lanes > L",
        {"p.yaml": OK},
        ["cosim", "{d}/p.yaml", "--lanes", "1000", "--out", "{d}/o"],
        ["--lanes: 1000", "model.seq_len=8"],
    ),
    ("rtl.lanes > L", {"p.yaml": OK + "rtl: {lanes: 9}\n"}, ["cosim", "{d}/p.yaml"], ["rtl.lanes: 9", "seq_len=8"]),
    (
        "report --lanes > L",
        {"p.yaml": OK},
        ["report", "{d}/p.yaml", "--lanes", "9", "--out", "{d}/o"],
        ["--lanes: 9", "seq_len=8"],
    ),
    (
        "--lanes not a number",
        {"p.yaml": OK},
        ["cosim", "{d}/p.yaml", "--lanes", "abc"],
        ["--lanes", "invalid int value: 'abc'"],
    ),
    ("--vectors 0", {"p.yaml": OK}, ["csim", "{d}/p.yaml", "--vectors", "0", "--out", "{d}/o"], ["--vectors: 0"]),
    ("--samples 0", {"p.yaml": OK}, ["csim", "{d}/p.yaml", "--samples", "0", "--out", "{d}/o"], ["--samples: 0"]),
    (
        "--fmax-timeout inf",
        {"p.yaml": OK},
        ["report", "{d}/p.yaml", "--fmax-timeout", "inf", "--out", "{d}/o"],
        ["--fmax-timeout: inf", "finite"],
    ),
    (
        "--fmax-timeout nan",
        {"p.yaml": OK},
        ["report", "{d}/p.yaml", "--fmax-timeout", "nan", "--out", "{d}/o"],
        ["--fmax-timeout: nan"],
    ),
    ("unknown flag", {"p.yaml": OK}, ["csim", "{d}/p.yaml", "--fast"], ["unrecognized arguments: --fast"]),
    # ------------------------------------------------------------------ sweep
    (
        "sweep N > L",
        {},
        ["sweep", "--seq-len", "32", "--top-n", "100", "--head-dim", "4", "--out", "{d}/s"],
        ["--top-n: 100", "--seq-len 32", "<= 32"],
    ),
    (
        "sweep P > L",
        {},
        ["sweep", "--seq-len", "8,64", "--lanes", "16", "--head-dim", "4", "--out", "{d}/s"],
        ["--lanes: 16", "<= 8"],
    ),
    (
        "sweep --cluster foo",
        {},
        ["sweep", "--seq-len", "8", "--head-dim", "4", "--cluster", "foo", "--out", "{d}/s"],
        ["--cluster: 'foo'", "tcp://HOST:PORT"],
    ),
    (
        "sweep --cluster port",
        {},
        ["sweep", "--seq-len", "8", "--head-dim", "4", "--cluster", "tcp://h:99999", "--out", "{d}/s"],
        ["--cluster: 'tcp://h:99999'"],
    ),
    (
        "sweep --jobs 0",
        {},
        ["sweep", "--seq-len", "8", "--head-dim", "4", "--jobs", "0", "--out", "{d}/s"],
        ["--jobs: 0"],
    ),
    (
        "sweep L 1e9",
        {},
        ["sweep", "--seq-len", "1000000000", "--head-dim", "4", "--out", "{d}/s"],
        ["--seq-len: 1000000000", "too large"],
    ),
    (
        "sweep bad --head-dim",
        {},
        ["sweep", "--seq-len", "8", "--head-dim", "4,x", "--out", "{d}/s"],
        ["--head-dim: '4,x'", "integers"],
    ),
    # ------------------------------------------------------------------ --out
    ("--out ''", {"p.yaml": OK}, ["csim", "{d}/p.yaml", "--out", ""], ["--out: ''", "give a folder path"]),
    (
        "--out existing file",
        {"p.yaml": OK, "f": "x"},
        ["csim", "{d}/p.yaml", "--out", "{d}/f"],
        ["--out: '{d}/f'", "existing file"],
    ),
    (
        "--out below a file",
        {"p.yaml": OK, "f": "x"},
        ["csim", "{d}/p.yaml", "--out", "{d}/f/o"],
        ["--out: '{d}/f/o'", "is a file"],
    ),
    (
        "--out unwritable",
        {"p.yaml": OK},
        ["csim", "{d}/p.yaml", "--out", "/proc/had-hls-test/o"],
        ["--out: '/proc/had-hls-test/o'", "cannot be written", "'/proc'"],
    ),
    ("--out current folder", {"p.yaml": OK}, ["csim", "{d}/p.yaml", "--out", "."], ["--out: '.'", "current folder"]),
    (
        "sweep --out file",
        {"f": "x"},
        ["sweep", "--seq-len", "8", "--head-dim", "4", "--out", "{d}/f"],
        ["--out: '{d}/f'", "existing file"],
    ),
]


def _write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("TORCH:"):
            torch.save(eval(content[len("TORCH:") :]), path)  # noqa: S307 - a literal of this table
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{d}", str(folder)))


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size if p.is_file() else -1) for p in folder.rglob("*"))


def run_cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's own exit (usage errors)
        return int(stop.code)


@pytest.mark.parametrize("files,argv,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exit_2_one_line_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, files, argv, needles
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, files)
    before = _listing(tmp_path)
    code = run_cli([a.replace("{d}", str(tmp_path)) for a in argv])
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, (code, err, captured.out[-2000:])
    assert len(err.splitlines()) == 1, err
    assert err.startswith("had-hls") and "Traceback" not in err
    for needle in needles:
        assert needle.replace("{d}", str(tmp_path)) in err, err
    assert _listing(tmp_path) == before  # nothing written, no temporary folder left


def test_unwritable_out_for_a_normal_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root may write anywhere (the /proc row covers root)")
    (tmp_path / "p.yaml").write_text(OK)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        assert run_cli(["csim", str(tmp_path / "p.yaml"), "--out", str(locked / "o")]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "cannot be written" in err and "Permission denied" in err, err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)
