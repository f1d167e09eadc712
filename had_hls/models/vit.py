"""A small ViT-style classifier whose self-attention is :class:`HammingAttention`.

The teacher and the HAD student are the same class: the teacher runs its attention in ``float`` mode with top-N
off (standard softmax(Q K^T / sqrt(d)) V), the student in ``tanh``/``ste``/``hard`` mode with top-N.

Forward, for an image x of shape (C, H, W) cut into P x P patches (L = (H/P)(W/P) tokens, E = embed_dim):

    t_0   = Linear(flatten(patch_l)) + pos_l                 l = 1..L        (+ a CLS token when pool == "cls")
    t'    = t + HammingAttention(LN(t))                      pre-LN encoder block, repeated ``depth`` times
    t''   = t' + W_2 act(W_1 LN(t') + b_1) + b_2              act = GELU or ReLU
    z     = LN(t_final);  h = mean_l z_l  (or z_CLS);  logits = W_h h + b_h
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from had_hls.nn import BinarizeMode, HammingAttention, TopN


@dataclass(frozen=True)
class ViTConfig:
    """Shape of :class:`TinyViT`; ``seq_len`` (tokens into attention) = (image/patch)^2 (+1 with a CLS token)."""

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

    def __post_init__(self) -> None:
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size={self.image_size} is not a multiple of patch_size={self.patch_size}")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"embed_dim={self.embed_dim} is not divisible by num_heads={self.num_heads}")

    @property
    def num_patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    @property
    def seq_len(self) -> int:
        return self.num_patches + (1 if self.pool == "cls" else 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EncoderBlock(nn.Module):
    """Pre-LN transformer block: x + attn(LN x), then x + MLP(LN x)."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.embed_dim)
        self.attn = HammingAttention(cfg.embed_dim, cfg.num_heads)
        self.norm2 = nn.LayerNorm(cfg.embed_dim)
        act: nn.Module = nn.GELU() if cfg.activation == "gelu" else nn.ReLU()
        self.mlp = nn.Sequential(nn.Linear(cfg.embed_dim, cfg.mlp_dim), act, nn.Linear(cfg.mlp_dim, cfg.embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    """ViT-style image classifier, (B, C, H, W) -> (B, num_classes) logits; see the module docstring."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg.patch_size
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
        t = self.patch_embed(self.patchify(x))
        if self.cls_token is not None:
            t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], dim=1)
        return t + self.pos_embed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.tokens(x)
        for block in self.blocks:
            t = block(t)
        z = self.norm(t)
        h = z[:, 0] if self.cls_token is not None else z.mean(dim=1)
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
