"""Top-N selection of attention keys with the had-hls tie rule, and N as a function of the sequence length.

Tie rule (README, "Top-N tie rule"), the same in torch, golden, C++ and RTL: per query row keep the N keys with the
highest score (smallest Hamming distance); among equal scores the lower key index wins; padded keys are never
kept; exactly min(N, valid keys) keys are kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TopN:
    """How many keys each query keeps: a fixed ``n``, or ``ceil(ratio * L)`` clamped to [n_min, n_max], and <= L.

    ``n=None`` and ``ratio=None`` means no top-N (dense attention).
    """

    n: int | None = None
    ratio: float | None = None
    n_min: int = 1
    n_max: int | None = None

    def __post_init__(self) -> None:
        if self.n is not None and self.ratio is not None:
            raise ValueError("top-N takes either a fixed n or a ratio, not both")
        if self.n is not None and self.n < 1:
            raise ValueError(f"top_n must be >= 1, got {self.n}")
        if self.ratio is not None and not 0.0 < self.ratio <= 1.0:
            raise ValueError(f"top_n_ratio must be in (0, 1], got {self.ratio}")
        if self.n_min < 1:
            raise ValueError(f"top_n_min must be >= 1, got {self.n_min}")

    @property
    def enabled(self) -> bool:
        return self.n is not None or self.ratio is not None

    def keep(self, seq_len: int) -> int:
        """Keys kept per query row for a sequence of ``seq_len`` keys (seq_len when top-N is off)."""
        if self.n is not None:
            n = self.n
        elif self.ratio is not None:
            n = max(self.n_min, math.ceil(self.ratio * seq_len))
            if self.n_max is not None:
                n = min(n, self.n_max)
        else:
            n = seq_len
        return min(n, seq_len)


def topn_keep_mask(score: torch.Tensor, n_keep: int, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean mask of the kept keys, shape of ``score`` (..., L_q, L_k).

    ``score``: higher is better (e.g. d - 2*ham, or a logit). ``key_padding_mask``: (B, L_k), True = padded;
    ``score`` is then (B, ..., L_q, L_k). A stable descending sort gives the tie rule: equal scores keep their
    index order, so the lower key index ranks first. Rows with fewer than ``n_keep`` valid keys keep all valid keys.
    """
    if key_padding_mask is not None:
        pad = key_padding_mask.view(key_padding_mask.shape[0], *([1] * (score.dim() - 2)), key_padding_mask.shape[-1])
        score = score.masked_fill(pad, float("-inf"))
    order = torch.sort(score, dim=-1, descending=True, stable=True).indices
    ranks = torch.empty_like(order)
    ranks.scatter_(-1, order, torch.arange(score.shape[-1], device=score.device).expand_as(order))
    kept = ranks < n_keep
    if key_padding_mask is not None:
        kept &= ~pad
    return kept
