"""Output folders: checked before any work, staged beside the target, swapped in whole; atomic JSON writes.

Every command writes through :func:`staged_output`:

1. :func:`check_output_dir` runs first (the commands call it before any work): ``--out`` must not be empty, must
   not be an existing file, its nearest existing parent must be a folder this user can create folders in, and it
   must not be (or hold) the current working folder (the finished tree replaces the folder as a whole).
2. The command writes into a new folder beside ``--out`` (``.<name>.tmp-<random>``, same filesystem, normal
   permissions from the umask).
3. On success the new tree is completed with every entry of the existing ``--out`` that the command did not write
   (hard links, so nothing is copied; inside ``SHARED_FOLDERS`` one level deeper), then exchanged with ``--out`` in
   one ``renameat2(RENAME_EXCHANGE)`` (two renames where the filesystem lacks it, with signals held back between
   them), and the old tree is deleted. A reader sees the old tree or the new one, never a mix.
4. On any exception (a bad input found late, a tool failure, Ctrl-C, SIGTERM) the processes still working inside
   the temporary folder are killed, the folder is deleted, and so are the parent folders step 2 created; ``--out``
   is as it was. Exception: the log of a failed tool (:class:`had_hls.procs.ToolError`) is kept, as
   ``<out>/logs/<path-in-the-tree-with-dashes>``, and the error names it there.

Two commands finishing into the same ``--out`` at once take turns (``flock`` on the parent folder); each keeps
the other's outputs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import math
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from had_hls.errors import UserError

SHARED_FOLDERS = ("hls",)
"""Folders that several commands write into (csim: hls/had, hls/fp; convert: hls/model): merged one level deep."""
LOGS_FOLDER = "logs"
"""Where the log of a failed tool is kept under ``--out``."""

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


# ------------------------------------------------------------------------------------------------ checks
def check_output_dir(out: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Validate an output folder before any work; returns its absolute, symlink-resolved path.

    UserError (one line naming ``flag``, the value and what is allowed) when it is empty, an existing file, the
    current folder or one holding it, below a file, or in a place where this user cannot create a folder."""
    text = os.fspath(out)
    if not text.strip():
        raise UserError(f"{flag}: {text!r} is not allowed: give a folder path (created if missing)")
    if "\0" in text:
        raise UserError(f"{flag}: {text!r} is not allowed: a path cannot hold a NUL character")
    path = Path(os.path.abspath(text)).resolve()
    if path == path.parent:
        raise UserError(f"{flag}: {text!r} is not allowed: the filesystem root cannot be an output folder")
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag}: {text!r} is an existing file, not a folder: give a new or existing folder")
    cwd = Path.cwd().resolve()
    if path == cwd or path in cwd.parents:
        raise UserError(
            f"{flag}: {text!r} is not allowed: it is (or holds) the current folder, and the finished outputs replace "
            "the whole folder; give a folder beside or below the current one"
        )
    base = path.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise UserError(f"{flag}: {text!r} is not allowed: {str(base)!r} is a file, not a folder")
    try:  # the real test: create (and remove) a folder where the staging folder will go
        probe = _make_temp_dir(base, ".had-hls-probe-")
        probe.rmdir()
    except OSError as err:
        why = os.strerror(err.errno) if err.errno else str(err)
        raise UserError(
            f"{flag}: {text!r} cannot be written: cannot create a folder in {str(base)!r} ({why})"
        ) from None
    if path.exists() and not os.access(path, os.R_OK | os.X_OK):
        raise UserError(f"{flag}: {text!r} cannot be read: the outputs already in it could not be kept")
    return path


# ------------------------------------------------------------------------------------------------ staging
@contextlib.contextmanager
def staged_output(out_dir: str | os.PathLike[str], flag: str = "--out") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out_dir``; on success it becomes ``out_dir`` (with the entries of
    the old ``out_dir`` the command did not write), on any exception it is removed (module docstring)."""
    out = check_output_dir(out_dir, flag)
    created = _make_parents(out.parent)
    stage = _make_temp_dir(out.parent, f".{out.name}.tmp-")
    try:
        yield stage
    except BaseException as err:
        _keep_tool_log(err, stage, out)
        _discard(stage)
        _remove_empty(created)
        raise
    try:
        _commit(stage, out)
    except BaseException:
        _discard(stage)
        _remove_empty(created)
        raise


@contextlib.contextmanager
def scratch_dir(beside: str | os.PathLike[str], label: str = "work") -> Iterator[Path]:
    """A temporary working folder beside ``beside`` (same filesystem), removed on exit with every process still
    working in it. The log of a tool that failed in it (:class:`had_hls.procs.ToolError`) is kept under
    ``beside/logs/``, as with :func:`staged_output`."""
    target = Path(os.path.abspath(os.fspath(beside)))
    created = _make_parents(target.parent)
    work = _make_temp_dir(target.parent, f".{target.name}.{label}-")
    try:
        yield work
    except BaseException as err:
        _keep_tool_log(err, work, target)
        raise
    finally:
        _discard(work)
        _remove_empty(created)


def _make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new folder ``parent/prefix<random>`` with the umask's permissions (mkdtemp would give 0700)."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no unused temporary folder name", str(parent))


def _make_parents(folder: Path) -> list[Path]:
    """mkdir -p ``folder``; the folders it created, deepest first."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    created = []
    for p in reversed(missing):
        try:
            p.mkdir()
            created.append(p)
        except FileExistsError:
            pass
    return created[::-1]


