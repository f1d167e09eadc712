"""ListOps: generator determinism and bounds, the evaluator on known expressions and against an independent
reference, padding masks of the token-mode TinyViT, config errors, and a tiny end-to-end distillation (seconds)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from had_hls.cli import main
from had_hls.data import listops as lo
from had_hls.data.listops import GeneratorConfig, ListOpsSection
from had_hls.models.checkpoint import attention_layers, load_checkpoint
from had_hls.models.vit import TinyViT, ViTConfig
from had_hls.nn import BinarizeMode, TopN

SMALL = ListOpsSection(train_size=40, val_size=10, test_size=10, max_depth=4, max_args=5, min_length=12)


# ------------------------------------------------------------------------------------------ evaluator
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7", 7),
        ("[MAX 2 9 [MIN 4 7 ] 0 ]", 9),
        ("[MIN 2 9 [MIN 4 7 ] 0 ]", 0),
        ("[SM [MED 3 1 8 ] 5 6 ]", 4),  # MED 3 1 8 = 3; 3 + 5 + 6 = 14 -> 4
        ("[SM 9 9 9 ]", 7),
        ("[MED 1 2 ]", 1),  # even count: floor((1 + 2) / 2), LRA's int(np.median)
        ("[MED 3 4 8 9 ]", 6),  # floor((4 + 8) / 2)
        ("[MED 9 0 ]", 4),
        ("[MED 5 5 ]", 5),
        ("[MED 7 1 3 ]", 3),
        ("[MAX [MIN [SM 5 5 ] 3 ] [MED 2 8 6 4 ] ]", 5),  # MIN(0, 3) = 0, MED(2 4 6 8) = 5
        ("( ( [MAX 2 ) 3 ) ]", 3),  # LRA's parenthesised form: the parentheses are dropped
    ],
)
def test_evaluator_on_known_expressions(text: str, value: int) -> None:
    tokens = lo.tokenize(text)
    assert lo.evaluate(tokens) == value
    assert lo.evaluate(tokens + [lo.PAD] * 5) == value  # trailing padding is ignored


@pytest.mark.parametrize("text", ["[MAX 2 9", "[MAX 2 ] ]", "", "3 4", "[MAX ]", "]"])
def test_evaluator_rejects_malformed_expressions(text: str) -> None:
    with pytest.raises(ValueError):
        lo.evaluate(lo.tokenize(text))


def test_evaluator_rejects_tokens_after_padding() -> None:
    with pytest.raises(ValueError, match="after padding"):
        lo.evaluate([lo.MAX, lo.DIGIT0 + 1, lo.PAD, lo.DIGIT0 + 2, lo.CLOSE])


def _reference(symbols: list[str], i: int = 0) -> tuple[int, int, int]:
    """Independent recursive-descent statement of the semantics on the text form: (value, next index, args of
    the node); MED by sorting, as the mean of the middle pair rounded down for even counts."""
    sym = symbols[i]
    if sym.isdigit():
        return int(sym), i + 1, 0
    args: list[int] = []
    i += 1
    while symbols[i] != "]":
        v, i, _ = _reference(symbols, i)
        args.append(v)
    s = sorted(args)
    mid = len(s) // 2
    value = {
        "[MAX": s[-1],
        "[MIN": s[0],
        "[SM": sum(s) % 10,
        "[MED": s[mid] if len(s) % 2 else int((s[mid - 1] + s[mid]) / 2),
    }[sym]
    return value, i + 1, len(args)


def _max_args(symbols: list[str]) -> int:
    """Most arguments of any operator in the expression."""
    best, stack = 0, []
    for sym in symbols:
        if sym.startswith("["):
            if stack:
                stack[-1] += 1
            stack.append(0)
        elif sym == "]":
            best = max(best, stack.pop())
        elif stack:
            stack[-1] += 1
    return best


def test_generated_expressions_match_the_reference_and_respect_every_bound() -> None:
    g = GeneratorConfig(max_depth=5, max_args=6, operator_p=0.3, min_length=10, max_length=80)
    exprs = lo.generate_split(300, random.Random(3), g)
    assert len({tuple(e) for e in exprs}) == 300  # distinct
    for e in exprs:
        text = lo.to_text(e)
        assert lo.tokenize(text) == e  # text round trip
        value, end, _ = _reference(text.split())
        assert end == len(e) and lo.evaluate(e) == value and 0 <= value <= 9
        assert g.min_length <= len(e) <= g.max_length
        assert 1 <= lo.nesting_depth(e) <= g.max_depth
        assert 2 <= _max_args(text.split()) <= g.max_args


def test_a_length_range_the_generator_cannot_hit_is_a_config_error() -> None:
    from had_hls.config import ConfigError

    g = GeneratorConfig(max_depth=3, max_args=2, min_length=5, max_length=6)  # only 4, 7, 10, ... tokens exist
    with pytest.raises(ConfigError, match="^listops: the generator accepts too few"):
        lo.generate_split(1, random.Random(0), g)


def test_med_of_random_lists_is_the_floor_of_the_numpy_median() -> None:
    np = pytest.importorskip("numpy")
    rng = random.Random(0)
    for _ in range(500):
        args = [rng.randrange(10) for _ in range(rng.randint(1, 10))]
        assert lo.apply_op(lo.MED, args) == int(np.median(args))  # LRA's rule


# ------------------------------------------------------------------------------------------ splits
def test_splits_are_deterministic_per_seed_and_val_test_do_not_depend_on_train_size(tmp_path: Path) -> None:
    a = lo.generate_splits(SMALL, 48)
    b = lo.generate_splits(SMALL, 48)
    for split in ("train", "val", "test"):
        assert torch.equal(a[split][0], b[split][0]) and torch.equal(a[split][1], b[split][1])
    other = lo.generate_splits(ListOpsSection(**{**SMALL.__dict__, "seed": 1}), 48)
    assert not torch.equal(a["test"][0], other["test"][0])
    bigger = lo.generate_splits(ListOpsSection(**{**SMALL.__dict__, "train_size": 60}), 48)
    assert torch.equal(a["test"][0], bigger["test"][0]) and torch.equal(a["val"][0], bigger["val"][0])
    held = {tuple(r.tolist()) for split in ("val", "test") for r in a[split][0]}
    assert not any(tuple(r.tolist()) in held for r in a["train"][0])  # no train expression in val/test


def test_encoded_splits_labels_lengths_and_padding_mask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lo.CACHE_ENV, str(tmp_path))
    data = lo.load_listops(SMALL, 48)
    cached = lo.load_listops(SMALL, 48)  # second call reads the cache file
    assert len(list(tmp_path.glob("listops_L48_*.pt"))) == 1
    for split, n in (("train", 40), ("val", 10), ("test", 10)):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        assert x.shape == (n, 48) and x.dtype == torch.int64 and y.shape == (n,)
        assert torch.equal(x, getattr(cached, f"x_{split}")) and torch.equal(y, getattr(cached, f"y_{split}"))
        assert int(y.min()) >= 0 and int(y.max()) <= 9
        assert int(x.max()) < lo.VOCAB_SIZE
        pad = lo.padding_mask(x)
        lengths = (~pad).sum(1)
        assert bool(((lengths >= SMALL.min_length) & (lengths <= 48)).all())
        # padding is exactly the tail after the expression
        assert torch.equal(pad, torch.arange(48)[None, :] >= lengths[:, None])
        for row, label, n_tok in zip(x, y, lengths, strict=True):
            assert lo.evaluate(row[:n_tok].tolist()) == int(label)


# ------------------------------------------------------------------------------------------ model
def token_model(pool: str = "mean", seed: int = 0) -> TinyViT:
    torch.manual_seed(seed)
    cfg = ViTConfig(embed_dim=16, num_heads=2, depth=2, mlp_dim=32, pool=pool, vocab_size=lo.VOCAB_SIZE, max_len=24)
    return TinyViT(cfg).eval()


def test_token_vit_shapes_mask_and_checkpoint_round_trip(tmp_path: Path) -> None:
    from had_hls.models.checkpoint import save_checkpoint

    model = token_model(pool="cls")
    assert model.cfg.seq_len == 25 and not hasattr(model, "patch_embed")
    x = torch.zeros(2, 24, dtype=torch.int64)
    x[0, :6] = torch.tensor(lo.tokenize("[MAX 1 2 [MIN 3 ]"))[:6]
    x[1, :3] = torch.tensor(lo.tokenize("[SM 4 ]"))
    pad = model.padding_mask(x)
    assert pad.shape == (2, 25) and not bool(pad[:, 0].any())  # the CLS token is never padded
    assert int((~pad[0]).sum()) == 7 and int((~pad[1]).sum()) == 4
    model.set_attention(BinarizeMode.HARD, top_n=TopN(n=3))
    logits = model(x)
    save_checkpoint(model, tmp_path / "m.pt")
    loaded, _ = load_checkpoint(tmp_path / "m.pt")
    assert loaded.cfg == model.cfg and torch.equal(loaded(x), logits)
    # image models keep their checkpoint config (no token fields)
    assert "vocab_size" not in ViTConfig().to_dict()


@pytest.mark.parametrize("mode", ["float", "hard"])
def test_padded_positions_do_not_change_the_logits(mode: str) -> None:
    """Whatever sits at padded positions (here: their position embeddings) cannot reach the output: padded keys are
    masked out of every attention row (and never among the top-N) and mean pooling skips padded tokens."""
    model = token_model()
    model.set_attention(BinarizeMode.parse(mode), top_n=TopN(n=4) if mode == "hard" else TopN())
    x = torch.zeros(3, 24, dtype=torch.int64)
    for i, text in enumerate(["[MAX 1 2 3 ]", "[MED 9 0 [SM 4 5 ] ]", "[MIN 3 8 ]"]):
        t = lo.tokenize(text)
        x[i, : len(t)] = torch.tensor(t)
    with torch.no_grad():
        before = model(x)
        model.pos_embed[:, 10:] += 5 * torch.randn(1, 14, 16)  # only padded positions (longest expression: 10)
        after = model(x)
    assert torch.allclose(before, after, atol=1e-6)
    for layer in attention_layers(model):
        layer.record_maps = True
    with torch.no_grad():
        model(x)
    for layer in attention_layers(model):
        maps = layer.maps
        assert torch.equal(maps.key_padding_mask, x == 0)
        if mode == "hard":
            assert not bool((maps.kept & (x == 0)[:, None, None, :]).any())


# ------------------------------------------------------------------------------------------ CLI
TINY_YAML = """\
name: tiny
model: {seq_len: 32, embed_dim: 16, num_heads: 2, top_n: 4, key_padding_mask: true}
teacher: {dataset: listops, depth: 1, mlp_dim: 16, epochs: 2, batch_size: 32, warmup_steps: 2}
listops: {train_size: 64, val_size: 32, test_size: 32, max_depth: 3, max_args: 4, min_length: 8%s}
distill: {batch_size: 32, calib_batches: 1, steps: [2, 2, 2, 2], device: cpu, eval_batch_size: 32}
"""


def write_project(tmp_path: Path, listops_extra: str = "") -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_YAML % listops_extra)
    return path


def test_tiny_listops_distillation_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(lo.CACHE_ENV, str(tmp_path / "cache"))
    project = write_project(tmp_path)
    assert main(["distill", str(project), "--quiet"]) == 0
    out = tmp_path / "tiny"
    report = json.loads((out / "distill.json").read_text())
    assert report["dataset"] == "listops" and report["seq_len"] == 32 and report["top_n"] == 4
    assert [s["stage"] for s in report["stages"]] == [1, 2, 3, 4]
    assert report["val_samples"] == 32 and report["teacher"]["steps"] == 4
    student, meta = load_checkpoint(out / "student.pt")
    assert student.cfg.tokens_mode and student.cfg.max_len == 32
    assert all(la.mode is BinarizeMode.HARD and la.top_n.keep(32) == 4 for la in attention_layers(student))
    capsys.readouterr()
    assert main(["eval", str(project)]) == 0
    ev = json.loads((out / "eval.json").read_text())
    assert ev["dataset"] == "listops" and ev["test_samples"] == 32
    assert 0 <= ev["teacher_acc"] <= 1 and 0 <= ev["student_acc"] <= 1
    # the teacher is cached: a second distill reuses it (and resumes every stage)
    assert main(["distill", str(project), "--quiet"]) == 0
    again = json.loads((out / "distill.json").read_text())
    assert again["teacher"]["cached"] is True and again["resumed_after_stage"] == 4
    # another generator setting is another dataset: the teacher is trained again
    write_project(tmp_path, ", seed: 1")
    assert main(["distill", str(project), "--quiet", "--teacher-only"]) == 0
    assert "(" in capsys.readouterr().out
    _, tmeta = load_checkpoint(out / "teacher.pt")
    assert tmeta["fingerprint"]["listops"]["seed"] == 1


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        (", max_args: 1", "listops.max_args"),
        (", operator_p: 1.5", "listops.operator_p"),
        (", operator_p: 0", "listops.operator_p"),
        (", train_size: 0", "listops.train_size"),
        (", max_depth: 0", "listops.max_depth"),
        (", min_length: 2", "listops.min_length"),
        (", max_length: 6", "listops.max_length"),  # < min_length
        (", max_length: 64", "listops.max_length"),  # > model.seq_len
        (", min_length: 40", "listops.min_length"),  # > model.seq_len
        (", seed: zero", "listops.seed"),
        (", bogus: 1", "listops.bogus"),
    ],
)
def test_bad_listops_values_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, key: str
) -> None:
    project = write_project(tmp_path, extra)
    assert main(["distill", str(project), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err, err
    assert not (tmp_path / "tiny").exists()  # nothing written


def test_listops_needs_the_vit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text((TINY_YAML % "").replace("dataset: listops,", "dataset: listops, arch: minilm,"))
    assert main(["distill", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "teacher.dataset" in err, err


# ------------------------------------------------------------------------------------------ shipped checkpoints
ROOT = Path(__file__).resolve().parents[1]


def test_shipped_listops_checkpoints_match_their_project() -> None:
    from had_hls.distill.teacher import data_fingerprint, teacher_config
    from had_hls.project import load_project

    project = load_project(ROOT / "projects" / "listops.yaml")
    cfg = teacher_config(project)
    assert cfg.tokens_mode and cfg.max_len == project.model.seq_len == 512
    student, meta = load_checkpoint(ROOT / "projects" / "checkpoints" / "listops.pt")
    teacher, tmeta = load_checkpoint(ROOT / "projects" / "checkpoints" / "listops_teacher.pt")
    assert student.cfg == cfg and teacher.cfg == cfg
    assert meta["role"] == "student" and meta["dataset"] == "listops"
    assert all(la.mode is BinarizeMode.HARD and la.top_n.keep(512) == 64 for la in attention_layers(student))
    # the shipped teacher is the cache entry of projects/listops.yaml as committed (distill reuses it)
    assert tmeta["fingerprint"]["listops"] == data_fingerprint(project)["listops"]
    assert tmeta["fingerprint"]["vit"] == cfg.to_dict()
    assert tmeta["fingerprint"]["teacher"] == project.section("teacher").fingerprint()
