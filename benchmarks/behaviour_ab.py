"""Behaviour A/B: are the RTL cores of a before-tree (a git ref) and of this tree the same machine?

    .venv/bin/python benchmarks/behaviour_ab.py --before 242d213 [--after WORKTREE|REF] [--shapes 6,8,2,3,2;5,4,1,2,2]
        [--kinds had,fp] [--no-synth] [--rename-seeds 6] [--jobs 2] [--no-equivalence] [--maxsteps 24]
        [--out benchmarks/results/behaviour_ab.json]

Method. The before-tree is materialised with ``git archive <ref> had_hls templates`` into a temporary folder (so
nothing is registered with git and Ctrl-C or SIGTERM leaves nothing behind: the folder is removed on every exit);
the after-tree is this working tree (or ``--after REF``, materialised the same way). For each small shape
(L, E, H, N, P; seeded random weights as tests/test_rtl.py's make_spec) and each kind (HAD, FP), each tree's own
code builds the spec (had_hls.spec.build_spec), the design (had_hls.rtl.design_for) and the synthesis sources
(had_hls.estimate.synth_scripts.prepare_sources: the core's templates, its tables and the ``synth_top`` wrapper), in a
child Python with that tree first on the path. Then, with the project's Yosys (pyosys, had_hls.estimate.synth.
run_yosys):

1. each tree's ``synth_top`` is elaborated and flattened (``hierarchy; proc; flatten``) and saved as ``gold``
   (before) / ``gate`` (after);
2. formal equivalence: ``miter -equiv -flatten -ignore_gold_x gold gate``, memories mapped to registers
   (``memory_map``: the tables become constants, the K/V/Q/score buffers registers), ``techmap`` to single-bit
   gates and ``opt -fast`` (structural hashing: identical cells driven by identical nets are merged, registers
   included). ``structurally_identical``: the miter's trigger is the constant 0 afterwards, i.e. every gate and
   register of one core merged with its twin of the other: the same machine, so from the same initial state
   their outputs agree for every input sequence (reset included) of any length. Otherwise ``sat -tempinduct
   -prove trigger 0 -set-init-zero`` (both cores from the all-zero state, every input free each cycle):
   ``proved`` when the induction closes, ``counterexample`` when a base case fails, else a bounded result up to
   ``--maxsteps`` cycles.
3. unless ``--no-synth``: each tree's own ``synth_xilinx`` (the report's flat flow) of the core at that shape:
   LUT, FF, DSP, BRAM, carry, logic levels and the clock model, before and after.
4. unless ``--no-synth`` or ``--rename-seeds 0``: the renaming spread, i.e. how much of a before/after difference
   in those counts the synthesiser makes on its own. The same flat flow (this tree's script) is run on each tree's
   sources ``--rename-seeds`` more times, run k with ``rename -hide w:*C* c:*C*`` after ``proc``: the public names
   of every wire and cell (ports excepted) that contain the character C = RENAME_CHARS[k] ('' for all, '_', 'a',
   'e', ...) are made private, in every module. The design is the same netlist; only the names, hence Yosys's
   iteration order and its choice among equal wires, differ. (``rename -scramble-name`` would give random names,
   but it skips every module that still holds memories after ``proc``, the control module among them; collecting
   the memories first changes the flow's own counts.) A control run of the same script without the renaming must
   reproduce the tree's own counts (``control_equals_own``), so that the renaming is the only change.
   ``other_within_spread``: the other tree's count lies inside [min, max] of a tree's runs (the control and the
   renamed ones), so the difference is no larger than a renaming alone produces.
5. unless ``--no-synth``: the word-level netlists. Each tree's sources through the same script up to the end of
   ``synth_xilinx``'s coarse steps (``-run begin:map_memory``: elaborated, flattened, word-level optimised, before
   any memory or LUT mapping), then ``stat -json -width``: ``word_cells`` lists every cell type and width whose count
   differs between the trees (``$alu_32``: 32-bit adders, ...). Equal gates after ``techmap; opt`` (step 2) with
   different word-level cells here is what a rewrite of the same logic looks like to the LUT mapper.

Writes ``benchmarks/results/behaviour_ab.json``: the refs, the Yosys version, per shape and kind the design
parameters of both trees, the equivalence verdict with its evidence (miter cells after ``opt``, sat's result)
and the synthesis counts, with the seconds of each step.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "results" / "behaviour_ab.json"
DEFAULT_SHAPES = "6,8,2,3,2;5,4,1,2,2"  # L,E,H,N,P: G = 3 with a short last beat; P = 2 over L = 5, one head
TREE_PATHS = ("had_hls", "templates")  # what a tree needs to generate and synthesise the cores

# run in a child Python inside one tree (cwd = the tree, first on sys.path): the core's synthesis folder
GEN = r"""
import json, sys
from pathlib import Path
import numpy as np
from had_hls.spec import build_spec
from had_hls.rtl.generate import design_for
try:  # where the tree keeps it (the synthesis room was split into modules after 242d213)
    from had_hls.estimate.synth_scripts import prepare_sources
