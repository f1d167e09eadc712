"""hls4ml's own PyTorch tests, run twice: plain, and with had-hls registered (``import had_hls; had_hls.register()``).

Registering had-hls must leave every other hls4ml model alone (README "Python API", docs/hls4ml-frontend-bugs.md):
the front-end fixes, our headers and our build script apply to had-hls models only. This script checks it on
hls4ml's test suite: it takes the test files of a tag (default v1.3.0, the pinned version) from an hls4ml git
checkout (nothing of hls4ml is stored in this repository), runs the selected cases (default: the Vitis backend,
``-k Vitis``) once without had-hls and once with a pytest plugin that imports and registers it, each in its own
temporary folder, and writes the outcome of every case and the differences to
``benchmarks/results/hls4ml_pytorch_tests.json``.

    git clone https://github.com/fastmachinelearning/hls4ml /tmp/hls4ml
    .venv/bin/python benchmarks/hls4ml_pytorch_tests.py --hls4ml-repo /tmp/hls4ml

Every case compiles a project with g++: about 1 to 2 hours for the 2 x 88 Vitis cases on the 2-core machine. Not
part of the test suite (tests/test_coexistence.py reproduces three of these cases quickly).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "hls4ml_pytorch_tests.json"
TEST_DIR = "test/pytest"
FILES = (  # hls4ml v1.3.0's PyTorch front-end tests (left out: test_pytorch_profiler.py needs pandas and
    # test_zeropadding_pytorch_onnx.py needs onnx, neither installed here; neither converts a PyTorch model alone)
    "test_pytorch_api.py",
    "test_batchnorm_pytorch.py",
    "test_extensions_pytorch.py",
    "test_layernorm_pytorch.py",
    "test_merge_pytorch.py",
    "test_recurrent_pytorch.py",
    "test_sequential_parsing_pytorch.py",
    "test_upsampling_pytorch.py",
)
PLUGIN = '''"""pytest plugin: register had-hls with hls4ml before any test (as `import had_hls` in a user's session)."""
import had_hls

had_hls.register()
'''


def extract(repo: Path, tag: str, dest: Path) -> list[str]:
    """Write conftest.py and the test files of ``tag`` into ``dest``; returns the files found at that tag."""
    dest.mkdir(parents=True, exist_ok=True)
    found = []
    for name in ("conftest.py", *FILES):
        proc = subprocess.run(["git", "-C", str(repo), "show", f"{tag}:{TEST_DIR}/{name}"], capture_output=True)
        if proc.returncode != 0:
            if name == "conftest.py":
                raise SystemExit(f"{repo}: no {TEST_DIR}/conftest.py at {tag}: give an hls4ml git checkout")
            continue
        (dest / name).write_bytes(proc.stdout)
        if name != "conftest.py":
            found.append(name)
    return found


def run_suite(folder: Path, files: list[str], select: str, registered: bool, timeout: float) -> dict:
    """pytest on ``files`` in ``folder``; the outcome of every case from its JUnit XML."""
    env = dict(os.environ)
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors"]
    args += ["-k", select, "--junitxml", "junit.xml"]
    if registered:
        (folder / "_had_hls_registered.py").write_text(PLUGIN)
        env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT), env.get("PYTHONPATH", "")])
        args += ["-p", "_had_hls_registered"]
    t0 = time.perf_counter()
    proc = subprocess.run([*args, *files], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    cases: dict[str, str] = {}
    junit = folder / "junit.xml"
    if junit.is_file():
        for case in ET.parse(junit).getroot().iter("testcase"):
            name = f"{case.get('classname', '').split('.')[-1]}.py::{case.get('name')}"
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error"):
                    outcome = "failed" if child.tag == "failure" else "error"
                elif child.tag == "skipped":
                    outcome = "skipped"
            cases[name] = outcome
    counts = {k: sum(1 for v in cases.values() if v == k) for k in ("passed", "failed", "error", "skipped")}
    return {
        "registered": registered,
        "exit_code": proc.returncode,
        "seconds": round(seconds, 1),
        "counts": counts,
        "cases": cases,
        "summary_line": (proc.stdout.strip().splitlines() or [""])[-1],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hls4ml-repo", required=True, type=Path, help="an hls4ml git checkout (any branch)")
    ap.add_argument("--tag", default="v1.3.0")
    ap.add_argument("-k", dest="select", default="Vitis", help="pytest -k selection (default: the Vitis backend)")
    ap.add_argument("--timeout", type=float, default=6 * 3600, help="seconds per run")
    ap.add_argument("--out", type=Path, default=RESULT)
    args = ap.parse_args()
    import hls4ml

    runs = {}
    with tempfile.TemporaryDirectory(prefix="hls4ml-tests-") as tmp:
        for label, registered in (("plain", False), ("had_hls_registered", True)):
            folder = Path(tmp) / label
            files = extract(args.hls4ml_repo, args.tag, folder)
            print(f"{label}: {len(files)} files, -k {args.select!r} ...", flush=True)
            runs[label] = run_suite(folder, files, args.select, registered, args.timeout)
            print(f"{label}: {runs[label]['counts']} in {runs[label]['seconds']} s", flush=True)
    plain, reg = runs["plain"]["cases"], runs["had_hls_registered"]["cases"]
    differences = {
        name: {"plain": plain.get(name), "had_hls_registered": reg.get(name)}
        for name in sorted(set(plain) | set(reg))
        if plain.get(name) != reg.get(name)
    }
    result = {
        "what": "hls4ml's own PyTorch tests, plain and with had-hls registered",
        "command": "benchmarks/hls4ml_pytorch_tests.py --hls4ml-repo PATH"
        + (f" -k {args.select!r}" if args.select != "Vitis" else ""),
        "hls4ml_tag": args.tag,
        "hls4ml_installed": hls4ml.__version__,
        "files": list(FILES),
        "selection": args.select,
        "cases": len(set(plain) | set(reg)),
        "same_outcome_everywhere": not differences,
        "differences": differences,
        "runs": runs,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['cases']} cases; same outcome everywhere: {result['same_outcome_everywhere']}; wrote {args.out}")
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())
