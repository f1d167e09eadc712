"""Shared training helpers: device choice, seeded batch streams, accuracy, data loading for a project."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from had_hls.data import ImageSplits, load_fashion_mnist
from had_hls.data.fashion_mnist import MEAN, STD
from had_hls.distill.config import TeacherSection


def pick_device(name: str) -> torch.device:
    """auto -> cuda when available, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from had_hls.errors import UserError

        raise UserError("distill.device: cuda is not allowed here: no CUDA device is available (use auto or cpu)")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    """Where results were produced, for reports: 'cpu (N threads)' or the CUDA device name."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def load_data(teacher: TeacherSection, seq_len: int | None = None) -> ImageSplits:
    """The teacher's dataset: Fashion-MNIST images, or token ids (TextSplits, max_len = ``seq_len``) for text."""
    if teacher.dataset in ("bbc", "tweets"):
        from had_hls.data.bbc import load_bbc
        from had_hls.data.tweets import load_tweets

        loader = load_bbc if teacher.dataset == "bbc" else load_tweets
        return loader(seq_len or 512).limit(teacher.train_limit, teacher.test_limit)  # type: ignore[return-value]
    return load_fashion_mnist(train_limit=teacher.train_limit, test_limit=teacher.test_limit)


def batch_stream(n: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """Endless index batches: seeded shuffled epochs over range(n), the last partial batch of an epoch dropped
    when n >= batch_size (kept otherwise)."""
    gen = torch.Generator().manual_seed(seed)
    bs = min(batch_size, n)
    while True:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n - bs + 1, bs):
            yield perm[i : i + bs]


def random_shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Shift each image by (dy, dx) in [-max_shift, max_shift]^2, padded with black (pixel 0, i.e. -mean/std)."""
    b, c, h, w = x.shape
    pad_value = -MEAN / STD
    padded = torch.nn.functional.pad(x, (max_shift,) * 4, value=pad_value)
    shifts = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=gen)
    rows = (torch.arange(h)[None, :] + shifts[:, :1]).clamp_max(h + 2 * max_shift - 1)
    cols = (torch.arange(w)[None, :] + shifts[:, 1:]).clamp_max(w + 2 * max_shift - 1)
    idx_b = torch.arange(b)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_b, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, device: torch.device) -> float:
    """Fraction of ``x`` classified as ``y`` (model in eval mode; its training flag is restored)."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        logits = model(x[i : i + batch_size].to(device))
        correct += int((logits.argmax(-1).cpu() == y[i : i + batch_size]).sum())
    model.train(was_training)
    return correct / max(1, len(x))
