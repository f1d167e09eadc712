"""Child processes that end when had-hls ends, and tool failures said in one line.

Three pieces, all Linux (``/proc``), no third-party package:

- :func:`run_tool` runs an external program (verilator, iverilog/vvp, yosys, nextpnr, a build script) with its
  output appended to a log file. If the call is left by an exception (Ctrl-C included), the program and every
  process it started are killed before the exception goes on. A program that exits non-zero raises
  :class:`ToolError`: one line naming the tool, the exit status or the signal that killed it, and the log.
- :func:`kill_tree` / :func:`descendants` / :func:`processes_in`: find processes through ``/proc`` (the parent
  pid in ``/proc/<pid>/stat``, the working folder in ``/proc/<pid>/cwd``) and kill them. A tree is first frozen
  (SIGSTOP, so nothing in it can start a new child while it is being collected), then killed (SIGKILL).
- :func:`stop_on_signals`: used by the ``had-hls`` command. SIGINT, SIGTERM and SIGHUP kill every descendant of
  the process at once (compilers, simulators, pool workers and what they started; the process is made a child
  subreaper, so a grandchild whose parent died is still found), then raise :class:`Stopped` in the main thread,
  which unwinds through the output staging (temporary folders removed). Exit codes: 130, 143, 129 (128 + signal).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_CHILD_SUBREAPER = 36


class ToolError(RuntimeError):
    """An external program failed: ``tool`` exited with ``returncode`` (negative: killed by that signal).

    ``log`` is where its output is; the output staging moves a log that lies in a temporary folder to
    ``<out>/logs/`` and updates ``log``, so the message names a file that still exists."""

    def __init__(self, tool: str, returncode: int, log: Path | None, detail: str = "") -> None:
        super().__init__(tool, returncode, log, detail)
        self.tool = tool
        self.returncode = returncode
        self.log = log
        self.detail = detail

    @property
    def signal_name(self) -> str | None:
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    def __str__(self) -> str:
        if self.returncode < 0:
            what = f"{self.tool} was killed by {self.signal_name} (signal {-self.returncode})"
        else:
            what = f"{self.tool} failed with exit status {self.returncode}"
        detail = f": {self.detail}" if self.detail else ""
        log = f"; log: {self.log}" if self.log is not None else ""
        return f"{what}{detail}{log}"


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by :func:`stop_on_signals` when SIGINT, SIGTERM or SIGHUP arrives."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


# ------------------------------------------------------------------------------------------------ /proc
def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of ``pid``, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the command name in (...) may hold spaces
    return fields[0], int(fields[1])


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(pid: int) -> list[int]:
    """Every live (non-zombie) process below ``pid`` in the process tree, parents before children."""
    children: dict[int, list[int]] = {}
    for p in _all_pids():
        st = _stat(p)
        if st is not None and st[0] != "Z":
            children.setdefault(st[1], []).append(p)
    out: list[int] = []
    frontier = [pid]
    while frontier:
        nxt = []
        for p in frontier:
            for c in children.get(p, ()):
                if c not in out:
                    out.append(c)
                    nxt.append(c)
        frontier = nxt
    return out


def processes_in(folder: str | Path) -> list[int]:
    """Processes of this user whose working folder is ``folder`` or lies below it (not this process)."""
    root = os.path.realpath(folder)
    found = []
    for p in _all_pids():
        if p == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{p}/cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            found.append(p)
    return found


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def kill_tree(roots: Iterable[int], include_roots: bool = True) -> list[int]:
    """Kill the processes ``roots`` (unless ``include_roots`` is False) and all their descendants; returns the
    pids signalled. Frozen first (SIGSTOP, repeated until no new process appears), then SIGKILL."""
    me = os.getpid()
    roots = [p for p in roots if p != me]
    frozen: list[int] = []
    if include_roots:
        for p in roots:
            _signal(p, signal.SIGSTOP)
            frozen.append(p)
    for _ in range(20):  # a process may fork between the scan and its SIGSTOP: scan again until stable
        new = [c for r in roots for c in descendants(r) if c not in frozen and c != me]
        if not new:
            break
        for p in new:
            _signal(p, signal.SIGSTOP)
            frozen.append(p)
    for p in frozen:
        _signal(p, signal.SIGKILL)
        _signal(p, signal.SIGCONT)
    return frozen


def kill_children(spare_resource_tracker: bool = False) -> list[int]:
    """Kill every descendant of this process (not the process itself). ``spare_resource_tracker``: leave
    multiprocessing's resource tracker alive (the pool's semaphores unregister with it while the stop unwinds;
    killed early, it is relaunched and prints tracebacks); it is killed with the rest when the program ends."""
    spared = _resource_tracker_pid() if spare_resource_tracker else None
    return kill_tree([p for p in descendants(os.getpid()) if p != spared])


def _resource_tracker_pid() -> int | None:
    import sys

    module = sys.modules.get("multiprocessing.resource_tracker")
    tracker = getattr(module, "_resource_tracker", None)
    return getattr(tracker, "_pid", None)


def become_subreaper() -> bool:
    """Make this process the child subreaper of its tree (Linux prctl): a process whose parent dies is re-parented
    here instead of to init, so :func:`descendants` still finds it. False where the call is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