def _remove_empty(folders: list[Path]) -> None:
    for p in folders:
        with contextlib.suppress(OSError):
            p.rmdir()


def _discard(folder: Path) -> None:
    """Kill the processes still working in ``folder`` (an orphaned compiler would go on writing), delete it."""
    from had_hls.procs import kill_tree, processes_in

    for _ in range(3):
        pids = processes_in(folder)
        if not pids:
            break
        kill_tree(pids)
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():  # a process that was still writing: once more
        shutil.rmtree(folder, ignore_errors=True)


def _keep_tool_log(err: BaseException, stage: Path, out: Path) -> None:
    """A ToolError whose log lies in the staging folder: keep the log as <out>/logs/<a-b-c.log>, point the error
    there."""
    from had_hls.procs import ToolError

    if not isinstance(err, ToolError) or err.log is None:
        return
    log = Path(err.log)
    try:
        rel = log.resolve().relative_to(stage.resolve())
    except ValueError:
        return
    if not log.is_file():
        return
    dest = out / LOGS_FOLDER / "-".join(rel.parts)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{secrets.token_hex(4)}")
        shutil.copyfile(log, tmp)
        os.replace(tmp, dest)
    except OSError:
        return
    err.log = dest


def _commit(stage: Path, out: Path) -> None:
    with _locked(out.parent):
        if not out.exists():
            with _signals_held():
                os.rename(stage, out)
            return
        if not out.is_dir():
            raise UserError(f"--out: {str(out)!r} became a file while the command ran")
        for entry in out.iterdir():
            target = stage / entry.name
            if entry.name in SHARED_FOLDERS and _real_dir(entry) and _real_dir(target):
                for sub in entry.iterdir():
                    if not _lexists(target / sub.name):
                        _link_tree(sub, target / sub.name)
            elif not _lexists(target):
                _link_tree(entry, target)
        shutil.copymode(out, stage)
        with _signals_held():
            _exchange(stage, out)
    shutil.rmtree(stage, ignore_errors=True)  # the old tree now


def _real_dir(p: Path) -> bool:
    return p.is_dir() and not p.is_symlink()


def _lexists(p: Path) -> bool:
    return p.exists() or p.is_symlink()


def _link_tree(src: Path, dst: Path) -> None:
    """Recreate ``src`` at ``dst``: folders new (same mode), files hard-linked (copied across filesystems or where
    linking is refused), symlinks as symlinks."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        dst.mkdir()
        shutil.copymode(src, dst)
        for child in src.iterdir():
            _link_tree(child, dst / child.name)
    elif src.is_file():
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    # sockets, FIFOs and devices are not outputs: left out


def _exchange(new: Path, old: Path) -> None:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); else two renames."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        if fn(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(old), _RENAME_EXCHANGE) == 0:
            return
        if ctypes.get_errno() not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(old))
    aside = old.parent / f".{old.name}.old-{secrets.token_hex(4)}"
    os.rename(old, aside)
    os.rename(new, old)
    os.rename(aside, new)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    from had_hls.procs import signals_deferred

    with signals_deferred():
        yield


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive flock on ``folder`` (no lock file left behind)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------------ JSON
def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (temporary file + rename: a reader, or a resumed sweep, never
    sees half a file). JSON has no infinity or NaN: a non-finite number is written as null."""
    atomic_write_text(path, json.dumps(_finite(data), indent=2, sort_keys=False, default=_default) + "\n")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _finite(obj: Any) -> Any:
    """``obj`` with every non-finite float (numpy's included) replaced by None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if type(obj).__module__ == "numpy":
        import numpy as np

        if isinstance(obj, np.floating):
            return _finite(float(obj))
        if isinstance(obj, np.ndarray):
            return _finite(obj.tolist())
    return obj


def _default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
