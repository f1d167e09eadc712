"""Result cache of the slow steps (synthesis, place and route), keyed by everything that decides the result.

Key = sha256 of: the step name and its options, the design's Verilog parameters, the table/weight memory files it
reads, the text of the RTL sources of its core (rtl.generate.CORE_SOURCES), and the tool versions. Change any of
them and the step runs again; otherwise
a rerun (report or sweep) reads ``<cache>/<step>-<key>.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from had_hls.io import write_json
from had_hls.rtl.generate import CORE_SOURCES, RTL_TEMPLATE_DIR, RtlDesign


def design_key(design: RtlDesign, step: str, extra: dict[str, Any] | None = None) -> str:
    """Hex digest naming one (design, step) result."""
    s, p = design.spec, design.spec.precision
    h = hashlib.sha256()
    h.update(json.dumps({"step": step, "kind": design.kind, "lanes": design.lanes, "params": design.params,
                         "extra": extra or {}}, sort_keys=True, default=str).encode())
    for arr in (s.exp_table, s.recip_table, s.o.weight, s.o.bias):
        h.update(arr.astype("int64").tobytes())
    h.update(str((p.exp_table.width, p.recip_table.width)).encode())
    for name in CORE_SOURCES[design.kind]:  # the core's own sources: an edit elsewhere keeps its results
        h.update((RTL_TEMPLATE_DIR / name).read_bytes())
    return h.hexdigest()[:20]


def cached(cache_dir: Path | None, step: str, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``compute()`` once per key; the result (a JSON-able dict) is stored with ``"cached": false`` and read back
    with ``"cached": true`` next time."""
    if cache_dir is None:
        return compute() | {"cached": False}
    path = Path(cache_dir) / f"{step}-{key}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text()) | {"cached": True}
        except (json.JSONDecodeError, UnicodeDecodeError):
            path.unlink(missing_ok=True)
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, result)  # atomic (a unique temporary file + rename): parallel writers never mix
    return result | {"cached": False}