except ImportError:
    from had_hls.estimate.synth import prepare_sources
kind, L, E, H, N, P, seed = sys.argv[1], *map(int, sys.argv[2:8])
out, synth = Path(sys.argv[8]), sys.argv[9] == "1"
rng = np.random.default_rng(seed)
w = {k: (rng.normal(0, 0.35, (E, E)), rng.normal(0, 0.1, E)) for k in "qkvo"}
spec = build_spec(kind, seq_len=L, num_heads=H, top_n=N, sigma_q=1.0, sigma_k=1.0, weights=w, key_padding_mask=True)
design = design_for(spec, P)
res = {"files": prepare_sources(design, out / "src"), "params": design.params}
if synth:
    from had_hls.estimate.synth import synth_xilinx
    s = synth_xilinx(design, out / "xcup").as_dict()
    res["synth"] = {k: s[k] for k in ("lut", "ff", "dsp", "bram", "carry", "lut_ram", "muxf", "seconds")}
    res["synth"].update(logic_levels=s["timing"]["logic_levels"], fmax_model_mhz=s["timing"]["fmax_model_mhz"],
                        cpu_seconds=s.get("cpu_seconds"))
print("GEN_RESULT " + json.dumps(res))
"""


class _Terminated(Exception):
    """SIGTERM / SIGHUP, raised in the main thread so that the temporary folders are removed."""


def _on_signal(signum, frame):  # noqa: ARG001
    raise _Terminated(signal.Signals(signum).name)


def materialise(ref: str, dest: Path) -> str:
    """``git archive`` of ``ref``'s had_hls/ and templates/ into ``dest``; returns the full commit id."""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    dest.mkdir(parents=True)
    tar = dest / "tree.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(tar), commit, *TREE_PATHS], cwd=ROOT, check=True)
    with tarfile.open(tar) as tf:
        tf.extractall(dest, filter="data")
    tar.unlink()
    return commit


def generate(tree: Path, kind: str, shape: tuple[int, ...], out: Path, synth: bool, seed: int = 0) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-c", GEN, kind, *map(str, shape), str(seed), str(out), "1" if synth else "0"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{tree}: generating the {kind} core failed:\n{p.stderr[-2000:]}")
    line = next(x for x in p.stdout.splitlines() if x.startswith("GEN_RESULT "))
    res = json.loads(line.removeprefix("GEN_RESULT "))
    res["seconds"] = round(time.perf_counter() - t0, 2)
    return res


def flatten(src: Path, files: list[str], name: str, dest: Path) -> None:
    """The tree's synth_top elaborated and flattened, renamed ``name``, written as RTLIL ``dest``."""
    from had_hls.estimate.yosys import run_yosys

    reads = "\n".join(f"read_verilog -defer -DSYNTHESIS {f}" for f in files)
    run_yosys(f"""{reads}
hierarchy -check -top synth_top
proc
flatten
opt_clean
rename synth_top {name}
hierarchy -top {name}
write_rtlil {dest}
""", src, "yosys_flatten.log")


RENAME_CHARS = ("", "_", "a", "e", "i", "o", "u", "r", "s", "t", "n", "l")  # run k hides the names holding char k-1
SPREAD_KEYS = ("lut", "ff", "carry", "lut_ram", "muxf", "logic_levels", "fmax_model_mhz")


