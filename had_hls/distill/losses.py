"""Distillation losses: KL on attention logits (per layer and head) and KL on output logits with a temperature.

Both are KL(teacher || student) (the teacher is the target distribution) and exactly 0 when student == teacher.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from had_hls.nn import AttentionMaps

_EXCLUDED = -1e9
AttnKL = Literal["student_unmasked", "teacher_renormalized"]


def output_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """T^2 * mean over the batch of KL(softmax(z_t / T) || softmax(z_s / T)) (Hinton et al.; T^2 keeps the gradient
    scale independent of T)."""
    t = temperature
    log_s = F.log_softmax(student_logits / t, dim=-1)
    log_t = F.log_softmax(teacher_logits.detach() / t, dim=-1)
    return (log_t.exp() * (log_t - log_s)).sum(-1).mean() * t * t


def attention_kl(student: AttentionMaps, teacher: AttentionMaps, kind: AttnKL = "student_unmasked") -> torch.Tensor:
    """KL(P_t || P_s) of one layer, averaged over batch, heads and valid query rows; logits (B, H, L, L).

    Keys outside ``key_padding_mask`` are excluded from both softmaxes; padded query rows are not averaged.

    student_unmasked     : P_s = softmax of the student's logits over all valid keys, *before* top-N, so the KL is
                           finite; top-N only decides what the forward pass uses.
    teacher_renormalized : P_t and P_s both restricted to the student's kept keys (``student.kept``), the teacher
                           renormalized over them: sum_{j kept} P_t(j) / Z_t log(...); equals student_unmasked when
                           no top-N mask was used.
    """
    s, t = student.logits, teacher.logits.detach()
    if s.shape != t.shape:
        raise ValueError(f"attention logits differ in shape: student {tuple(s.shape)}, teacher {tuple(t.shape)}")
    b, _, seq, _ = s.shape
    keep = torch.ones(b, 1, 1, seq, dtype=torch.bool, device=s.device)
    pad = student.key_padding_mask
    if pad is not None:
        keep = keep & ~pad[:, None, None, :]
    if kind == "teacher_renormalized" and student.kept is not None:
        keep = keep & student.kept
    elif kind not in ("student_unmasked", "teacher_renormalized"):
        raise ValueError(f"attn_kl {kind!r} is not one of: student_unmasked, teacher_renormalized")
    # a large finite fill (not -inf, not finfo.min): excluded keys get probability exactly 0 and every term,
    # including its gradient, stays finite before the mask zeroes it
    log_s = F.log_softmax(s.masked_fill(~keep, _EXCLUDED), dim=-1)
    log_t = F.log_softmax(t.masked_fill(~keep, _EXCLUDED), dim=-1)
    row = (log_t.exp() * (log_t - log_s)).masked_fill(~keep, 0.0).sum(-1)
    if pad is None:
        return row.mean()
    rows = (~pad)[:, None, :].expand_as(row).to(row.dtype)
    return (row * rows).sum() / rows.sum().clamp_min(1.0)


def layers_attention_kl(
    student_maps: list[AttentionMaps], teacher_maps: list[AttentionMaps], kind: AttnKL = "student_unmasked"
) -> torch.Tensor:
    """Mean over layers of :func:`attention_kl`."""
    if len(student_maps) != len(teacher_maps) or not student_maps:
        raise ValueError(f"need matching non-empty map lists, got {len(student_maps)} and {len(teacher_maps)}")
    return torch.stack([attention_kl(s, t, kind) for s, t in zip(student_maps, teacher_maps, strict=True)]).mean()
