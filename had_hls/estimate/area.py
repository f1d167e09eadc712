"""One area figure: LUT-equivalents weighted by how much of the target part each resource is.

``lut_eq = LUT + FF * (LUTs / FFs of the part) + DSP * (LUTs / DSPs) + BRAM36 * (LUTs / BRAM36s)
+ URAM * (LUTs / URAMs)``

Why: a design is "large" when it takes a large share of the part it must fit in. Weighting each resource by the
number of LUTs the vendor ships per unit of it makes equal shares of the part count equally, so a DSP-heavy and a
LUT-heavy design can be compared with one number, on the part the project targets (``hls.part``). CARRY8 cells sit
in the same CLBs as the LUTs they extend and are not counted again. The totals are the data-sheet figures of the
AMD/Xilinx UltraScale+ families (DS890 "UltraScale Architecture and Product Data Sheet: Overview", DS891 for Zynq
UltraScale+); unknown parts fall back to the xcvu13p (the default part of hls4ml projects here) and say so.
"""

from __future__ import annotations

from typing import Any

# part prefix -> CLB LUTs, CLB flip-flops, DSP48E2 slices, RAMB36 blocks, URAM288 blocks (DS890 / DS891)
PART_RESOURCES: dict[str, dict[str, int]] = {
    "xcvu13p": {"lut": 1_728_000, "ff": 3_456_000, "dsp": 12_288, "bram": 2_688, "uram": 1_280},
    "xcvu9p": {"lut": 1_182_240, "ff": 2_364_480, "dsp": 6_840, "bram": 2_160, "uram": 960},
    "xczu9eg": {"lut": 274_080, "ff": 548_160, "dsp": 2_520, "bram": 912, "uram": 0},
}
DEFAULT_PART = "xcvu13p"


def part_family(part: str) -> tuple[str, bool]:
    """(known part prefix, True) for ``part`` (e.g. 'xcvu13p-flga2577-2-e' -> 'xcvu13p'), else (default, False)."""
    p = part.lower()
    for prefix in sorted(PART_RESOURCES, key=len, reverse=True):
        if p.startswith(prefix):
            return prefix, True
    return DEFAULT_PART, False


def weights(part: str) -> dict[str, Any]:
    """LUT-equivalent weight of one FF / DSP / BRAM36 / URAM on ``part`` (LUT = 1)."""
    prefix, known = part_family(part)
    tot = PART_RESOURCES[prefix]
    w = {"lut": 1.0}
    for r in ("ff", "dsp", "bram", "uram"):
        w[r] = tot["lut"] / tot[r] if tot[r] else 0.0
    return {"part": prefix, "part_known": known, "weights": w, "part_totals": tot}


def lut_equivalents(res: dict[str, float], part: str) -> float:
    """The one area figure of a core's resources {lut, ff, dsp, bram, uram}."""
    w = weights(part)["weights"]
    return float(sum(w[r] * float(res.get(r, 0) or 0) for r in w))


def part_fraction(res: dict[str, float], part: str) -> float:
    """lut_equivalents / LUTs of the part: the share of the part (1.0 = the whole device)."""
    info = weights(part)
    return lut_equivalents(res, part) / info["part_totals"]["lut"]