def renamed_synth(kind: str, src: Path, files: list[str], seed: int, dest: Path) -> dict:
    """This tree's flat synth_xilinx of ``files``, after ``proc`` the public names holding RENAME_CHARS[seed - 1]
    made private (``rename -hide``: ports are left alone); seed 0 (the control run) renames nothing."""
    from had_hls.estimate.synth import finish_xilinx
    from had_hls.estimate.synth_scripts import flat_script
    from had_hls.estimate.yosys import run_yosys

    shutil.copytree(src, dest)  # the sources and the tables that $readmemh reads from the working folder
    rename = "rename -hide w:*{0}* c:*{0}*\n".format(RENAME_CHARS[seed - 1]) if seed else ""
    script = flat_script(files, "synth_top", pre=f"proc\n{rename}")
    run_yosys(script, dest, "yosys_xilinx.log")
    res = finish_xilinx(kind, dest).as_dict()
    res.update(logic_levels=res["timing"]["logic_levels"], fmax_model_mhz=res["timing"]["fmax_model_mhz"])
    return {k: res[k] for k in SPREAD_KEYS}


def rename_spread(kind: str, work: Path, gen: dict, seeds: int, jobs: int = 2) -> dict:
    """Per tree: a control run (this script, no renaming: must equal the tree's own counts), the counts of ``seeds``
    renamed runs, their [min, max], and whether the other tree's (unrenamed) count lies inside; ``jobs`` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from had_hls.procs import kill_children

    keys = [(side, s) for side in ("before", "after") for s in range(0, seeds + 1)]
    t0 = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futs = {(side, s): pool.submit(renamed_synth, kind, work / side / "src", gen[side]["files"], s,
                                       work / f"renamed_{side}_{s}") for side, s in keys}
        runs = {key: f.result() for key, f in futs.items()}
    except BaseException:  # Ctrl-C, SIGTERM, a failed run: drop the queued runs and stop the running Yosys now
        pool.shutdown(wait=False, cancel_futures=True)
        kill_children()
        raise
    pool.shutdown()
    out: dict = {"hidden_chars": [repr(RENAME_CHARS[s - 1]) for s in range(1, seeds + 1)],
                 "seconds": round(time.perf_counter() - t0, 1)}
    for side, other in (("before", "after"), ("after", "before")):
        control, per = runs[(side, 0)], [runs[(side, s)] for s in range(1, seeds + 1)]
        variants = [control, *per]  # the names as elaborated and each renaming: the same netlist
        rng = {k: [min(r[k] for r in variants), max(r[k] for r in variants)] for k in SPREAD_KEYS}
        theirs = gen[other]["synth"]
        out[side] = {"control": control,
                     "control_equals_own": all(control[k] == gen[side]["synth"][k] for k in SPREAD_KEYS),
                     "runs": per, "range": rng,
                     "other_within_spread": {k: rng[k][0] <= theirs[k] <= rng[k][1] for k in SPREAD_KEYS}}
    return out


def word_cells(src: Path, files: list[str], dest: Path) -> dict[str, int]:
    """Cell counts by type and width (``$alu_32``: ...) of the core after synth_xilinx's coarse steps."""
    from had_hls.estimate.synth_scripts import read_cmds
    from had_hls.estimate.xilinx_cells import stat_cells
    from had_hls.estimate.yosys import run_yosys

    shutil.copytree(src, dest)
    run_yosys(f"""{read_cmds(files)}
hierarchy -check -top synth_top
proc
synth_xilinx -family xcup -top synth_top -flatten -noiopad -run begin:map_memory
tee -q -o coarse_stat.json stat -json -width
""", dest, "yosys_coarse.log")
    cells = stat_cells(dest / "coarse_stat.json")
    cells.pop("$scopeinfo", None)  # a name scope of the flattened hierarchy, not logic
    if not cells:  # fail rather than report two empty netlists as identical
        raise RuntimeError(f"no cell counts read from {dest / 'coarse_stat.json'}")
    return cells


