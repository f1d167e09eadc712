"""Stopping a run: SIGINT / SIGTERM / SIGHUP to the had-hls process alone (the hard case: its children get no
signal from the terminal) while g++ compiles (csim) or while the sweep's pool workers synthesize.

Each case checks: the exit code (130 / 143 / 129), one line on stderr, the process ended within seconds, no process
of its process group is left (a /proc scan: the command runs in a session of its own), no temporary folder beside
--out, and --out as it was before (absent, or with its old file).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HAD_HLS = Path(sys.executable).with_name("had-hls")
MICRO = [  # tiny fixed-point types: a point's cores synthesize in seconds (tests/test_report.py MICRO_PRECISION)
    "value=ap_fixed<8,3,AP_RND,AP_SAT>",
    "qk=ap_fixed<8,3,AP_RND,AP_SAT>",
    "context=ap_fixed<8,3,AP_RND,AP_SAT>",
    "result=ap_fixed<8,3,AP_RND,AP_SAT>",
    "exp_table=ap_ufixed<10,1>",
    "recip_table=ap_ufixed<10,1>",
    "recip_index_bits=3",
    "fp_exp_table_size=32",
    "fp_exp_step_bits=3",
    "fp_inv_sqrt_frac=8",
]


def _group(pgid: int) -> list[tuple[int, str]]:
    """(pid, command name) of every live process in process group ``pgid``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            text = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append((int(name), comm))
    return found


def _start(argv: list[str], cwd: Path) -> subprocess.Popen:
    cmd = (
        [str(HAD_HLS)]
        if HAD_HLS.exists()
        else [sys.executable, "-c", "import sys; from had_hls.cli import main; sys.exit(main())"]
    )
    return subprocess.Popen(
        [*cmd, *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _wait_for(proc: subprocess.Popen, want, timeout: float = 240.0) -> None:
    """Poll the command's process group until ``want(group)`` is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"had-hls ended early ({proc.returncode}): {proc.stderr.read()}")
        if want(_group(proc.pid)):
            return
        time.sleep(0.2)
    pytest.fail(f"no matching child process within {timeout} s: {_group(proc.pid)}")


def _stop(proc: subprocess.Popen, sig: int) -> tuple[int, str, float]:
    os.kill(proc.pid, sig)
    t0 = time.monotonic()
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"had-hls did not end within 60 s of {signal.Signals(sig).name}")
    return proc.returncode, err, time.monotonic() - t0


def _check_stopped(proc: subprocess.Popen, sig: int, code: int, err: str, seconds: float) -> None:
    assert code == 128 + sig, (code, err)
    assert err.count("\n") == 1 and f"stopped by {signal.Signals(sig).name}" in err, err
    assert seconds < 15, seconds
    time.sleep(0.2)
    assert _group(proc.pid) == [], "processes left behind"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
def test_stop_csim_while_compiling(tmp_path: Path, project_file, sig: int) -> None:
    project = project_file()
    out = tmp_path / "out"
    if sig == signal.SIGTERM:  # an existing --out must come out unchanged
        out.mkdir()
        (out / "cosim.json").write_text("{}")
    proc = _start(["csim", str(project), "--out", str(out), "--vectors", "2", "--quiet"], tmp_path)
    _wait_for(proc, lambda group: any(comm in ("cc1plus", "g++") for _, comm in group))
    code, err, seconds = _stop(proc, sig)
    _check_stopped(proc, sig, code, err, seconds)
    expected = ["out", "t.yaml"] if sig == signal.SIGTERM else ["t.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected  # no temporary folder, no half-written --out
    if sig == signal.SIGTERM:
        assert [p.name for p in out.iterdir()] == ["cosim.json"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_stop_sweep_with_busy_workers(tmp_path: Path, sig: int) -> None:
    out = tmp_path / "sweep"
    argv = [
        "sweep",
        "--seq-len",
        "8,16",
        "--head-dim",
        "4",
        "--top-n",
        "2",
        "--lanes",
        "2",
        "--jobs",
        "2",
        "--no-power",
        "--out",
        str(out),
        "--quiet",
    ]
    for item in MICRO:
        argv += ["--precision", item]
    proc = _start(argv, tmp_path)
    # two pool workers, each running Yosys in a process of its own: main + resource tracker + 2 workers + 2 yosys
    _wait_for(proc, lambda group: len(group) >= 6)
    code, err, seconds = _stop(proc, sig)
    _check_stopped(proc, sig, code, err, seconds)
    assert [p.name for p in tmp_path.iterdir()] in ([], ["sweep"])  # no .sweep.work-* folder
    if out.exists():  # only finished results, each a whole JSON file (the next run resumes from them)
        assert [p.name for p in out.iterdir()] == ["cache"]
        for entry in (out / "cache").iterdir():
            assert not entry.name.startswith(".") and isinstance(json.loads(entry.read_text()), dict), entry


POOL_WORKER = r"""
import multiprocessing, os, signal, sys, time
from had_hls.procs import pool_worker_init, stop_on_signals

def worker(init):
    if init:
        pool_worker_init()
    time.sleep(30)

with stop_on_signals():  # as the had-hls command: its handler is inherited by forked pool workers
    p = multiprocessing.get_context("fork").Process(target=worker, args=(sys.argv[1] == "1",))
    p.start()
    time.sleep(0.5)
    os.kill(p.pid, signal.SIGTERM)  # what multiprocessing's Pool.terminate sends when a pool closes
    p.join(10)
print("exitcode", p.exitcode)
"""


@pytest.mark.parametrize("init", [True, False], ids=["pool_worker_init", "inherited_handler"])
def test_pool_workers_end_quietly_when_their_pool_closes(init: bool) -> None:
    """A forked pool worker with pool_worker_init ends at SIGTERM without a word (exit -SIGTERM); with the inherited
    stop handler it raised Stopped and printed a traceback, which the main job showed when its C-sim pool closed."""
    run = subprocess.run([sys.executable, "-c", POOL_WORKER, "1" if init else "0"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    if init:
        assert f"exitcode {-signal.SIGTERM}" in run.stdout and "Traceback" not in run.stderr, run.stderr
    else:
        assert "had_hls.procs.Stopped" in run.stderr and "exitcode 1" in run.stdout, (run.stdout, run.stderr)
