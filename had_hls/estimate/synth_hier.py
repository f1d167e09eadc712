"""The hierarchical synthesis flow: the core elaborated once, its parts chosen from the module tree Yosys reports
(replicated or large modules), each distinct part synthesised flat once in the context of its instances
(had_hls.estimate.synth_context), the rest flat with the parts as black boxes, the counts composed by instance
count. docs/report.md ("Hierarchical synthesis") gives the method, its limits and what it measured against flat.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from pathlib import Path
from typing import Any

from had_hls.estimate.synth_context import CONTEXT_FILE, context_summary, context_wrapper, part_contexts
from had_hls.estimate.synth_scripts import flat_script, prepare_sources, read_cmds
from had_hls.estimate.xilinx_cells import SynthResult, counts_from_cells
from had_hls.estimate.yosys import cpu_seconds, run_yosys, yosys_version
from had_hls.rtl.generate import RtlDesign

# ------------------------------------------------------------------------------------------------ hierarchical
# A module of the elaborated core becomes a separately synthesised part when it is instanced at least
# HIER_MIN_COUNT times (through its parents) and holds at least HIER_MIN_CELLS cells after ``proc`` (with its
# submodules), or when, instanced once, it holds at least HIER_MIN_SHARE of the core's cells (and at most half:
# not the core itself): small modules (a word select, a short adder) stay in the flattened rest, where flat
# synthesis's cross-boundary optimisation (constant inputs, unused outputs, LUT packing) applies to them.
HIER_MIN_COUNT = 2
HIER_MIN_CELLS = 40
HIER_MIN_SHARE = 0.05
HIER_CONTEXT = "in-context"  # parts synthesised in their instances' context (had_hls.estimate.synth_context)
HIER_PART = "hier_part"  # prefix of the renamed part modules (black boxes in the rest)
HIER_STEPS = ("per module: synth_xilinx -family xcup -flatten -noiopad (abc9.verify 0) of each part once, in the "
              "context of its instances (tied inputs, unread outputs), and of the rest with the parts as black boxes; "
              "counts = rest + sum(instances x part)")


def elaborate(workdir: Path, files: list[str], timeout: float | None = None) -> dict[str, Any]:
    """The elaborated module hierarchy of ``synth_top`` (Yosys ``hierarchy`` + ``proc``): {module: {"cells": own
    cells, "subs": {submodule: instances}}} and the seconds it took (``elab.log`` in ``workdir``)."""
    t0 = time.perf_counter()
    run_yosys(f"""{read_cmds(files)}
hierarchy -check -top synth_top
proc
opt_clean
tee -q -o elab_stat.json stat -json
write_json elab_design.json
""", workdir, "yosys_elab.log", timeout=timeout)
    mods = json.loads((workdir / "elab_stat.json").read_text())["modules"]
    names = set(mods)
    out = {}
    for m, v in mods.items():
        by_type = v.get("num_cells_by_type", {})
        # stat names a submodule's cells by its type without the backslash its module key has ($paramod names
        # carry none): both spellings are a submodule
        subs = {(t if t in names else "\\" + t): int(n) for t, n in by_type.items()
                if t in names or "\\" + t in names}
        own = int(v.get("num_cells", 0)) - sum(subs.values())
        out[m] = {"cells": own, "subs": subs}
    return {"modules": out, "seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": cpu_seconds(workdir, "yosys_elab.log"), "design": workdir / "elab_design.json"}


def choose_parts(modules: dict[str, Any], top: str = "\\synth_top", min_count: int = HIER_MIN_COUNT,
                 min_cells: int = HIER_MIN_CELLS, min_share: float = HIER_MIN_SHARE) -> dict[str, int]:
    """{module: instance count} of the parts: walking down from ``top``, the first module on each branch that is
    instanced ``min_count`` times or more in all and holds ``min_cells`` cells or more with its submodules, or whose
    instances hold between ``min_share`` and half of all cells (its own submodules are then synthesised inside
    it). Generic: only the hierarchy Yosys elaborated is used."""

    @functools.cache
    def size(m: str) -> int:
        info = modules[m]
        return info["cells"] + sum(n * size(s) for s, n in info["subs"].items())

    # parents before children (a module may sit under several parents): instance counts accumulate top-down
    order: list[str] = []

    def topo(m: str, seen: set[str]) -> None:
        if m in seen:
            return
        seen.add(m)
        for s in modules[m]["subs"]:
            topo(s, seen)
        order.append(m)

    topo(top, set())
    total = size(top)
    order.reverse()  # parents before children
    parts: dict[str, int] = {}
    counts = {top: 1}  # instances of each module reached through non-part parents
    for m in order:
        mult = counts.get(m, 0)
        if not mult:
            continue
        big = min_share * total <= mult * size(m) <= 0.5 * total
        if m != top and ((mult >= min_count and size(m) >= min_cells) or big):
            parts[m] = mult
            continue  # its submodules go with it
        for s, n in modules[m]["subs"].items():
            counts[s] = counts.get(s, 0) + mult * n
    return parts


def prepare_hierarchical(design: RtlDesign, workdir: str | Path, min_count: int = HIER_MIN_COUNT,
                         min_cells: int = HIER_MIN_CELLS, min_share: float = HIER_MIN_SHARE) -> Path:
    """The hierarchical flow's folder: the core elaborated once (Yosys, here), its parts chosen
    (:func:`choose_parts`), and one self-contained sub-folder per run: ``part_<i>/`` synthesises one distinct part
    module flat (exact parameters of its instances), ``rest/`` the core flat with the parts as black boxes (and the
    memory inventory). :func:`run_prepared` / :func:`run_batch` run them (in parallel) and compose the counts."""
    workdir = Path(workdir).resolve()
    files = prepare_sources(design, workdir)
    elab = elaborate(workdir, files)
    parts = choose_parts(elab["modules"], min_count=min_count, min_cells=min_cells, min_share=min_share)
    names = {m: f"{HIER_PART}_{i}" for i, m in enumerate(sorted(parts))}
    shared = [f for f in sorted(workdir.iterdir()) if f.is_file() and not f.name.startswith(("yosys_", "elab_"))
              and f.suffix not in (".ys", ".json")]
    contexts = part_contexts(json.loads(elab["design"].read_text()), set(parts))
    elab["design"].unlink()  # megabytes; the folder travels to the synthesis host
    jobs = []
    for m, name in names.items():
        sub = workdir / name
        copy_files(shared, sub)
        (sub / CONTEXT_FILE).write_text(context_wrapper(name, m, contexts[m]))
        pre = f"read_rtlil {CONTEXT_FILE}\nhierarchy -top {name}\n"
        (sub / "synth_xilinx.ys").write_text(flat_script(files, name, pre=pre, memories=False))
        (sub / "synth_job.json").write_text(json.dumps({"kind": design.kind, "top": name, "flow": "part"}))
        jobs.append({"dir": name, "module": m, "count": parts[m], "context": context_summary(contexts[m])})
    sub = workdir / "rest"
    copy_files(shared, sub)
    # rename the module and retype its instances (``rename`` alone leaves the cells on the old name)
    renames = "".join(f"rename {m} {name}\nchtype -map {m} {name}\n" for m, name in names.items())
    boxes = "".join(f"blackbox {name}\n" for name in names.values())
    (sub / "synth_xilinx.ys").write_text(flat_script(files, "synth_top", pre=renames, boxes=boxes))
    (sub / "synth_job.json").write_text(json.dumps({"kind": design.kind, "top": "synth_top", "flow": "rest"}))
    (workdir / "synth_job.json").write_text(json.dumps({
        "kind": design.kind, "top": "synth_top", "flow": "hierarchical", "parts": jobs, "rest": "rest",
        "elab_seconds": elab["seconds"], "elab_cpu_seconds": elab["cpu_seconds"], "min_count": min_count,
        "min_cells": min_cells, "min_share": min_share, "parts_in_context": True}))
    return workdir


def copy_files(files: list[Path], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, dest / f.name)


def leaf_folders(workdir: Path) -> list[Path]:
    """The folders a prepared folder runs: itself, or a hierarchical folder's parts and rest."""
    job = json.loads((workdir / "synth_job.json").read_text())
    if job.get("flow") != "hierarchical":
        return [workdir]
    return [workdir / p["dir"] for p in job["parts"]] + [workdir / job["rest"]]


