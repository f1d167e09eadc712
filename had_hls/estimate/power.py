"""Dynamic power from switching activity recorded in co-simulation x per-resource energy coefficients.

There is no open-source FPGA power estimator. This module does what a vectorless-free estimate needs and no more:

1. :func:`vcd_activity` reads the co-simulation VCD (Verilator/Icarus, the project's real vectors) in one streaming
   pass and counts bit toggles per signal of the attention core's scope (``...core``). Toggle rate alpha = toggles
   per bit per clock cycle (Xilinx XPE's definition: a rate of 12.5% is one transition every eight cycles).
   - ``alpha_logic``: mean over every bit of the core (registers and nets) -> LUTs and FFs.
   - ``alpha_dsp``: mean over the input ports of the multiplier-holding instances (``score_u`` = fp_score_unit
     q/k, ``av_u`` = softmax_av_lanes e/v, ``norm_u`` = normalise_row sum/acc) -> DSP slices.
   - ``busy``: fraction of cycles the core is busy -> memory (BRAM) accesses per cycle.
2. :data:`COEFFICIENTS`: energy of one resource per clock cycle at toggle rate 0.5 (random data), derived from
   published measurements (sources in each entry, repeated in report.md). Energy scales linearly with alpha / 0.5.
3. ``P_dyn = f_clk * sum_r N_r * E_r * alpha_r / 0.5``. Static power belongs to the device, not the design, and
   is the same for both cores on one part: it is left out, and said so in the report.

The absolute milliwatts are an order-of-magnitude estimate; the HAD / FP ratio on the same coefficients is the
figure to read. :func:`power_mw` also returns the power under a DSP coefficient 14x higher (the FPGA/ASIC gap
applied to the hard multipliers too) so the report can show how much the ratio depends on that choice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from had_hls.estimate.vcd_toggles import vcd_header

HORO = ("M. Horowitz, '1.1 Computing's energy problem (and what we can do about it)', IEEE ISSCC 2014, "
        "pp. 10-14 (45 nm, 0.9 V: 32-bit int add 0.1 pJ, 32-bit int mult 3.1 pJ, 8 KB SRAM 64-bit read 10 pJ)")
KUON = ("I. Kuon, J. Rose, 'Measuring the gap between FPGAs and ASICs', IEEE TCAD 26(2), 2007, pp. 203-215 "
        "(FPGA/ASIC dynamic power ratio ~14 for LUT logic + flip-flops; smaller with hard blocks)")
FPGA_ASIC_GAP = 14.0
ASIC_ADD32_PJ = 0.1
ASIC_MUL32_PJ = 3.1
ASIC_SRAM64_PJ = 10.0


@dataclass(frozen=True)
class Coefficient:
    """Energy of one resource per clock cycle at toggle rate 0.5, in pJ, and how it was derived."""

    pj: float
    derivation: str
    source: str


COEFFICIENTS: dict[str, Coefficient] = {
    "lut": Coefficient(
        ASIC_ADD32_PJ / 32 * FPGA_ASIC_GAP,
        "one bit of a 32-bit add (0.1 pJ / 32, 45 nm ASIC) x FPGA/ASIC dynamic-power gap 14 (LUT + its routing)",
        f"{HORO}; {KUON}",
    ),
    "ff": Coefficient(
        ASIC_ADD32_PJ / 32 * FPGA_ASIC_GAP,
        "as a LUT: one bit-level switching event x the FPGA/ASIC gap 14",
        f"{HORO}; {KUON}",
    ),
    "dsp": Coefficient(
        ASIC_MUL32_PJ * (16 / 32) ** 2,
        "one 16x16 multiply = 32-bit multiply 3.1 pJ x (16/32)^2 (array multiplier energy ~ width^2); "
        "gap 1: the DSP48E2 is a hard block (sensitivity: x14 in dsp_gap14)",
        f"{HORO}; {KUON}",
    ),
    "bram": Coefficient(
        ASIC_SRAM64_PJ,
        "one 64-bit read of an 8 KB SRAM (a RAMB36 holds 4.5 KB), per busy cycle; gap 1 (hard block)",
        HORO,
    ),
}
MULTIPLIER_SCOPES = {"score_u": ("q", "k"), "av_u": ("e", "v"), "norm_u": ("sum", "acc")}


@dataclass
class Activity:
    """Toggle rates of the core's signals in one VCD."""

    vcd: str
    scope: str
    cycles: int
    bits: int
    toggles: int
    alpha_logic: float
    alpha_dsp: float
    busy: float
    dsp_bits: int = 0
    per_signal_top: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------------------ VCD
def _tokens(path: Path) -> Iterator[str]:
    with path.open("r", errors="replace") as fh:
        for line in fh:
            yield from line.split()