def word_level_difference(work: Path, gen: dict) -> dict:
    """The cell types and widths whose counts differ between the trees' word-level netlists."""
    cells = {side: word_cells(work / side / "src", gen[side]["files"], work / f"coarse_{side}")
             for side in ("before", "after")}
    keys = sorted(set(cells["before"]) | set(cells["after"]))
    diff = {k: [cells["before"].get(k, 0), cells["after"].get(k, 0)] for k in keys
            if cells["before"].get(k, 0) != cells["after"].get(k, 0)}
    return {"cells": {s: sum(c.values()) for s, c in cells.items()}, "identical": not diff,
            "differing_cells_before_after": diff}


# the two trees' cores as one miter: memories as registers, single-bit gates, structurally hashed
MITER = """read_rtlil {gold}
read_rtlil {gate}
miter -equiv -flatten -ignore_gold_x gold gate miter
hierarchy -top miter
flatten
memory -nomap
memory_map
opt -fast
techmap
opt -fast
"""


def equivalence(work: Path, gold: Path, gate: Path, maxsteps: int) -> dict:
    """Miter of gold (before) and gate (after), memories as registers, techmapped to gates, ``opt`` (structural
    hashing); when the trigger is not the constant 0 after that, ``sat -tempinduct`` up to ``maxsteps``."""
    from had_hls.estimate.yosys import run_yosys

    t0 = time.perf_counter()
    run_yosys(f"""{MITER.format(gold=gold, gate=gate)}opt_clean -purge
tee -q -o miter_stat.json stat -json
""", work, "yosys_miter.log")
    stat = json.loads((work / "miter_stat.json").read_text())["modules"]
    miter = next(v for k, v in stat.items() if k.lstrip("\\") == "miter")
    cells = int(miter.get("num_cells", 0))
    res: dict = {"miter_cells_after_opt": cells, "structurally_identical": cells == 0, "proved": cells == 0,
                 "counterexample": False, "seconds_miter": round(time.perf_counter() - t0, 1)}
    if cells == 0:
        res["sat"] = "not needed: the trigger is the constant 0"
        return res
    t1 = time.perf_counter()
    sat_cmd = f"sat -tempinduct -prove trigger 0 -set-init-zero -maxsteps {maxsteps} -show-inputs"
    log = run_yosys(f"""{MITER.format(gold=gold, gate=gate)}tee -o sat.txt {sat_cmd}
""", work, "yosys_sat.log")
    sat = (work / "sat.txt").read_text(errors="replace")
    res["proved"] = "Induction step proven: SUCCESS!" in sat
    res["counterexample"] = "model found for base case" in sat.lower() or "base case" in sat and "FAIL" in sat
    res["sat"] = ("induction proved" if res["proved"] else "counterexample" if res["counterexample"]
                  else f"no counterexample within {maxsteps} cycles (bounded; induction not closed)")
    res["bounded_steps"] = maxsteps
    res["seconds_sat"] = round(time.perf_counter() - t1, 1)
    res["log_tail"] = "" if res["proved"] else log[-1500:]
    return res


