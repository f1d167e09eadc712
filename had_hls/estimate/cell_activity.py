"""Per-cell toggle rate of a synthesized Xilinx netlist from per-bit net toggles (``cell_activities``): each cell
the energy coefficients count gets its resource class, its sites and its alpha (LUT, FF, distributed RAM: its
output bits; DSP48E2: its A and B operands; block RAM: the fraction of cycles its used ports are enabled)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from had_hls.estimate.xilinx_cells import DSP_CELLS, FF_CELLS, LUTRAM_LUTS

BRAM_CELLS = ("RAMB18E2", "RAMB36E2")
LUT_CELLS = tuple(f"LUT{k}" for k in range(1, 7))


@dataclass
class CellActivity:
    """Toggle rate of every counted cell of a netlist, by resource class."""

    cycles: int
    cells: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)  # class -> (type, sites, alpha)

    def summary(self) -> dict[str, Any]:
        out = {}
        for r, rows in self.cells.items():
            sites = sum(s for _, s, _ in rows)
            out[r] = {
                "cells": len(rows),
                "sites": sites,
                "alpha_mean": sum(s * a for _, s, a in rows) / sites if sites else 0.0,
                "alpha_max": max((a for _, _, a in rows), default=0.0),
            }
        return out


def resource_class(cell_type: str) -> tuple[str, float] | None:
    """(resource class of the energy coefficients, sites) of a cell type; None for cells without a coefficient."""
    if cell_type in LUT_CELLS:
        return "lut", 1.0
    if cell_type in LUTRAM_LUTS:
        return "lut", float(LUTRAM_LUTS[cell_type])
    if cell_type in FF_CELLS:
        return "ff", 1.0
    if cell_type in DSP_CELLS:
        return "dsp", 1.0
    if cell_type in BRAM_CELLS:
        return "bram", 1.0 if cell_type == "RAMB36E2" else 0.5
    return None


def cell_activities(
    netlist_json: Path,
    cycles: int,
    toggles: dict[tuple[str, int], int],
    high: dict[tuple[str, int], int],
    top: str = "synth_top",
) -> CellActivity:
    """alpha of each counted cell from the per-bit toggles of the nets it drives (DSP: its operands; block RAM:
    the fraction of cycles its used ports are enabled)."""
    mod = json.loads(netlist_json.read_text())["modules"][top]
    bit_name: dict[int, tuple[str, int]] = {}
    for name, net in mod["netnames"].items():
        for k, b in enumerate(net["bits"]):
            if isinstance(b, int):
                bit_name.setdefault(b, (name, k))

    def rate(bits: list[Any]) -> float:
        nets = [bit_name[b] for b in bits if isinstance(b, int) and b in bit_name]
        if not nets:
            return 0.0  # constants
        return sum(toggles.get(n, 0) for n in nets) / (len(nets) * cycles)

    def duty(bit: Any) -> float:
        if bit in ("1", 1) and not isinstance(bit, int):
            return 1.0
        if not isinstance(bit, int):
            return 0.0
        n = bit_name.get(bit)
        return high.get(n, 0) / cycles if n else 0.0

    act = CellActivity(cycles=cycles)
    for cell in mod["cells"].values():
        cls = resource_class(cell["type"])
        if cls is None:
            continue
        r, sites = cls
        conn, dirs = cell["connections"], cell.get("port_directions", {})
        if r == "dsp":
            alpha = rate(conn.get("A", []) + conn.get("B", []))
        elif r == "bram":
            ports = [("ENARDEN", "READ_WIDTH_A", "WRITE_WIDTH_A"), ("ENBWREN", "READ_WIDTH_B", "WRITE_WIDTH_B")]
            p = cell.get("parameters", {})
            used = [en for en, rw, ww in ports if _param_int(p.get(rw, 0)) or _param_int(p.get(ww, 0))]
            alpha = 0.5 * sum(duty(conn[en][0]) for en in used if conn.get(en))  # accesses/cycle, at 0.5 per port
        else:
            outs = [b for port, bits in conn.items() if dirs.get(port) == "output" for b in bits]
            alpha = rate(outs)
        act.cells.setdefault(r, []).append((cell["type"], sites, alpha))
    return act


def enable_nets(netlist_json: Path, top: str = "synth_top") -> set[str]:
    """Names of the nets on block-RAM enable pins (their duty, not their toggles, is a block RAM's activity)."""
    mod = json.loads(netlist_json.read_text())["modules"][top]
    want = {
        b
        for c in mod["cells"].values()
        if c["type"] in BRAM_CELLS
        for pin in ("ENARDEN", "ENBWREN")
        for b in c["connections"].get(pin, [])
        if isinstance(b, int)
    }
    return {name for name, net in mod["netnames"].items() if want & {b for b in net["bits"] if isinstance(b, int)}}


def _param_int(v: Any) -> int:
    if isinstance(v, int):
        return v
    s = str(v)
    try:
        return int(s, 2) if set(s) <= {"0", "1"} and len(s) > 8 else int(s)
    except ValueError:
        return 0

