"""The stage graph: what each stage reads and writes in the output folder, and the one-line error when a
stage's input is missing.

Stages talk through their outputs only: ``report`` reads cosim.json and the co-simulation's activity files and
never runs the co-simulation; ``cosim`` reads csim_vectors.npz and never runs the C-simulation. A missing input
is a :class:`had_hls.errors.MissingPrerequisite` naming the command that writes it (exit 2, no traceback).
:mod:`had_hls.pipeline` runs the stages in order.

    stage    reads (from earlier stages)                       writes
    distill  -                                                 student.pt, distill.json, teacher.pt
    convert  model.checkpoint (distill's student.pt)           hls/model/, hls/model/convert.json, check.json
    csim     model.checkpoint if the project gives one         csim.json, csim_vectors.npz, hls/{had,fp}/, check.json
    cosim    csim_vectors.npz (unless --no-csim)               cosim.json, rtl/{had,fp}/ (activity.vcd)
    report   cosim.json + rtl/{had,fp}/activity.vcd, same P    report.json, report.md, report_*.png, estimate/cache/
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from had_hls.errors import MissingPrerequisite

STAGE_ORDER = ("distill", "convert", "csim", "cosim", "report")
READS: dict[str, tuple[str, ...]] = {
    "distill": (),
    "convert": ("student.pt",),
    "csim": (),
    "cosim": ("csim_vectors.npz",),
    "report": ("cosim.json", "rtl/had/activity.vcd", "rtl/fp/activity.vcd"),
}
WRITES: dict[str, tuple[str, ...]] = {
    "distill": ("student.pt", "distill.json"),
    "convert": ("hls/model/convert.json", "check.json"),
    "csim": ("csim.json", "csim_vectors.npz", "check.json"),
    "cosim": ("cosim.json", "rtl/had/activity.vcd", "rtl/fp/activity.vcd"),
    "report": ("report.json", "report.md"),
}


def command_line(command: str, project_path: Path | str, out: Path | str, *flags: str) -> str:
    """The `had-hls` command line that writes a missing input, as the error shows it."""
    return " ".join(["had-hls", command, str(project_path), "--out", str(out), *flags])


def missing(what: str, out: Path, command: str, project_path: Path | str, *flags: str) -> MissingPrerequisite:
    return MissingPrerequisite(
        f"{what} is missing in {out}: run `{command_line(command, project_path, out, *flags)}` first"
    )


def require_csim_vectors(out: Path, project_path: Path | str) -> Path:
    """<out>/csim_vectors.npz, written by `had-hls csim`."""
    path = Path(out) / "csim_vectors.npz"
    if not path.is_file():
        raise missing("csim_vectors.npz (the C-simulation's vectors)", Path(out), "csim", project_path)
    return path


def require_cosim(out: Path, project_path: Path | str, lanes: int, lanes_flag: bool = False) -> dict[str, Any]:
    """cosim.json of `had-hls cosim` at ``lanes`` with both cores' activity files (what the report measures)."""
    out = Path(out)
    flags = ("--lanes", str(lanes)) if lanes_flag else ()
    path = out / "cosim.json"
    if not path.is_file():
        raise missing("cosim.json (the co-simulation)", out, "cosim", project_path, *flags)
    cj = json.loads(path.read_text())
    if cj.get("lanes") != lanes:
        raise MissingPrerequisite(
            f"{path} is at P={cj.get('lanes')} lanes, the report asks P={lanes}: run "
            f"`{command_line('cosim', project_path, out, '--lanes', str(lanes))}` first"
        )
    for kind in ("had", "fp"):
        if not (out / "rtl" / kind / "activity.vcd").is_file():
            raise missing(f"rtl/{kind}/activity.vcd (the co-simulation's activity)", out, "cosim", project_path,
                          *flags)
    return cj
