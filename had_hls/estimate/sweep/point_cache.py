"""The sweep's cache of finished points: ``<out>/cache/point-<key>.json``, one atomic file per point.

The key (:func:`point_key`) names everything that decides a point's result (with ``hierarchical``, the flow's
identity too: a point synthesised by an older flow is not served); a change of its computation makes every cache
written before ignored (the points run again)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from had_hls.estimate.sweep.grid import SweepOptions, SweepPoint


def point_key(point: SweepPoint, opts: SweepOptions) -> str:
    """Cache key of a point: the point, the options, the RTL sources, the test bench, the power model and the tool
    versions."""
    from had_hls.estimate import power
    from had_hls.estimate.levels import LEVELS_VERSION
    from had_hls.estimate.yosys import yosys_version
    from had_hls.rtl.generate import RTL_SOURCES, RTL_TEMPLATE_DIR, TB_DIR, TB_SOURCE

    fields = [asdict(point), asdict(opts), yosys_version(), LEVELS_VERSION]
    if opts.hierarchical:  # the flow's own identity (part choice, context): its counts are the point's
        from had_hls.estimate.point import hierarchical_flow_id

        fields.append(hierarchical_flow_id())
    h = hashlib.sha256(json.dumps(fields, sort_keys=True).encode())
    for path in [*(RTL_TEMPLATE_DIR / name for name in RTL_SOURCES), TB_DIR / TB_SOURCE, Path(power.__file__)]:
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def point_file(cache: Path, point: SweepPoint, opts: SweepOptions) -> Path:
    """Where a point's result is cached."""
    return cache / f"point-{point_key(point, opts)}.json"


def cached_point(path: Path) -> dict[str, Any] | None:
    """A cache entry, None when it is missing or unreadable (then the point runs again)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "label" in data else None


def remove_partial_writes(cache: Path) -> None:
    """Temporary files of atomic writes (had_hls.io.atomic_write_text) whose writer was killed."""
    for tmp in cache.glob(".*.tmp-*"):
        tmp.unlink(missing_ok=True)
