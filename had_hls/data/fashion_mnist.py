"""Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (IDX files, gzipped or not).

Splits (fixed, documented, independent of any seed):

- ``train``: the first 55,000 images of ``train-images-idx3-ubyte`` in file order,
- ``val``:   the last 5,000 images of the training file (file order is already class-shuffled),
- ``test``:  the 10,000 images of ``t10k-images-idx3-ubyte`` (the held-out test split; never used for training).

Images are returned as float32 (N, 1, 28, 28), normalized as (x/255 - 0.2860) / 0.3530 (the training-set mean
and standard deviation of Fashion-MNIST); labels as int64 (N,).

The folder is ``$HAD_HLS_FASHION_MNIST`` if set, else /usr/share/datasets/fashion-mnist.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from had_hls.errors import UserError

FASHION_MNIST_DIR = Path(os.environ.get("HAD_HLS_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
MEAN, STD = 0.2860, 0.3530
VAL_SAMPLES = 5000


@dataclass(frozen=True)
class ImageSplits:
    """Train/val/test tensors: images (N, C, H, W) float32, labels (N,) int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int = 10

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r}; allowed: train, val, test")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


@lru_cache(maxsize=8)
def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (cached per process; read-only array).

    Layout: magic (0, 0, dtype 0x08 = uint8, ndim), big-endian int32 dims, then the data.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise UserError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(tuple(int(d) for d in dims))


def _find(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise UserError(
        f"Fashion-MNIST file {stem}[.gz] not found in {folder}: install the Debian package dataset-fashion-mnist "
        "or set HAD_HLS_FASHION_MNIST to a folder with the IDX files"
    )


def load_fashion_mnist(
    folder: str | Path | None = None, train_limit: int | None = None, test_limit: int | None = None
) -> ImageSplits:
    """The fixed splits of the module docstring; ``train_limit``/``test_limit`` keep the first N (for fast tests)."""
    folder = Path(folder) if folder is not None else FASHION_MNIST_DIR
    x_tr = _read_idx(_find(folder, "train-images-idx3-ubyte"))
    y_tr = _read_idx(_find(folder, "train-labels-idx1-ubyte"))
    x_te = _read_idx(_find(folder, "t10k-images-idx3-ubyte"))
    y_te = _read_idx(_find(folder, "t10k-labels-idx1-ubyte"))

    def images(a: np.ndarray) -> torch.Tensor:
        return ((torch.from_numpy(a.astype(np.float32)) / 255.0 - MEAN) / STD).unsqueeze(1)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64))

    n_train = len(x_tr) - VAL_SAMPLES
    tr = slice(0, n_train if train_limit is None else min(train_limit, n_train))
    va = slice(n_train, len(x_tr))
    te = slice(0, len(x_te) if test_limit is None else min(test_limit, len(x_te)))
    if test_limit is not None:
        va = slice(n_train, n_train + min(test_limit, VAL_SAMPLES))
    return ImageSplits(
        x_train=images(x_tr[tr]),
        y_train=labels(y_tr[tr]),
        x_val=images(x_tr[va]),
        y_val=labels(y_tr[va]),
        x_test=images(x_te[te]),
        y_test=labels(y_te[te]),
    )
