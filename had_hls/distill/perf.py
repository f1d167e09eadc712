"""CPU performance knobs for small-model training.

glibc serves allocations above M_MMAP_THRESHOLD (128 KiB by default, adaptive) with fresh mmap()s that are
unmapped on free; every training step then page-faults its activations in again. On small VMs that dominates:
a 72k-parameter ViT step (batch 128) measured 1.04 s with the defaults and 0.11 s after :func:`tune_malloc`.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
_DONE = False


def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30, top_pad: int = 64 << 20) -> bool:
    """Raise glibc's mmap/trim thresholds so freed tensors are reused from the heap. Returns False off glibc."""
    global _DONE
    if _DONE:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = all(
        mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, mmap_threshold),
            (M_TRIM_THRESHOLD, trim_threshold),
            (M_TOP_PAD, top_pad),
        )
    )
    _DONE = ok
    return ok
