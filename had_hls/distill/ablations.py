"""Ablation-only attention variant: binarizing the attention matrix A itself (HAD paper, Sec. ablations).

:class:`BinaryMatrixAttention` is a :class:`HammingAttention` whose softmax weights are replaced, in ``ste`` and
``hard`` modes, by a binary matrix: A_ij = 1/n_i for the n_i kept keys of query row i (top-N, or all valid keys
when top-N is off), 0 elsewhere; i.e. uniform attention over the kept keys. The backward pass uses the gradient
of the softmax weights (straight-through). It is not a hardware target: the hardware flow uses HammingAttention.
"""

from __future__ import annotations

import torch

from had_hls.nn import AttentionMaps, BinarizeMode, HammingAttention
from had_hls.nn.topn import topn_keep_mask


class BinaryMatrixAttention(HammingAttention):
    """HammingAttention with A binarized (see the module docstring)."""

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"expected input (B, L, {self.embed_dim}), got {tuple(x.shape)}")
        seq = x.shape[1]
        q, k, v = (self._heads(p(x)) for p in (self.q_proj, self.k_proj, self.v_proj))
        if self._calibration is not None:
            self._record_calibration(q, k, key_padding_mask)
        logits, score = self.attention_logits(q, k)
        n_keep = self.top_n.keep(seq) if self.top_n.enabled else seq
        kept = topn_keep_mask(score.detach(), n_keep, key_padding_mask)
        masked = logits.masked_fill(~kept, float("-inf"))
        probs = torch.nan_to_num(torch.softmax(masked, dim=-1), nan=0.0)
        if self.mode in (BinarizeMode.STE, BinarizeMode.HARD):
            binary = kept.to(probs.dtype) / kept.sum(-1, keepdim=True).clamp_min(1).to(probs.dtype)
            probs = probs + (binary - probs).detach()
        if self.record_maps:
            self.maps = AttentionMaps(
                logits=logits, kept=kept if self.top_n.enabled else None, key_padding_mask=key_padding_mask
            )
        ctx = (probs @ v).transpose(1, 2).reshape(x.shape[0], seq, self.embed_dim)
        return self.out_proj(ctx)


def binarize_attention_matrix(model: torch.nn.Module) -> None:
    """Turn every HammingAttention of ``model`` into a BinaryMatrixAttention in place (same parameters)."""
    for m in model.modules():
        if type(m) is HammingAttention:
            m.__class__ = BinaryMatrixAttention
