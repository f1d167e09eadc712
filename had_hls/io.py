"""Output helpers: nothing half-written (stage in a temporary folder, then rename into place), JSON writing."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SHARED_FOLDERS = ("hls",)
"""Folders that several commands write into (csim: hls/had, hls/fp; convert: hls/model): merged one level deep."""


@contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out_dir``; on success move each entry into ``out_dir`` (replacing entries
    of the same name, leaving others alone; inside SHARED_FOLDERS the same one level deeper); on any exception
    delete it, leaving ``out_dir`` as it was."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    for entry in tmp.iterdir():
        target = out_dir / entry.name
        if entry.name in SHARED_FOLDERS and entry.is_dir() and target.is_dir() and not target.is_symlink():
            for sub in entry.iterdir():
                _replace(sub, target / sub.name)
        else:
            _replace(entry, target)
    shutil.rmtree(tmp, ignore_errors=True)


def _replace(src: Path, target: Path) -> None:
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    os.replace(src, target)


def write_json(path: str | Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=False, default=_default) + "\n")


def _default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