def main() -> int:
    from had_hls.estimate.yosys import yosys_version

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="git ref of the before-tree (e.g. 242d213)")
    ap.add_argument("--after", default=None, help="git ref of the after-tree (default: this working tree)")
    ap.add_argument("--shapes", default=DEFAULT_SHAPES, help="L,E,H,N,P;... (small: memories become registers)")
    ap.add_argument("--kinds", default="had,fp")
    ap.add_argument("--no-synth", action="store_true", help="skip the synth_xilinx counts of both trees")
    ap.add_argument("--jobs", type=int, default=2, help="renamed synthesis runs at a time (default 2)")
    ap.add_argument("--no-equivalence", action="store_true",
                    help="skip the miter (large shapes: memories as registers grow with L E); synthesis steps only")
    ap.add_argument("--maxsteps", type=int, default=24, help="sat -tempinduct bound when not structurally equal")
    ap.add_argument("--rename-seeds", type=int, default=6, choices=range(0, len(RENAME_CHARS) + 1), metavar="0..12",
                    help="renamed synthesis runs per tree and core (the synthesiser's own spread; 0: none)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";") if s.strip()]
    kinds = [k for k in args.kinds.split(",") if k]
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    t_start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="behaviour_ab_"))
    result: dict = {"command": " ".join(["benchmarks/behaviour_ab.py", *sys.argv[1:]]),
                    "date": datetime.now(UTC).strftime("%Y-%m-%d"), "yosys": yosys_version(),
                    "method": " ".join(__doc__.split("Method. ", 1)[1].split("\n\nWrites", 1)[0].split()),
                    "rows": []}
    try:
        trees = {"before": tmp / "before"}
        result["before"] = {"ref": args.before, "commit": materialise(args.before, trees["before"])}
        if args.after:
            trees["after"] = tmp / "after"
            result["after"] = {"ref": args.after, "commit": materialise(args.after, trees["after"])}
        else:
            trees["after"] = ROOT
            head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
            dirty = subprocess.run(["git", "status", "--porcelain", "--", *TREE_PATHS], cwd=ROOT,
                                   capture_output=True, text=True).stdout.strip()
            result["after"] = {"ref": "working tree", "commit": head.strip(), "uncommitted_changes": bool(dirty)}
        for shape in shapes:
            for kind in kinds:
                tag = f"{kind}_L{shape[0]}_E{shape[1]}_H{shape[2]}_N{shape[3]}_P{shape[4]}"
                work = tmp / tag
                row: dict = {"kind": kind, "shape": dict(zip(("L", "E", "H", "N", "P"), shape, strict=True))}
                gen = {}
                for side, name in (("before", "gold"), ("after", "gate")):
                    g = generate(trees[side], kind, shape, work / side, not args.no_synth)
                    if not args.no_equivalence:
                        flatten(work / side / "src", g["files"], name, work / f"{name}.il")
                    gen[side] = g
                row["params"] = {s: gen[s]["params"] for s in gen}
                if not args.no_synth:
                    row["synth"] = {s: gen[s]["synth"] for s in gen}
                if not args.no_synth:
                    row["word_level"] = word_level_difference(work, gen)
                if not args.no_synth and args.rename_seeds > 0:
                    row["rename_spread"] = rename_spread(kind, work, gen, args.rename_seeds, args.jobs)
                if args.no_equivalence:
                    verdict = "equivalence not checked (--no-equivalence)"
                else:
                    row["equivalence"] = eq = equivalence(work, work / "gold.il", work / "gate.il", args.maxsteps)
                    verdict = "structurally identical" if eq["structurally_identical"] else \
                        ("proved" if eq["proved"] else ("COUNTEREXAMPLE" if eq["counterexample"] else "not proved"))
                    verdict += f" (miter cells after opt: {eq['miter_cells_after_opt']})"
                syn = "" if args.no_synth else "; LUT {} -> {}, levels {} -> {}".format(
                    row["synth"]["before"]["lut"], row["synth"]["after"]["lut"],
                    row["synth"]["before"]["logic_levels"], row["synth"]["after"]["logic_levels"])
                if "word_level" in row:
                    wl = row["word_level"]
                    syn += "; word-level cells {} -> {}{}".format(
                        wl["cells"]["before"], wl["cells"]["after"], " (identical)" if wl["identical"] else "")
                if "rename_spread" in row:
                    sp = row["rename_spread"]
                    syn += "; renamed before LUT {}..{}, after {}..{}".format(
                        *sp["before"]["range"]["lut"], *sp["after"]["range"]["lut"])
                print(f"{tag}: {verdict}{syn}", flush=True)
                result["rows"].append(row)
                shutil.rmtree(work, ignore_errors=True)
        checked = [r["equivalence"]["proved"] for r in result["rows"] if "equivalence" in r]
        result["all_equivalent"] = all(checked) if checked else None  # None: --no-equivalence
        result["seconds"] = round(time.perf_counter() - t_start, 1)
        result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                             "load_average_end": [round(x, 2) for x in os.getloadavg()]}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"all equivalent: {result['all_equivalent']}; wrote {args.out}")
        return 1 if result["all_equivalent"] is False else 0
    except (KeyboardInterrupt, _Terminated) as err:
        print(f"behaviour_ab: stopped ({type(err).__name__} {err}); temporary folders removed", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
