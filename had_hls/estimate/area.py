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


# ------------------------------------------------------------------------------------------------ reductions
RESOURCES = ("lut", "ff", "dsp", "bram")


def reduction(had: float, fp: float) -> float | None:
    """1 - HAD / FP (the share of the FP core's amount that HAD saves); None when FP uses none."""
    return 1.0 - float(had) / float(fp) if fp else None


def reductions(had: dict[str, float], fp: dict[str, float], part: str) -> dict[str, float | None]:
    """Per-resource reductions {lut, ff, dsp, bram} and the one-figure one, ``lut_equivalents``."""
    out = {r: reduction(float(had.get(r, 0) or 0), float(fp.get(r, 0) or 0)) for r in RESOURCES}
    out["lut_equivalents"] = reduction(lut_equivalents(had, part), lut_equivalents(fp, part))
    return out


def sensitivity(had: dict[str, float], fp: dict[str, float], part: str) -> list[dict[str, Any]]:
    """The area reduction under other weightings, recomputed from the measured counts: the LUT-equivalents as
    reported, LUTs only, and the DSP weight halved and zero (the DSP weight is the part's LUTs per DSP: the choice
    that moves the figure most when one core is DSP-heavy). Each row: figure, weights, HAD, FP, reduction."""
    base = weights(part)["weights"]
    variants = [
        ("LUT-equivalents (as reported)", dict(base)),
        ("LUT only", {r: (1.0 if r == "lut" else 0.0) for r in base}),
        ("DSP weight halved", {**base, "dsp": base["dsp"] / 2}),
        ("DSP weight zero", {**base, "dsp": 0.0}),
    ]
    rows = []
    for figure, w in variants:
        h = sum(w[r] * float(had.get(r, 0) or 0) for r in w)
        f = sum(w[r] * float(fp.get(r, 0) or 0) for r in w)
        rows.append({"figure": figure, "weights": w, "had": h, "fp": f, "reduction": reduction(h, f)})
    return rows
