"""Shapes beyond this machine: the memory a layer's simulation needs, checked before anything is allocated.

:func:`layer_memory_bytes_model` is a model, not a measurement: the largest live arrays of ``had-hls csim`` on K
seeded inputs of one layer (L tokens, E features, H heads), all float64 or int64:

- the torch reference (float64, the whole batch at once): logits, scores, masked logits and probabilities,
  4 x (K, H, L, L) x 8 bytes, plus the top-N sort's int64 indices (K, H, L, L) x 8;
- the golden traces kept for the K inputs: scores (int64), weights (int64) and kept (bool), (K, H, L, L) x 17 bytes;
- about twelve (K, L, E) float64 arrays (inputs, C-sim, golden and torch outputs of both layers, quantized copies);
- the four E x E projections, a few copies.

So ``bytes ~ 57 K H L^2 + 96 K L E + 128 E^2``. :func:`check_layer_memory` refuses a shape whose model exceeds
the memory of the machine (``MemTotal``, or the cgroup limit when lower) with one line naming the key that is too
large, its value, the need, the limit, and the largest value of that key that fits.
"""

from __future__ import annotations

import os
from pathlib import Path

from had_hls.errors import UserError

BYTES_PER_SCORE = 57  # per (K, H, L, L) element: 5 float64/int64 torch arrays (40) + golden traces (17)
BYTES_PER_ACTIVATION = 96  # per (K, L, E) element: twelve float64 arrays
BYTES_PER_WEIGHT = 128  # per E^2: four projections, four copies, 8 bytes


def layer_memory_bytes_model(seq_len: int, embed_dim: int, num_heads: int, vectors: int) -> int:
    """Modelled peak bytes of one layer's C-simulation on ``vectors`` inputs (module docstring)."""
    k, h, seq, e = int(vectors), int(num_heads), int(seq_len), int(embed_dim)
    return BYTES_PER_SCORE * k * h * seq * seq + BYTES_PER_ACTIVATION * k * seq * e + BYTES_PER_WEIGHT * e * e


def machine_memory_bytes() -> int:
    """Physical memory of this machine, or the cgroup (v2 or v1) memory limit of this process when lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} EiB"


def _largest_fitting(fits, start: int) -> int:
    """The largest v in [0, start] with fits(v) (fits is monotone decreasing in v)."""
    lo, hi = 0, start
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def check_layer_memory(
    seq_len: int,
    embed_dim: int,
    num_heads: int,
    vectors: int,
    vectors_key: str = "csim.vectors",
    limit: int | None = None,
    keys: dict[str, str] | None = None,
) -> None:
    """UserError (one line) when the modelled memory of the layer's simulation exceeds ``limit`` (default: this
    machine's memory). ``keys`` renames the reported keys (default model.seq_len, model.embed_dim, ``vectors_key``)."""
    limit = machine_memory_bytes() if limit is None else limit
    need = layer_memory_bytes_model(seq_len, embed_dim, num_heads, vectors)
    if need <= limit:
        return
    names = {"seq_len": "model.seq_len", "embed_dim": "model.embed_dim", "vectors": vectors_key, **(keys or {})}
    shape = {"seq_len": seq_len, "embed_dim": embed_dim, "vectors": vectors}

    def fits_with(key: str):
        return lambda v: layer_memory_bytes_model(**{**shape, key: v}, num_heads=num_heads) <= limit

    largest = {key: _largest_fitting(fits_with(key), value) for key, value in shape.items()}
    # blame the key that is furthest beyond what fits (the others at their given values)
    key = max(shape, key=lambda k: shape[k] / max(largest[k], 1))
    others = ", ".join(f"{names[k].rsplit('.', 1)[-1]}={v}" for k, v in shape.items() if k != key)
    allowed = f"{names[key].rsplit('.', 1)[-1]} <= {largest[key]} fits" if largest[key] >= 1 else "no value fits"
    raise UserError(
        f"{names[key]}: {shape[key]} is too large for this machine: the layer's simulation needs about "
        f"{format_bytes(need)} of memory, more than its {format_bytes(limit)}; with {others}, num_heads={num_heads}: "
        f"{allowed}"
    )
