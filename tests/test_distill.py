"""HAD distillation: schedules, losses, checkpoints, config validation, and a tiny end-to-end run (seconds)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import torch

from had_hls.cli import main
from had_hls.config import ConfigError
from had_hls.data.fashion_mnist import FASHION_MNIST_DIR
from had_hls.distill.config import DistillSection
from had_hls.distill.losses import attention_kl, layers_attention_kl, output_kl
from had_hls.distill.schedule import lr_factor, tanh_c
from had_hls.distill.trainer import stage_c
from had_hls.models.checkpoint import attention_layers, load_checkpoint, save_checkpoint
from had_hls.models.vit import TinyViT, ViTConfig
from had_hls.nn import AttentionMaps, BinarizeMode, TopN
from had_hls.project import load_project

HAVE_FMNIST = any((FASHION_MNIST_DIR / f"train-images-idx3-ubyte{s}").is_file() for s in ("", ".gz"))
needs_data = pytest.mark.skipif(not HAVE_FMNIST, reason="Fashion-MNIST (Debian dataset-fashion-mnist) not installed")

TINY_VIT = ViTConfig(patch_size=7, embed_dim=16, num_heads=2, depth=2, mlp_dim=32)

TINY_YAML = """\
name: tiny
model: {seq_len: 16, embed_dim: 16, num_heads: 2, top_n: 8}
teacher: {patch_size: 7, depth: 1, mlp_dim: 32, epochs: 1, batch_size: 64, train_limit: 512, test_limit: 200,
          warmup_steps: 2}
