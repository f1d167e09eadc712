"""ListOps (Nangia & Bowman 2018, as in Long Range Arena, Tay et al. 2021): a seeded synthetic long-context task.

An expression is a tree of operators over digits 0-9, written in prefix form with brackets::

    [MAX 2 9 [MIN 4 7 ] 0 ]            -> 9
    [SM [MED 3 1 8 ] 5 6 ]             -> (3 + 5 + 6) % 10 = 4

Operators (each takes 2..max_args arguments, each argument a digit or a nested expression):

    MAX  the largest argument          MIN  the smallest argument
    SM   the sum of the arguments modulo 10
    MED  the median: the middle element of the sorted arguments for an odd count; for an even count the mean of the
         two middle elements rounded down (floor((a + b) / 2)). This is LRA's rule (``int(np.median(args))`` on
         non-negative integers), so MED 1 2 -> 1, MED 3 4 8 9 -> 6.

The label is the value of the whole expression, 0-9 (10 classes).

Tokens (one per symbol; the brackets around LRA's parse tree, "(" and ")", are not tokens, as in LRA's input
pipeline): 0 = padding, 1..10 = the digits 0..9, 11 = ``[MAX``, 12 = ``[MIN``, 13 = ``[MED``, 14 = ``[SM``, 15 =
``]``; ``VOCAB_SIZE`` = 16. An example is its tokens followed by padding up to ``seq_len``; the padding mask is
``ids == PAD`` (True = padded), so a model never needs a separate mask tensor.

Generator (own code, following the process of LRA's generator): the root is an operator; below it, a node at
bracket depth < ``max_depth`` is an operator with probability ``operator_p`` (LRA: 0.25), else a digit; an operator
picks its operator and its argument count (2..max_args) uniformly, a digit is uniform in 0..9. Expressions whose
token count is outside [min_length, max_length] are rejected (generation stops as soon as one grows too long), and
so are duplicates. ``max_depth`` is the largest bracket nesting (the root operator is depth 1; LRA's generator
flag max_depth=10 makes depth-10 nodes digits, i.e. nesting <= 9, so our 10 allows one level more).

Splits (fixed for a ``listops:`` section; nothing is downloaded): each split has its own random stream, Python's
``random.Random("had-hls/listops/v1/<seed>/<split>")``. Val and test are generated first and are independent of
the training size; the training split skips any expression that is in val or test. Defaults (``ListOpsSection``):
seed 0, 48,000 train / 2,000 val / 2,000 test (LRA: 96,000 / 2,000 / 2,000 at lengths 500-2000), max_depth 10,
max_args 10, lengths 64..seq_len tokens. Generated splits are cached as int8 tensors in ``.cache/listops/``
(``$HAD_HLS_LISTOPS_CACHE``), keyed by every generator setting and the format version.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from had_hls.config import ConfigError

PAD = 0
DIGIT0 = 1  # token of digit v is DIGIT0 + v
MAX, MIN, MED, SM = 11, 12, 13, 14
CLOSE = 15
VOCAB_SIZE = 16
OPERATORS = (MAX, MIN, MED, SM)
OP_NAMES = {MAX: "[MAX", MIN: "[MIN", MED: "[MED", SM: "[SM"}
CLASSES = tuple(str(v) for v in range(10))
VERSION = "v1"
CACHE_ENV = "HAD_HLS_LISTOPS_CACHE"
SPLITS = ("val", "test", "train")  # generation order (train skips what val/test hold)


@dataclass(frozen=True)
class ListOpsSection:
    """``listops:`` the ListOps generator (used when ``teacher.dataset: listops``); see had_hls.data.listops.

    seed        : the splits' random streams (each split has its own stream; see the module docstring).
    train_size, val_size, test_size: expressions per split (defaults 48,000 / 2,000 / 2,000).
    max_depth   : largest bracket nesting (>= 1; LRA: up to 9).   max_args: most arguments of one operator (>= 2).
    operator_p  : probability that a non-root node above max_depth is an operator (LRA: 0.25), in (0, 1).
    min_length  : fewest tokens of an expression (>= 3: ``[OP d d ]`` has 4).
    max_length  : most tokens; null = model.seq_len; must be <= model.seq_len.
    """

    seed: int = 0
    train_size: int = 48000
    val_size: int = 2000
    test_size: int = 2000
    max_depth: int = 10
    max_args: int = 10
    operator_p: float = 0.25
    min_length: int = 64
    max_length: int | None = None

    def validate(self, path: str) -> None:
        for key in ("train_size", "val_size", "test_size", "max_depth"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{path}.{key}: {getattr(self, key)} is not allowed: must be >= 1")
        if self.max_args < 2:
            raise ConfigError(f"{path}.max_args: {self.max_args} is not allowed: must be >= 2")
        if not 0 < self.operator_p < 1:
            raise ConfigError(f"{path}.operator_p: {self.operator_p} is not allowed: must be in (0, 1)")
        if self.min_length < 4:
            raise ConfigError(f"{path}.min_length: {self.min_length} is not allowed: must be >= 4 ([OP d d ])")
        if self.max_length is not None and self.max_length < self.min_length:
            raise ConfigError(
                f"{path}.max_length: {self.max_length} is not allowed: must be >= min_length={self.min_length}"
            )

    def check_seq_len(self, seq_len: int, path: str = "listops") -> None:
        """Cross-section rule: expressions must fit model.seq_len."""
        if self.max_length is not None and self.max_length > seq_len:
            raise ConfigError(
                f"{path}.max_length: {self.max_length} is not allowed: must be <= model.seq_len={seq_len}"
            )
        if self.min_length > seq_len:
            raise ConfigError(
                f"{path}.min_length: {self.min_length} is not allowed: must be <= model.seq_len={seq_len}"
            )

    def generator(self, seq_len: int) -> GeneratorConfig:
        self.check_seq_len(seq_len)
        return GeneratorConfig(
            max_depth=self.max_depth,
            max_args=self.max_args,
            operator_p=self.operator_p,
            min_length=self.min_length,
            max_length=seq_len if self.max_length is None else self.max_length,
        )


@dataclass(frozen=True)
class GeneratorConfig:
    """Shape of the generated expressions (lengths in tokens, inclusive)."""

    max_depth: int = 10
    max_args: int = 10
    operator_p: float = 0.25
    min_length: int = 64
    max_length: int = 256


# ------------------------------------------------------------------------------------------------ evaluator
def apply_op(op: int, args: Sequence[int]) -> int:
    """Value of operator token ``op`` over digit values ``args`` (non-empty)."""
    if not args:
        raise ValueError(f"{OP_NAMES.get(op, op)} has no arguments")
    if op == MAX:
        return max(args)
    if op == MIN:
        return min(args)
    if op == SM:
        return sum(args) % 10
    if op == MED:
        s = sorted(args)
        n = len(s)
        return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) // 2
    raise ValueError(f"token {op} is not an operator")


def evaluate(tokens: Iterable[int]) -> int:
    """Value (0-9) of one expression given as token ids; trailing padding is ignored. Raises ValueError if the
    tokens are not exactly one well-formed expression (a digit alone counts as one)."""
    stack: list[tuple[int, list[int]]] = []
    result: int | None = None
    padded = False
    for raw in tokens:
        t = int(raw)
        if t == PAD:
            padded = True
            continue
        if padded:
            raise ValueError("token after padding")
        if result is not None:
            raise ValueError("tokens after the end of the expression")
        if t in OPERATORS:
            stack.append((t, []))
            continue
        if DIGIT0 <= t < DIGIT0 + 10:
            value = t - DIGIT0
        elif t == CLOSE:
            if not stack:
                raise ValueError("']' without an open operator")
            op, args = stack.pop()
            value = apply_op(op, args)
        else:
            raise ValueError(f"unknown token {t}")
        if stack:
            stack[-1][1].append(value)
        else:
            result = value
    if stack:
        raise ValueError(f"{len(stack)} operator(s) not closed")
    if result is None:
        raise ValueError("empty expression")
    return result


def tokenize(text: str) -> list[int]:
    """``"[MAX 2 9 [MIN 4 7 ] 0 ]"`` -> token ids (symbols separated by white space; "(" and ")" are dropped)."""
    names = {name: tok for tok, name in OP_NAMES.items()}
    out = []
    for sym in text.replace("(", " ").replace(")", " ").split():
        if sym in names:
            out.append(names[sym])
        elif sym == "]":
            out.append(CLOSE)
        elif len(sym) == 1 and sym.isdigit():
            out.append(DIGIT0 + int(sym))
        else:
            raise ValueError(f"unknown ListOps symbol {sym!r}")
    return out


def to_text(tokens: Iterable[int]) -> str:
    """Token ids -> ``"[MAX 2 9 ]"`` (padding dropped)."""
    syms = []
    for raw in tokens:
        t = int(raw)
        if t == PAD:
            continue
        syms.append(OP_NAMES.get(t) or ("]" if t == CLOSE else str(t - DIGIT0)))
    return " ".join(syms)


def nesting_depth(tokens: Iterable[int]) -> int:
    """Largest bracket nesting of an expression (0 for a bare digit)."""
    depth = best = 0
    for t in tokens:
        if int(t) in OPERATORS:
            depth += 1
            best = max(best, depth)
        elif int(t) == CLOSE:
            depth -= 1
    return best


# ------------------------------------------------------------------------------------------------ generator
class _TooLong(Exception):
    pass


def _grow(rng: random.Random, depth: int, g: GeneratorConfig, out: list[int]) -> None:
    """Append one operator node at bracket depth ``depth`` (its arguments recursively) to ``out``.

    Every draw is ``rng.random()`` (uniform choices as floor(u * k)): one stream, fast, reproducible across
    platforms and Python versions."""
    rand = rng.random
    out.append(OPERATORS[int(rand() * 4)])
    nested = depth < g.max_depth
    for _ in range(2 + int(rand() * (g.max_args - 1))):
        if nested and rand() < g.operator_p:
            _grow(rng, depth + 1, g, out)
        else:
            out.append(DIGIT0 + int(rand() * 10))
        if len(out) + depth > g.max_length:  # the ``depth`` open brackets still need their "]"
            raise _TooLong
    out.append(CLOSE)


def sample_expression(rng: random.Random, g: GeneratorConfig) -> list[int] | None:
    """One expression from the generator process, or None if its length falls outside [min_length, max_length]."""
    out: list[int] = []
    try:
        _grow(rng, 1, g, out)
    except _TooLong:
        return None
    return out if len(out) >= g.min_length else None


def split_rng(seed: int, split: str) -> random.Random:
    return random.Random(f"had-hls/listops/{VERSION}/{seed}/{split}")


def generate_split(
    n: int, rng: random.Random, g: GeneratorConfig, exclude: set[tuple[int, ...]] | None = None
) -> list[list[int]]:
    """``n`` distinct accepted expressions (none of them in ``exclude``)."""
    seen: set[tuple[int, ...]] = set(exclude or ())
    out: list[list[int]] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries >= 200_000 and len(out) * 10_000 < tries:  # acceptance below 1e-4: give up, say why
            raise ConfigError(
                f"listops: the generator accepts too few expressions (lengths {g.min_length}..{g.max_length}, "
                f"max_depth {g.max_depth}, max_args {g.max_args}, operator_p {g.operator_p}): widen the length range"
            )
        expr = sample_expression(rng, g)
        if expr is None:
            continue
        key = tuple(expr)
        if key in seen:
            continue
        seen.add(key)
        out.append(expr)
    return out


def encode(exprs: Sequence[Sequence[int]], seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (n, seq_len) int64 padded with PAD, labels (n,) int64 from :func:`evaluate`)."""
    ids = torch.zeros(len(exprs), seq_len, dtype=torch.int64)
    labels = torch.empty(len(exprs), dtype=torch.int64)
    for i, e in enumerate(exprs):
        if len(e) > seq_len:
            raise ValueError(f"expression of {len(e)} tokens does not fit seq_len={seq_len}")
        ids[i, : len(e)] = torch.tensor(e, dtype=torch.int64)
        labels[i] = evaluate(e)
    return ids, labels


