"""HammingAttention: batch-first multi-head self-attention with binarized queries and keys and top-N rows.

Math (one head, head dim d, x: (L, E)):

    Q = x Wq^T + bq,  K = x Wk^T + bk,  V = x Wv^T + bv
    codes  bQ = b(Q; sigma_Q),  bK = b(K; sigma_K)          (binarize.py; +-1 in ste/hard modes)
    logits = alpha * bQ bK^T,   alpha = sigma_Q sigma_K / sqrt(d)
    hard mode: bQ bK^T = d - 2 ham(Q, K) exactly, ham = popcount(signbits(Q) xor signbits(K))
    top-N:  keep per row the N best logits (stable: ties -> lower key index), others -> -inf
    A = softmax(logits over kept keys),   out = concat_h(A V) Wo^T + bo

In ``float`` mode (the teacher) logits are the standard Q K^T / sqrt(d) and top-N is off unless asked for.
The product of codes is formed first and scaled after, so ties between equal Hamming distances stay exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import hls4ml.utils.torch
import torch
from torch import nn

from had_hls.nn.binarize import BinarizeMode, binary_code
from had_hls.nn.topn import TopN, topn_keep_mask


@dataclass
class AttentionMaps:
    """What a forward pass recorded for distillation losses: (B, H, L, L) logits before top-N, and kept keys."""

    logits: torch.Tensor
    kept: torch.Tensor | None
    key_padding_mask: torch.Tensor | None


class HammingAttention(hls4ml.utils.torch.HLS4MLModule):
    """Multi-head self-attention with HAD binarization; batch-first (B, L, E) in and out.

    A drop-in for the self-attention of a transformer block (``nn.MultiheadAttention(E, H, batch_first=True)``
    called as ``mha(x, x, x, key_padding_mask=m)[0]``): see :meth:`from_multihead_attention`.

    It is an ``HLS4MLModule``: hls4ml's FX tracer keeps it as one node, which had_hls.hls converts to our layers.
    Buffers ``sigma_q``/``sigma_k`` hold the calibrated scales (mean over calibration batches of std(Q), std(K)).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        bias: bool = True,
        top_n: TopN | int | None = None,
        mode: BinarizeMode | str = BinarizeMode.FLOAT,
    ) -> None:
        super().__init__()
        if num_heads < 1 or embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.register_buffer("sigma_q", torch.ones(()))
        self.register_buffer("sigma_k", torch.ones(()))
        self.top_n = TopN(n=top_n) if isinstance(top_n, int) else (top_n or TopN())
        self.mode = BinarizeMode.parse(mode)
        self.tanh_c = 1.0
        self.record_maps = False
        self.maps: AttentionMaps | None = None
        self._calibration: list[tuple[float, float]] | None = None

    # ----------------------------------------------------------------------------------------------- set-up
    @classmethod
    def from_multihead_attention(cls, mha: nn.MultiheadAttention, **kwargs) -> HammingAttention:
        """Copy the projections of a batch-first ``nn.MultiheadAttention`` (packed in_proj) into a new module."""
        if not mha._qkv_same_embed_dim:
            raise ValueError("only self-attention with kdim == vdim == embed_dim can be converted")
        bias = mha.in_proj_bias is not None
        new = cls(mha.embed_dim, mha.num_heads, bias=bias, **kwargs)
        e = mha.embed_dim
        with torch.no_grad():
            for i, proj in enumerate((new.q_proj, new.k_proj, new.v_proj)):
                proj.weight.copy_(mha.in_proj_weight[i * e : (i + 1) * e])
                if bias:
                    proj.bias.copy_(mha.in_proj_bias[i * e : (i + 1) * e])
            new.out_proj.weight.copy_(mha.out_proj.weight)
            if bias:
                new.out_proj.bias.copy_(mha.out_proj.bias)
        return new

    def set_mode(self, mode: BinarizeMode | str, tanh_c: float | None = None) -> None:
        self.mode = BinarizeMode.parse(mode)
        if tanh_c is not None:
            self.tanh_c = float(tanh_c)

    def start_calibration(self) -> None:
        """Record std(Q), std(K) of every following forward pass (one entry per batch)."""
        self._calibration = []

    def calibrate(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> None:
        """Record std(Q), std(K) of ``x`` as a forward pass would, without the attention itself (O(L E^2), not
        O(L^2 E): what lets a random layer at L = 8192 calibrate in a second)."""
        if self._calibration is None:
            raise RuntimeError("calibrate() before start_calibration()")
        q, k = (self._heads(p(x)) for p in (self.q_proj, self.k_proj))
        self._record_calibration(q, k, key_padding_mask)

    def finish_calibration(self) -> None:
        """sigma_q, sigma_k = mean over the recorded batches of the per-batch standard deviations."""
        if not self._calibration:
            raise RuntimeError("finish_calibration() without any forward pass since start_calibration()")
        stds = torch.tensor(self._calibration, dtype=torch.float64)
        self.sigma_q.fill_(float(stds[:, 0].mean()))
        self.sigma_k.fill_(float(stds[:, 1].mean()))
        self._calibration = None

    @property
    def alpha(self) -> torch.Tensor:
        """Logit scale of the Hamming form: sigma_Q sigma_K / sqrt(d)."""
        return self.sigma_q * self.sigma_k / math.sqrt(self.head_dim)

    # -------------------------------------------------------------------------------------------- forward
    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        b, seq, _ = t.shape
        return t.view(b, seq, self.num_heads, self.head_dim).transpose(1, 2)

    def attention_logits(self, q: torch.Tensor, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, ranking score) for per-head q, k of shape (B, H, L, d).

        The ranking score orders keys for top-N: the exact integer dot product of codes in ste/hard modes
        (d - 2 ham), the logits otherwise.
        """
        if self.mode is BinarizeMode.FLOAT:
            logits = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
            return logits, logits
        code_q = binary_code(q, self.sigma_q, self.mode, self.tanh_c)
        code_k = binary_code(k, self.sigma_k, self.mode, self.tanh_c)
        dots = code_q @ code_k.transpose(-1, -2)
        logits = self.alpha * dots
        return logits, dots

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, L, E); key_padding_mask: (B, L) bool, True = padded key. Returns (B, L, E)."""
        if x.dim() != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"expected input (B, L, {self.embed_dim}), got {tuple(x.shape)}")
        seq = x.shape[1]
        q, k, v = (self._heads(p(x)) for p in (self.q_proj, self.k_proj, self.v_proj))
        if self._calibration is not None:
            self._record_calibration(q, k, key_padding_mask)
        logits, score = self.attention_logits(q, k)
        kept = None
        if self.top_n.enabled:
            kept = topn_keep_mask(score.detach(), self.top_n.keep(seq), key_padding_mask)
        probs = self.attention_probs(logits, kept, key_padding_mask)
        if self.record_maps:
            self.maps = AttentionMaps(logits=logits, kept=kept, key_padding_mask=key_padding_mask)
        ctx = (probs @ v).transpose(1, 2).reshape(x.shape[0], seq, self.embed_dim)
        return self.out_proj(ctx)

    def attention_probs(
        self, logits: torch.Tensor, kept: torch.Tensor | None, key_padding_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """softmax over the kept keys (all valid keys when top-N is off); rows with no valid key attend to nothing."""
        if kept is not None:
            masked = logits.masked_fill(~kept, float("-inf"))
        elif key_padding_mask is not None:
            masked = logits.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        else:
            masked = logits
        return torch.nan_to_num(torch.softmax(masked, dim=-1), nan=0.0)

    def _record_calibration(self, q: torch.Tensor, k: torch.Tensor, key_padding_mask: torch.Tensor | None) -> None:
        with torch.no_grad():
            if key_padding_mask is not None:
                valid = ~key_padding_mask[:, None, :, None].expand_as(q)
                q, k = q[valid], k[valid]
            self._calibration.append((float(q.float().std()), float(k.float().std())))

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, mode={self.mode.value}, "
            f"top_n={self.top_n}, sigma_q={float(self.sigma_q):.4g}, sigma_k={float(self.sigma_k):.4g}"
        )


def hamming_distance(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """ham[..., i, j] = number of positions where sign bits (x < 0) of q[..., i, :] and k[..., j, :] differ."""
    qb = (q < 0).to(torch.float32)
    kb = (k < 0).to(torch.float32)
    return qb @ (1 - kb).transpose(-1, -2) + (1 - qb) @ kb.transpose(-1, -2)