# ------------------------------------------------------------------------------------------------ running tools
def run_tool(
    cmd: Sequence[str],
    cwd: str | Path,
    log: str | Path,
    tool: str | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    detail_from_log: bool = True,
    echo_command: bool = True,
) -> None:
    """Run ``cmd`` in ``cwd`` with stdout and stderr appended to ``log`` (after the command line, unless
    ``echo_command`` is False).

    On exit status != 0 raise :class:`ToolError` (``tool`` defaults to the program's name; with
    ``detail_from_log`` its first line holding 'error' becomes the detail). Past ``timeout`` seconds the tree is
    killed and ``subprocess.TimeoutExpired`` raised. On any exception (KeyboardInterrupt, :class:`Stopped`) the
    program and its descendants are killed before the exception continues."""
    cwd = Path(cwd)
    log = Path(log)
    name = tool or Path(cmd[0]).name
    with log.open("a") as fh:
        if echo_command:
            fh.write(f"$ {' '.join(map(str, cmd))}\n")
            fh.flush()
        proc = subprocess.Popen(list(map(str, cmd)), cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree([proc.pid])
            proc.wait()
            raise
        except BaseException:
            kill_tree([proc.pid])
            proc.wait()
            raise
        if echo_command:
            fh.write("\n")
    if rc != 0:
        raise ToolError(name, rc, log, first_error_line(log) if detail_from_log and rc > 0 else "")


def require_tool(program: str, needed_for: str) -> str:
    """The path of ``program`` on PATH, else MissingToolError (one line: what needs it, how to install it)."""
    import shutil

    from had_hls.errors import MissingToolError

    path = shutil.which(program)
    if path is None:
        raise MissingToolError(
            f"{program} not found on PATH (needed for {needed_for}): install it, e.g. sudo apt-get install -y {program}"
        )
    return path


def first_error_line(log: Path, limit: int = 160) -> str:
    """The first line of ``log`` that mentions an error (for a one-line message), shortened."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        low = line.lower()
        if "error" in low and not line.startswith("$ "):
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""


# ------------------------------------------------------------------------------------------------ signals
_stop_lock = threading.Lock()
_stopping: int | None = None


def stopping() -> int | None:
    """The signal that is stopping this process (inside :func:`stop_on_signals`), else None."""
    return _stopping


def _on_signal(signum: int, frame: object) -> None:
    global _stopping
    with _stop_lock:
        first = _stopping is None
        if first:
            _stopping = signum
    kill_children(spare_resource_tracker=True)  # at once: a wait of the main thread (or a worker thread) returns now
    if first:
        raise Stopped(signum)


def pool_worker_init() -> None:
    """Initializer of this package's process-pool workers (forked, so they inherit :func:`stop_on_signals`'s handler):
    Ctrl-C is left to the main process, which ends the workers; SIGTERM and SIGHUP end a worker at once, as
    multiprocessing's ``Pool.terminate`` expects, instead of raising :class:`Stopped` (a traceback from every idle
    worker when a pool closes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While inside: SIGINT, SIGTERM and SIGHUP kill every descendant of this process and raise :class:`Stopped`
    in the main thread (only the first signal raises; later ones only kill again). On the way out every
    descendant still running is killed. Only for the main thread of a program (the ``had-hls`` command)."""
    global _stopping
    become_subreaper()
    previous = {s: signal.signal(s, _on_signal) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        kill_children(spare_resource_tracker=True)
        if _stopping is not None:
            reap_children(spared=(_resource_tracker_pid(),))
        for s, handler in previous.items():
            signal.signal(s, handler)
        _stopping = None


def reap_children(timeout: float = 5.0, spared: tuple[int | None, ...] = ()) -> None:
    """Wait for the killed children of this process (as subreaper, orphans of the tree are children too) so that
    none is left as a zombie; returns when only ``spared`` ones live, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no child left
        if pid:
            continue
        if not [p for p in descendants(os.getpid()) if p not in spared] or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def exit_now(code: int) -> None:
    """Leave at once with ``code`` after a stop: stdio flushed, multiprocessing's resource tracker killed last (a
    tracker killed earlier is relaunched by the next semaphore finalizer, which then prints tracebacks)."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    tracker = _resource_tracker_pid()
    if tracker is not None:
        _signal(tracker, signal.SIGKILL)
    os._exit(code)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Block SIGINT/SIGTERM/SIGHUP in this thread while inside (a few renames that must not be cut in half); a
    signal that arrives meanwhile is delivered on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def wait_gone(pids: Iterable[int], timeout: float = 5.0) -> list[int]:
    """Wait until none of ``pids`` is alive (zombies count as gone); returns those still alive after ``timeout``."""
    left = list(pids)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        left = [p for p in left if (st := _stat(p)) is not None and st[0] != "Z"]
        if left:
            time.sleep(0.05)
    return left