def padding_mask(ids: torch.Tensor) -> torch.Tensor:
    """True where ``ids`` is padding."""
    return ids == PAD


def cache_dir() -> Path:
    """$HAD_HLS_LISTOPS_CACHE, else <repo>/.cache/listops (git-ignored)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".cache" / "listops"


def generate_splits(section: ListOpsSection, seq_len: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{split: (ids, labels)} for the section (no cache)."""
    g = section.generator(seq_len)
    sizes = {"train": section.train_size, "val": section.val_size, "test": section.test_size}
    held: set[tuple[int, ...]] = set()
    out = {}
    for split in SPLITS:
        exclude = held if split == "train" else None
        exprs = generate_split(sizes[split], split_rng(section.seed, split), g, exclude)
        if split != "train":
            held.update(tuple(e) for e in exprs)
        out[split] = encode(exprs, seq_len)
    return out


def load_listops(section: ListOpsSection, seq_len: int, cache: bool = True):  # noqa: ANN201  (TextSplits)
    """The section's splits as TextSplits (ids (N, seq_len) int64, PAD = 0), cached in :func:`cache_dir`."""
    from had_hls.data.bbc import TextSplits

    key = json.dumps({"section": asdict(section), "seq_len": seq_len, "version": VERSION}, sort_keys=True)
    path = cache_dir() / f"listops_L{seq_len}_{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"
    raw = None
    if cache and path.is_file():
        try:
            raw = torch.load(path, weights_only=True)
        except Exception:
            raw = None
    if raw is None:
        splits = generate_splits(section, seq_len)
        raw = {"key": key}
        for split, (ids, labels) in splits.items():
            raw[f"x_{split}"] = ids.to(torch.int8)
            raw[f"y_{split}"] = labels.to(torch.int8)
        if cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            torch.save(raw, tmp)
            os.replace(tmp, path)
    return TextSplits(
        **{f"{a}_{s}": raw[f"{a}_{s}"].to(torch.int64) for a in ("x", "y") for s in ("train", "val", "test")},
        classes=CLASSES,
    )
