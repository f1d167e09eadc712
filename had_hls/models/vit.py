"""A small ViT-style classifier whose self-attention is :class:`HammingAttention`.

The teacher and the HAD student are the same class: the teacher runs its attention in ``float`` mode with top-N
off (standard softmax(Q K^T / sqrt(d)) V), the student in ``tanh``/``ste``/``hard`` mode with top-N.

Forward, for an image x of shape (C, H, W) cut into P x P patches (L = (H/P)(W/P) tokens, E = embed_dim):

    t_0   = Linear(flatten(patch_l)) + pos_l                 l = 1..L        (+ a CLS token when pool == "cls")
    t'    = t + HammingAttention(LN(t))                      pre-LN encoder block, repeated ``depth`` times
    t''   = t' + W_2 act(W_1 LN(t') + b_1) + b_2              act = GELU or ReLU
    z     = LN(t_final);  h = mean_l z_l  (or z_CLS);  logits = W_h h + b_h

Token mode (``vocab_size > 0``, e.g. ListOps): the input is token ids (B, max_len) with id 0 = padding, embedded by
``token_embed`` (nn.Embedding) instead of the patch Linear; the padded positions are the key padding mask of every
attention layer, and mean pooling averages the unpadded tokens only. Everything else is the same encoder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from had_hls.nn import BinarizeMode, HammingAttention, TopN


@dataclass(frozen=True)
class ViTConfig:
    """Shape of :class:`TinyViT`; ``seq_len`` (tokens into attention) = (image/patch)^2 (+1 with a CLS token).

    vocab_size > 0 selects token mode: inputs are ids (B, max_len), id 0 = padding; seq_len = max_len (+1 with CLS).
    """

    image_size: int = 28
    in_channels: int = 1
    patch_size: int = 4
    embed_dim: int = 64
    num_heads: int = 4
    depth: int = 2
    mlp_dim: int = 128
    num_classes: int = 10
    pool: Literal["mean", "cls"] = "mean"
    activation: Literal["gelu", "relu"] = "gelu"
    vocab_size: int = 0  # 0: image patches; > 0: token ids (token mode)
    max_len: int = 0  # token mode: tokens per example

    def __post_init__(self) -> None:
        if self.vocab_size and self.max_len < 1:
            raise ValueError(f"token mode (vocab_size={self.vocab_size}) needs max_len >= 1, got {self.max_len}")
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size={self.image_size} is not a multiple of patch_size={self.patch_size}")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"embed_dim={self.embed_dim} is not divisible by num_heads={self.num_heads}")

    @property
    def tokens_mode(self) -> bool:
        return self.vocab_size > 0

    @property
    def num_patches(self) -> int:
        """Input tokens before a CLS token: patches of the image, or max_len in token mode."""
        if self.tokens_mode:
            return self.max_len
        return (self.image_size // self.patch_size) ** 2

    @property
    def seq_len(self) -> int:
        return self.num_patches + (1 if self.pool == "cls" else 0)

    def to_dict(self) -> dict[str, Any]:
        """As a dict; image models leave out the token-mode fields (their checkpoints and fingerprints are the same
        as before token mode existed)."""
        d = asdict(self)
        if not self.tokens_mode:
            d.pop("vocab_size")
            d.pop("max_len")
        return d


class EncoderBlock(nn.Module):
    """Pre-LN transformer block: x + attn(LN x), then x + MLP(LN x)."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.embed_dim)
        self.attn = HammingAttention(cfg.embed_dim, cfg.num_heads)
        self.norm2 = nn.LayerNorm(cfg.embed_dim)
        act: nn.Module = nn.GELU() if cfg.activation == "gelu" else nn.ReLU()
        self.mlp = nn.Sequential(nn.Linear(cfg.embed_dim, cfg.mlp_dim), act, nn.Linear(cfg.mlp_dim, cfg.embed_dim))

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), key_padding_mask)
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    """ViT-style classifier, (B, C, H, W) images (or (B, max_len) token ids) -> (B, num_classes) logits; see the
    module docstring."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg.patch_size
        if cfg.tokens_mode:
            self.token_embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim)
        else:
            self.patch_embed = nn.Linear(cfg.in_channels * p * p, cfg.embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.embed_dim)) if cfg.pool == "cls" else None
        self.pos_embed = nn.Parameter(torch.randn(1, cfg.seq_len, cfg.embed_dim) * 0.02)
        self.blocks = nn.ModuleList(EncoderBlock(cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.embed_dim)
        self.head = nn.Linear(cfg.embed_dim, cfg.num_classes)

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, L, C*P*P), patches in row-major order, each flattened as (C, P, P)."""
        b, c, h, w = x.shape
        p = self.cfg.patch_size
        x = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(b, (h // p) * (w // p), c * p * p)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Token embeddings (B, L, E) that enter the first encoder block."""
        t = self.token_embed(x) if self.cfg.tokens_mode else self.patch_embed(self.patchify(x))
        if self.cls_token is not None:
            t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], dim=1)
        return t + self.pos_embed

    def padding_mask(self, x: torch.Tensor) -> torch.Tensor | None:
        """(B, L) bool, True = padded (token mode: id 0; the CLS token is never padded); None for images."""
        if not self.cfg.tokens_mode:
            return None
        pad = x == 0
        if self.cls_token is not None:
            pad = torch.cat([torch.zeros_like(pad[:, :1]), pad], dim=1)
        return pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.tokens(x)
        pad = self.padding_mask(x)
        for block in self.blocks:
            t = block(t, pad)
        z = self.norm(t)
        if self.cls_token is not None:
            h = z[:, 0]
        elif pad is None:
            h = z.mean(dim=1)
        else:
            keep = (~pad).to(z.dtype)[..., None]
            h = (z * keep).sum(1) / keep.sum(1).clamp_min(1.0)
        return self.head(h)

    # ------------------------------------------------------------------------------------------ attention
    def attention_layers(self) -> list[HammingAttention]:
        return [block.attn for block in self.blocks]

    def set_attention(self, mode: BinarizeMode | str, tanh_c: float | None = None, top_n: TopN | None = None) -> None:
        """Set the binarization mode (and c) of every attention layer, and its top-N when given."""
        for layer in self.attention_layers():
            layer.set_mode(mode, tanh_c)
            if top_n is not None:
                layer.top_n = top_n
