"""Ablation-only attention variant: binarizing the attention matrix A itself (HAD paper, Sec. ablations).

:class:`BinaryMatrixAttention` is a :class:`HammingAttention` whose softmax weights are replaced, in ``ste`` and
``hard`` modes, by a binary matrix: A_ij = 1/n_i for the n_i kept keys of query row i (top-N, or all valid keys
when top-N is off), 0 elsewhere; i.e. uniform attention over the kept keys. The backward pass uses the gradient
of the softmax weights (straight-through). It is not a hardware target: the hardware flow uses HammingAttention.
"""

from __future__ import annotations

import torch

from had_hls.nn import BinarizeMode, HammingAttention


class BinaryMatrixAttention(HammingAttention):
    """HammingAttention with A binarized (see the module docstring)."""

    def attention_probs(
        self, logits: torch.Tensor, kept: torch.Tensor | None, key_padding_mask: torch.Tensor | None
    ) -> torch.Tensor:
        probs = super().attention_probs(logits, kept, key_padding_mask)
        if self.mode not in (BinarizeMode.STE, BinarizeMode.HARD):
            return probs
        if kept is None:  # top-N off: the support is every valid key
            kept = torch.ones_like(logits, dtype=torch.bool)
            if key_padding_mask is not None:
                kept &= ~key_padding_mask[:, None, None, :]
        binary = kept.to(probs.dtype) / kept.sum(-1, keepdim=True).clamp_min(1).to(probs.dtype)
        return probs + (binary - probs).detach()


def binarize_attention_matrix(model: torch.nn.Module) -> None:
    """Turn every HammingAttention of ``model`` into a BinaryMatrixAttention in place (same parameters)."""
    for m in model.modules():
        if type(m) is HammingAttention:
            m.__class__ = BinaryMatrixAttention