def compose_hierarchical(workdir: Path) -> SynthResult:
    """The core's counts from a finished hierarchical folder: rest + sum(instances x part), cell by cell.
    ``seconds``: the wall time from the first run's start to the last one's end (the elaboration, done when the
    folder was prepared, left out); ``hierarchy["run_seconds"]``: the runs' wall seconds summed, and
    ``hierarchy["cpu_seconds"]`` their CPU seconds (pyosys), the elaboration included in both."""
    job = json.loads((workdir / "synth_job.json").read_text())
    stamps: list[tuple[float, float]] = []
    cells: dict[str, int] = {}
    seconds = {"elaborate": job.get("elab_seconds", 0.0)}
    cpu: dict[str, float | None] = {"elaborate": job.get("elab_cpu_seconds")}
    timings: list[tuple[dict[str, Any], str]] = []
    parts_out = []
    for p in [*job["parts"], {"dir": job["rest"], "module": "rest", "count": 1}]:
        res = json.loads((workdir / p["dir"] / "result.json").read_text())
        for c, n in res["cells"].items():
            if not c.startswith(HIER_PART):
                cells[c] = cells.get(c, 0) + p["count"] * n
        seconds[p["dir"]] = res["seconds"]
        cpu[p["dir"]] = res.get("cpu_seconds")
        if "started" in res:
            stamps.append((res["started"], res["ended"]))
        timings.append((res["timing"], p["dir"]))
        parts_out.append({"module": p["module"], "name": p["dir"], "instances": p["count"], "lut": res["lut"],
                          "ff": res["ff"], "dsp": res["dsp"], "bram": res["bram"], "seconds": res["seconds"],
                          "logic_levels": res["timing"].get("logic_levels")})
    wall_s = round(max(e for _, e in stamps) - min(b for b, _ in stamps), 2) if stamps else None
    out = counts_from_cells(job["kind"], cells)
    rest = json.loads((workdir / job["rest"] / "result.json").read_text())
    out.memories = rest["memories"]
    worst, where = max(timings, key=lambda t: (t[0].get("logic_levels", 0), t[0].get("path_ns", 0.0)))
    out.timing = dict(worst) | {"where": where, "composed": "max over the parts and the rest (register-to-register "
                                                          "inside each; a black box's ports end paths)"}
    out.tool = f"{yosys_version()}: {HIER_STEPS}"
    out.flow = "hierarchical"
    out.hierarchy = {"parts": parts_out, "yosys_runs": len(parts_out) + 1,  # + the elaboration
                     "run_seconds": round(sum(seconds.values()), 2), "seconds_by_run": seconds, "wall_seconds": wall_s,
                     "cpu_seconds": None if None in cpu.values() else round(sum(cpu.values()), 2),
                     "cpu_seconds_by_run": cpu}
    out.cpu_seconds = out.hierarchy["cpu_seconds"]
    out.seconds = wall_s if wall_s is not None else round(sum(seconds.values()), 2)
    return out

