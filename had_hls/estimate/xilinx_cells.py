"""UltraScale+ resource counts from Yosys cell types, counted like Vivado's utilisation report (CLB LUTs = logic
LUTs + LUTs used as distributed RAM or shift registers), and the memory inventory Yosys inferred before mapping.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# LUT sites taken by one distributed-RAM / shift-register primitive (UG574, "CLB LUTs" as Vivado counts them)
LUTRAM_LUTS = {
    "RAM16X1S": 1,
    "RAM32X1S": 1,
    "RAM64X1S": 1,
    "RAM128X1S": 2,
    "RAM256X1S": 4,
    "RAM512X1S": 8,
    "RAM16X1D": 2,
    "RAM32X1D": 2,
    "RAM64X1D": 2,
    "RAM128X1D": 4,
    "RAM256X1D": 8,
    "RAM32M": 4,
    "RAM64M": 4,
    "RAM32M16": 8,
    "RAM64M8": 8,
    "RAM32X16DR8": 8,
    "RAM64X8SW": 8,
    "SRL16E": 1,
    "SRLC16E": 1,
    "SRLC32E": 1,
}
FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE", "FDRE_1", "FDSE_1", "FDCE_1", "FDPE_1", "LDCE", "LDPE")
DSP_CELLS = ("DSP48E2", "DSP48E1", "DSP48E", "DSP48A1")
BRAM36_CELLS = ("RAMB36E2", "RAMB36E1")
BRAM18_CELLS = ("RAMB18E2", "RAMB18E1")
URAM_CELLS = ("URAM288", "URAM288_BASE")
CARRY_CELLS = ("CARRY8", "CARRY4")


@dataclass
class SynthResult:
    """Resource counts of one core (UltraScale+ primitives) and what the synthesis saw."""

    kind: str
    lut: int
    ff: int
    dsp: int
    bram: float  # RAMB36 equivalents (RAMB18 = 0.5)
    carry: int
    uram: int = 0
    lut_logic: int = 0
    lut_ram: int = 0
    muxf: int = 0
    cells: dict[str, int] = field(default_factory=dict)
    memories: list[dict[str, Any]] = field(default_factory=list)
    tool: str = ""
    seconds: float = 0.0
    cpu_seconds: float | None = None  # CPU (user + system) of the Yosys process(es) where pyosys ran them
    timing: dict[str, Any] = field(default_factory=dict)  # levels.LogicDepth of the worst register-to-register path
    flow: str = "flat"  # "flat" (synth_xilinx -flatten) or "hierarchical" (each distinct module once)
    hierarchy: dict[str, Any] = field(default_factory=dict)  # hierarchical flow: the parts, runs, CPU and wall s

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stat_cells(path: Path, top_name: str = "synth_top") -> dict[str, int]:
    data = json.loads(path.read_text())
    mods = data.get("modules", {})
    top = next((v for k, v in mods.items() if k.lstrip("\\") == top_name), None)
    if top is None:
        top = data.get("design", {})
    cells = top.get("num_cells_by_type", {})
    return {k.lstrip("\\"): int(v) for k, v in cells.items()}


def counts_from_cells(kind: str, cells: dict[str, int]) -> SynthResult:
    """Vivado-style counts from Yosys cell types (UltraScale+ primitives)."""
    lut_logic = sum(n for c, n in cells.items() if re.fullmatch(r"LUT[1-6]", c))
    lut_ram = sum(LUTRAM_LUTS[c] * n for c, n in cells.items() if c in LUTRAM_LUTS)
    unknown_ram = [
        c for c in cells if c.startswith(("RAM", "SRL")) and c not in LUTRAM_LUTS and not c.startswith("RAMB")
    ]
    if unknown_ram:
        raise RuntimeError(f"unknown distributed-RAM primitives in the netlist: {unknown_ram}")
    ff = sum(n for c, n in cells.items() if c in FF_CELLS)
    dsp = sum(n for c, n in cells.items() if c in DSP_CELLS)
    bram = sum(n for c, n in cells.items() if c in BRAM36_CELLS) + 0.5 * sum(
        n for c, n in cells.items() if c in BRAM18_CELLS
    )
    uram = sum(n for c, n in cells.items() if c in URAM_CELLS)
    carry = sum(n for c, n in cells.items() if c in CARRY_CELLS)
    muxf = sum(n for c, n in cells.items() if c.startswith("MUXF"))
    return SynthResult(
        kind=kind,
        lut=lut_logic + lut_ram,
        ff=ff,
        dsp=dsp,
        bram=bram,
        carry=carry,
        uram=uram,
        lut_logic=lut_logic,
        lut_ram=lut_ram,
        muxf=muxf,
        cells=dict(sorted(cells.items())),
    )


_MEM_CELL = re.compile(r"^\s*cell \$mem(?:_v2)? (\S+)")
_MEM_PARAM = re.compile(r"^\s*parameter \\(\w+) (.+)$")


def parse_memories(path: Path) -> list[dict[str, Any]]:
    """Memories Yosys inferred before technology mapping: name, width, depth, bits, read/write ports, banks.

    Banks of one memory (same name and width in different generate blocks, e.g. the K memory banked by lane) are
    summed into one entry: the HAD core's ``kmem`` is L x E bits in total."""
    if not path.is_file():
        return []
    mems: list[dict[str, Any]] = []
    cur: dict[str, Any] | None = None
    for line in path.read_text().splitlines():
        m = _MEM_CELL.match(line)
        if m:
            cur = {"cell": m.group(1)}
            mems.append(cur)
            continue
        if cur is None:
            continue
        p = _MEM_PARAM.match(line)
        if p:
            cur[p.group(1)] = p.group(2).strip()
        elif line.strip() == "end":
            cur = None
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for m in mems:
        width = _param_int(m.get("WIDTH", "0"))
        size = _param_int(m.get("SIZE", "0"))
        path = m.get("MEMID", m["cell"]).strip('"').lstrip("\\")
        name = path.split(".")[-1]
        # the cores bank a memory by lane (kb[p].kmem, vr[a].vmem, cb[b].cbuf): one entry per (name, width) with the
        # banks summed (depth = rows over all banks, bits = total bits, ports = over all banks)
        e = out.setdefault(
            (name, width),
            {
                "name": name,
                "path": path,
                "width": width,
                "depth": 0,
                "bits": 0,
                "read_ports": 0,
                "write_ports": 0,
                "banks": 0,
            },
        )
        e["depth"] += size
        e["bits"] += width * size
        e["read_ports"] += _param_int(m.get("RD_PORTS", "0"))
        e["write_ports"] += _param_int(m.get("WR_PORTS", "0"))
        e["banks"] += 1
    return sorted(out.values(), key=lambda d: (d["name"], d["width"]))


def _param_int(text: str) -> int:
    text = text.strip()
    m = re.fullmatch(r"(\d+)'([01xz]+)", text)
    if m:
        return int(m.group(2).replace("x", "0").replace("z", "0"), 2)
    try:
        return int(text)
    except ValueError:
        return 0