distill: {batch_size: 64, calib_batches: 2, steps: [3, 3, 3, 3], device: cpu%s}
"""


def write_project(tmp_path: Path, distill_extra: str = "") -> Path:
    """TINY_YAML with ``distill_extra`` (", key: value, ...") added to the distill: section; a key it gives replaces
    the default (a project file may give each key once)."""
    import yaml

    doc = yaml.safe_load(TINY_YAML % "")
    if distill_extra.strip(", "):
        doc["distill"].update(yaml.safe_load("{" + distill_extra.strip(", ") + "}"))
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def tiny_model(seed: int = 0) -> TinyViT:
    torch.manual_seed(seed)
    return TinyViT(TINY_VIT).eval()


def images(n: int = 4, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def run_maps(model: TinyViT, x: torch.Tensor) -> tuple[torch.Tensor, list[AttentionMaps]]:
    for layer in attention_layers(model):
        layer.record_maps = True
    logits = model(x)
    return logits, [layer.maps for layer in attention_layers(model)]


# ------------------------------------------------------------------------------------------ c schedule
def test_c_schedule_stage1_goes_from_5_to_1_geometrically() -> None:
    d = DistillSection()
    cs = [stage_c(1, s, 5, d) for s in range(5)]
    assert cs[0] == pytest.approx(5.0) and cs[-1] == pytest.approx(1.0)
    ratios = [b / a for a, b in zip(cs, cs[1:], strict=False)]
    assert ratios == pytest.approx([5 ** (-1 / 4)] * 4)


def test_c_schedule_stage2_goes_from_1_to_005_and_stages_3_4_have_none() -> None:
    d = DistillSection()
    cs = [stage_c(2, s, 11, d) for s in range(11)]
    assert cs[0] == pytest.approx(1.0) and cs[-1] == pytest.approx(0.05)
    assert all(a > b for a, b in zip(cs, cs[1:], strict=False))
    assert stage_c(3, 0, 10, d) is None and stage_c(4, 9, 10, d) is None


def test_c_schedule_linear_and_single_step() -> None:
    assert tanh_c(2, 5, 5.0, 1.0, "linear") == pytest.approx(3.0)
    assert tanh_c(0, 1, 5.0, 1.0, "exponential") == pytest.approx(1.0)
    with pytest.raises(ValueError):
        tanh_c(5, 5, 5.0, 1.0, "linear")


def test_lr_cosine_ends_near_zero_and_warmup_ramps() -> None:
    assert lr_factor(0, 100, "cosine") == 1.0
    assert lr_factor(99, 100, "cosine") < 0.01
    assert lr_factor(0, 100, "cosine", warmup=10) == pytest.approx(0.1)
    assert lr_factor(50, 100, "constant") == 1.0


# ------------------------------------------------------------------------------------------ losses
def test_both_kl_losses_are_zero_when_student_equals_teacher() -> None:
    teacher = tiny_model()
    student = copy.deepcopy(teacher)
    x = images()
    zt, mt = run_maps(teacher, x)
    zs, ms = run_maps(student, x)
    assert output_kl(zs, zt, temperature=2.0).item() == pytest.approx(0.0, abs=1e-7)
    for kind in ("student_unmasked", "teacher_renormalized"):
        assert layers_attention_kl(ms, mt, kind).item() == pytest.approx(0.0, abs=1e-7)


def test_attention_kl_is_zero_for_equal_maps_with_topn_and_padding() -> None:
    logits = torch.randn(2, 3, 6, 6)
    pad = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    kept = torch.rand(2, 3, 6, 6) > 0.4
    maps = AttentionMaps(logits=logits, kept=kept & ~pad[:, None, None, :], key_padding_mask=pad)
    for kind in ("student_unmasked", "teacher_renormalized"):
        assert float(attention_kl(maps, maps, kind)) == pytest.approx(0.0, abs=1e-7)


def test_attention_kl_is_positive_finite_and_differentiable_with_topn() -> None:
    teacher = tiny_model()
    student = copy.deepcopy(teacher)
    student.set_attention(BinarizeMode.STE, top_n=TopN(n=3))
    x = images()
    _, mt = run_maps(teacher, x)
    zs, ms = run_maps(student, x)
    assert all(m.kept is not None for m in ms)
    for kind in ("student_unmasked", "teacher_renormalized"):
        loss = layers_attention_kl(ms, mt, kind)
        assert math.isfinite(loss.item()) and loss.item() > 0
    loss = layers_attention_kl(ms, mt, "teacher_renormalized")
    loss.backward()
    grad = attention_layers(student)[0].q_proj.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_attention_kl_ignores_padded_keys_and_rows() -> None:
    t = torch.randn(1, 1, 4, 4)
    s = t.clone()
    s[..., 3] += 5.0  # differs only on key 3 ...
    s[..., 3, :] -= 7.0  # ... and on query row 3
    pad = torch.tensor([[False, False, False, True]])
    kl = attention_kl(AttentionMaps(s, None, pad), AttentionMaps(t, None, pad))
    assert float(kl) == pytest.approx(0.0, abs=1e-6)


def test_output_kl_temperature_scaling() -> None:
    zs, zt = torch.randn(8, 10), torch.randn(8, 10)
    assert float(output_kl(zs, zt, 1.0)) > 0
    assert float(output_kl(zs, zt, 4.0)) == pytest.approx(
        16 * float(torch.nn.functional.kl_div((zs / 4).log_softmax(-1), (zt / 4).log_softmax(-1), log_target=True,
                                              reduction="batchmean")),
        rel=1e-5,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------ checkpoints
def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = tiny_model()
    for i, layer in enumerate(attention_layers(model)):
        layer.sigma_q.fill_(0.5 + i)
        layer.sigma_k.fill_(0.25 + i)
    model.set_attention(BinarizeMode.HARD, top_n=TopN(n=5))
    x = images()
    with torch.no_grad():
        want = model(x)
    path = save_checkpoint(model, tmp_path / "m.pt", {"role": "student", "note": "x"})
    loaded, meta = load_checkpoint(path)
    assert meta["role"] == "student" and meta["format"] == "had-hls/checkpoint-v1" and meta["arch"] == "tiny_vit"
    assert loaded.cfg == model.cfg
    layers = attention_layers(loaded)
    assert len(layers) == TINY_VIT.depth
    assert all(la.mode is BinarizeMode.HARD and la.top_n == TopN(n=5) for la in layers)
    assert [float(la.sigma_q) for la in layers] == [0.5, 1.5]
    with torch.no_grad():
        assert torch.equal(loaded(x), want)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary file left


def test_load_checkpoint_rejects_other_files(tmp_path: Path) -> None:
    torch.save({"state_dict": {}}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a had-hls checkpoint"):
        load_checkpoint(tmp_path / "x.pt")


# ------------------------------------------------------------------------------------------ config
@pytest.mark.parametrize(
    ("extra", "key"),
    [
        (", steps: [1, 2, 3]", "distill.steps"),
        (", steps: [1, -2, 3, 4]", "distill.steps[1]"),
        (", lr: [0.001, 0, 0.001, 0.001]", "distill.lr[1]"),
        (", c_mid: 6.0", "distill.c_mid"),
        (", c_end: 0", "distill.c_end"),
        (", temperature: -1", "distill.temperature"),
        (", attn_kl: logits", "distill.attn_kl"),
        (", calib_batches: 0", "distill.calib_batches"),
        (", top_n: 17", "distill.top_n"),
        (", top_n: 4, top_n_ratio: 0.5", "distill.top_n_ratio"),
        (", top_n_ratio: 1.5", "distill.top_n_ratio"),
        (", out_weight: 0, ce_weight: 0", "distill.out_weight"),
        (", bogus: 1", "distill.bogus"),
        (", batch_size: two", "distill.batch_size"),
    ],
)
def test_bad_distill_values_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, key: str
) -> None:
    project = write_project(tmp_path, extra)
    assert main(["distill", str(project), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err, err
    assert not (tmp_path / "tiny").exists()  # nothing written


def test_seq_len_must_match_the_vit(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text((TINY_YAML % "").replace("seq_len: 16", "seq_len: 49"))
    with pytest.raises(ConfigError, match="model.seq_len"):
        from had_hls.distill.teacher import vit_config

        vit_config(load_project(path))


# ------------------------------------------------------------------------------------------ end to end
def state(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


@needs_data
def test_tiny_distillation_end_to_end_resumes_and_is_deterministic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path)
    out = tmp_path / "tiny"
    assert main(["distill", str(project), "--quiet"]) == 0
    report = json.loads((out / "distill.json").read_text())
    assert [s["stage"] for s in report["stages"]] == [1, 2, 3, 4]
    assert [s["mode"] for s in report["stages"]] == ["tanh", "tanh", "ste", "ste"]
    assert report["stages"][0]["c_first"] == 5.0 and report["stages"][1]["c_last"] == pytest.approx(0.05)
    assert report["stages"][2]["top_n"] == 8 and "attn_kl" not in report["stages"][3]
    for s in report["stages"]:
        assert math.isfinite(s["loss"]) and 0 <= s["val_acc"] <= 1
    assert all((out / "distill" / f"stage{k}.pt").is_file() for k in range(5))
    first = state(out / "student.pt")

    # resume after stage 2: stages 3-4 are recomputed and give the same student
    for k in (3, 4):
        (out / "distill" / f"stage{k}.pt").unlink()
    assert main(["distill", str(project), "--quiet"]) == 0
    report = json.loads((out / "distill.json").read_text())
    assert report["resumed_after_stage"] == 2
    assert [s.get("resumed", False) for s in report["stages"]] == [True, True, False, False]
    resumed = state(out / "student.pt")
    assert all(torch.equal(first[k], resumed[k]) for k in first)

    # a fresh run (new output folder, teacher retrained) is bit-identical
    assert main(["distill", str(project), "--quiet", "--out", str(tmp_path / "again")]) == 0
    again = state(tmp_path / "again" / "student.pt")
    assert all(torch.equal(first[k], again[k]) for k in first)

    # the student loads as a hardware checkpoint: hard mode, top-N = model.top_n
    model, meta = load_checkpoint(out / "student.pt")
    assert meta["role"] == "student"
    assert all(la.mode is BinarizeMode.HARD and la.top_n.keep(16) == 8 for la in attention_layers(model))

    capsys.readouterr()
    assert main(["eval", str(project), "--out", str(tmp_path / "ev")]) == 0
    ev = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert ev["test_samples"] == 200
    assert 0 <= ev["teacher_acc"] <= 1 and 0 <= ev["student_acc"] <= 1
    assert "student_acc=" in capsys.readouterr().out


@needs_data
def test_eval_without_a_student_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write_project(tmp_path)
    assert main(["eval", str(project)]) == 2
    assert "does not exist" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ ablation: binary A
def test_binary_matrix_attention_is_uniform_over_kept_keys_and_round_trips(tmp_path: Path) -> None:
    from had_hls.distill.ablations import BinaryMatrixAttention, binarize_attention_matrix

    model = tiny_model()
    binarize_attention_matrix(model)
    model.set_attention(BinarizeMode.HARD, top_n=TopN(n=3))
    layer = attention_layers(model)[0]
    assert isinstance(layer, BinaryMatrixAttention)
    x = torch.randn(2, TINY_VIT.seq_len, TINY_VIT.embed_dim)
    layer.record_maps = True
    with torch.no_grad():
        got = layer(x)
        v = layer._heads(layer.v_proj(x))
        kept = layer.maps.kept.to(v.dtype)
        ctx = (kept / 3) @ v
        want = layer.out_proj(ctx.transpose(1, 2).reshape(2, TINY_VIT.seq_len, TINY_VIT.embed_dim))
    assert torch.allclose(got, want, atol=1e-6)
    loaded, meta = load_checkpoint(save_checkpoint(model, tmp_path / "a.pt"))
    assert meta["attention"]["binary_matrix"] is True
    assert all(isinstance(la, BinaryMatrixAttention) for la in attention_layers(loaded))


# ------------------------------------------------------------------------------------------ the shipped default
ROOT = Path(__file__).resolve().parents[1]


def test_shipped_default_checkpoint_matches_its_project() -> None:
    project = load_project(ROOT / "projects" / "default.yaml")
    ckpt = project.checkpoint_path()
    assert ckpt is not None and ckpt.stat().st_size < 2_000_000
    model, meta = load_checkpoint(ckpt)
    layers = attention_layers(model)
    m = project.model
    assert meta["role"] == "student" and len(layers) == 2 and 0 <= m.layer < len(layers)
    assert model.cfg.seq_len == m.seq_len <= 64 and model.cfg.embed_dim == m.embed_dim <= 64
    for layer in layers:
        assert layer.mode is BinarizeMode.HARD and layer.num_heads == m.num_heads
        assert layer.top_n.keep(m.seq_len) == m.top_n
        assert float(layer.sigma_q) > 0 and float(layer.sigma_k) > 0


@needs_data
def test_shipped_default_student_is_accurate_on_the_first_test_images() -> None:
    from had_hls.data import load_fashion_mnist
    from had_hls.distill.common import accuracy

    project = load_project(ROOT / "projects" / "default.yaml")
    model, _ = load_checkpoint(project.checkpoint_path())
    data = load_fashion_mnist(train_limit=1, test_limit=1000)
    assert accuracy(model, data.x_test, data.y_test, 500, torch.device("cpu")) >= 0.85