def vcd_activity(path: str | Path, scope_suffix: str = "core") -> Activity:
    """Toggle counts of every signal under the first scope whose name is ``scope_suffix`` (the attention core).

    Cycles are the rising edges of the core's ``clk``. The values dumped at the first timestamp are the initial
    state and are not counted as toggles; x/z bits count as 0.

    Counted: the core's nets and registers. Left out: memory words (a ``$var`` whose name carries an index,
    ``kmem[5]``: Verilator traces arrays of up to 32 words, Icarus none; memories are the BRAM / LUTRAM terms of
    the power model, and counting their mostly idle bits would make alpha depend on the memory depth and the
    simulator) and parameters (constants, not hardware; ``$var parameter`` in Icarus, left out of Verilator's
    trace by ``--no-trace-params``).
    """
    path = Path(path)
    idinfo: dict[str, tuple[str, str, int]] = {}  # id -> (scope path, name, width) for ids inside the core
    aliases: dict[str, list[tuple[str, str]]] = {}  # id -> every (scope, name) dumped with it (ports alias nets)
    toks = _tokens(path)
    header: list[str] = []
    for tok in toks:
        if tok == "$enddefinitions":
            break
        header.append(tok)
    found = vcd_header(" ".join(header), scope_suffix)
    if found is None:
        raise RuntimeError(f"{path}: no scope named {scope_suffix!r} (the attention core) in the VCD")
    core_path, declared = found
    for v in declared:
        if v.vtype == "parameter" or "[" in v.name:  # constant, or a memory word (see the docstring)
            continue
        idinfo.setdefault(v.ident, (v.scope, v.name, v.width))
        aliases.setdefault(v.ident, []).append((v.scope, v.name))
    clk_id = next((i for i, (sc, n, _) in idinfo.items() if sc == "" and n == "clk"), None)
    busy_id = next((i for i, (sc, n, _) in idinfo.items() if sc == "" and n in ("busy", "run")), None)
    if clk_id is None:
        raise RuntimeError(f"{path}: the core scope has no clk signal")
    value: dict[str, int] = {}
    toggles: dict[str, int] = dict.fromkeys(idinfo, 0)
    cycles = 0
    busy_cycles = 0
    first_time = True
    pending_vector: str | None = None
    for tok in toks:
        if pending_vector is not None:
            ident = tok
            if ident in idinfo:
                v = int(pending_vector.replace("x", "0").replace("z", "0").replace("X", "0").replace("Z", "0"), 2)
                old = value.get(ident)
                if old is not None and not first_time:
                    toggles[ident] += (old ^ v).bit_count()
                value[ident] = v
            pending_vector = None
            continue
        c = tok[0]
        if c == "#":
            if value:
                first_time = False
            continue
        if c in "bBrR":
            pending_vector = tok[1:]
            continue
        if c in "01xzXZ":
            ident = tok[1:]
            if ident not in idinfo:
                continue
            v = 1 if c == "1" else 0
            old = value.get(ident)
            if old is not None and not first_time:
                toggles[ident] += old ^ v
                if ident == clk_id and v == 1 and old == 0:
                    cycles += 1
                    if busy_id is not None and value.get(busy_id, 0):
                        busy_cycles += 1
            value[ident] = v
            continue
        # $dumpvars / $end / $comment keywords
    if cycles == 0:
        raise RuntimeError(f"{path}: no clock edges of the core in the VCD")
    skip = {clk_id}
    bits = sum(w for i, (_, _, w) in idinfo.items() if i not in skip)
    total = sum(t for i, t in toggles.items() if i not in skip)
    dsp_ids = [i for i in idinfo
               if any(sc.split(".")[-1] in MULTIPLIER_SCOPES and n in MULTIPLIER_SCOPES[sc.split(".")[-1]]
                      for sc, n in aliases[i])]
    dsp_bits = sum(idinfo[i][2] for i in dsp_ids)
    dsp_toggles = sum(toggles[i] for i in dsp_ids)
    alpha_logic = total / max(bits * cycles, 1)
    alpha_dsp = dsp_toggles / max(dsp_bits * cycles, 1) if dsp_bits else alpha_logic
    top = sorted(((toggles[i] / (w * cycles), f"{sc}.{n}".lstrip("."), w) for i, (sc, n, w) in idinfo.items()
                  if i not in skip), reverse=True)[:10]
    return Activity(
        vcd=str(path), scope=core_path, cycles=cycles, bits=bits, toggles=total, alpha_logic=alpha_logic,
        alpha_dsp=alpha_dsp, busy=busy_cycles / cycles if busy_id is not None else 1.0, dsp_bits=dsp_bits,
        per_signal_top=[{"signal": n, "bits": w, "alpha": round(a, 4)} for a, n, w in top],
    )


# ------------------------------------------------------------------------------------------------ power
def power_mw(resources: dict[str, float], activity: Activity, f_mhz: float) -> dict[str, Any]:
    """Dynamic power (mW) of a core with ``resources`` {lut, ff, dsp, bram} at ``f_mhz`` and ``activity``."""
    rates = {"lut": activity.alpha_logic, "ff": activity.alpha_logic, "dsp": activity.alpha_dsp,
             "bram": activity.busy * 0.5}
    parts = {}
    for r, coef in COEFFICIENTS.items():
        n = float(resources.get(r, 0) or 0)
        parts[r] = n * coef.pj * rates[r] / 0.5 * f_mhz * 1e-3  # pJ per cycle x MHz = uW; /1000 = mW
    total = sum(parts.values())
    gap14 = total + parts["dsp"] * (FPGA_ASIC_GAP - 1)
    return {
        "power_mw": total,
        "by_resource_mw": parts,
        "f_mhz": f_mhz,
        "toggle_rates": rates,
        "power_mw_dsp_gap14": gap14,
    }


def coefficient_table() -> dict[str, dict[str, Any]]:
    """The coefficients as JSON-able dicts (for report.json's method)."""
    return {k: {"pj_per_cycle_at_alpha_0.5": round(c.pj, 6), "derivation": c.derivation, "source": c.source}
            for k, c in COEFFICIENTS.items()}
