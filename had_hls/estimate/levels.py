"""Logic levels of the worst register-to-register path of a synthesised netlist, and a clock model from them.

Input: the JSON netlist Yosys writes after ``synth_xilinx`` (UltraScale+ primitives). Counted the way Vivado's
``report_design_analysis`` counts LOGIC_LEVELS: every LUT, MUXF7/8/9, CARRY4/8 cell, combinational DSP48 and
distributed-RAM read on the path between two sequential elements is one level (INV and buffers are absorbed: 0).

Sequential elements (where paths start and end): flip-flops and latches, SRLs, block RAM / UltraRAM, a DSP48 with
any of its pipeline registers on (AREG/BREG/CREG/MREG/PREG; taken as registered on both sides), and the write side
of a distributed RAM. Paths from or to the module's ports are not register-to-register and are left out.

Clock model (``fmax_model_mhz``, a formula, not a measurement): the path delay is the sum of
  LEVEL_NS    per LUT / MUXF / distributed-RAM read / carry cell entering a chain: 0.70 ns, the effective LUT level
              (LUT plus its routing) of Vivado timing reports as characterised by MapBuf (Dynamatic, EPFL: a 4.2 ns
              clock period holds 6 LUT levels; https://mapbuf.readthedocs.io, "Delay characterization"), which
              includes the register overhead;
  CARRY_NS    per carry cell fed by the carry-out of another: 0.271 ns, CARRY4 CI -> CO of the Project X-Ray
              Artix-7 timing database (the specify blocks of Yosys's share/xilinx/cells_sim.v);
  DSP_LEVELS  a DSP48 without pipeline registers counts as 4 LUT levels (MapBuf).
Both sources are 7-series characterisations and routing is an average, not placed: read the figure as a
conservative, relative clock estimate for comparing designs on the same model, not as Vivado's Fmax.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LEVELS_VERSION = 1  # bump when the counting or the model changes (synthesis results are cached with it)
LEVEL_NS = 0.70
CARRY_NS = 0.271
DSP_LEVELS = 4
MODEL_SOURCE = (
    "0.70 ns per LUT level incl. routing (MapBuf delay characterisation of Vivado timing reports: 6 LUT levels in "
    "4.2 ns); 0.271 ns per chained carry cell (Project X-Ray Artix-7 CARRY4 CI->CO, Yosys cells_sim.v); a "
    "combinational DSP48 = 4 LUT levels (MapBuf)"
)

_FF = re.compile(r"^(FD[A-Z]*|LD[A-Z]*|SRL\w*)$")
_BRAM = re.compile(r"^(RAMB\w+|URAM\w+|FIFO\w+)$")
_LUT = re.compile(r"^LUT[1-6](_2)?$")
_MUXF = re.compile(r"^MUXF[789]$")
_CARRY = re.compile(r"^CARRY[48]$")
_DSP = re.compile(r"^DSP48\w*$")
_LUTRAM = re.compile(r"^RAM\d+(X\d+[SD]|M\d*|X\d+DR\d+|X\d+SW)?\w*$")
_FREE = re.compile(r"^(INV|BUF|BUFG\w*|IBUF\w*|OBUF\w*|VCC|GND|\$scopeinfo)$")
# distributed-RAM pins whose value reaches the data outputs within the cycle (read addresses)
_LUTRAM_READ_PIN = re.compile(r"^(A\d*|ADDR[A-H]\d*|DPRA\d*|RADR\d*|ADDR\w*)$")
_DSP_REGS = ("AREG", "BREG", "CREG", "MREG", "PREG", "ADREG", "DREG")


@dataclass
class LogicDepth:
    """The worst register-to-register path of one netlist."""

    logic_levels: int  # Vivado-style count on the worst path
    path_cells: list[str]  # cell types along it, start to end
    path_nets: list[str]  # the net each of them drives (public names where Yosys kept one)
    delay_model_ns: float  # the clock model's delay of the slowest path (not necessarily the deepest)
    fmax_model_mhz: float | None
    slowest_path_cells: list[str] = field(default_factory=list)
    endpoints: int = 0
    model: str = MODEL_SOURCE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _param_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if re.fullmatch(r"[01xz]+", text) and len(text) > 1:
        return int(text.replace("x", "0").replace("z", "0"), 2)
    try:
        return int(text)
    except ValueError:
        return 0


def _kind(cell: dict[str, Any], boxes: tuple[str, ...] = ()) -> str:
    """'seq', 'comb', 'lutram', 'free' (0 levels) for a cell of the mapped netlist; a cell whose type starts with
    one of ``boxes`` (a black box of the hierarchical flow) ends and starts paths like a register."""
    t = cell["type"].lstrip("\\")
    if _FF.match(t) or _BRAM.match(t) or (boxes and t.startswith(boxes)):
        return "seq"
    if _DSP.match(t):
        regs = cell.get("parameters", {})
        return "seq" if any(_param_int(regs.get(r, 0)) for r in _DSP_REGS) else "comb"
    if _LUT.match(t) or _MUXF.match(t) or _CARRY.match(t):
        return "comb"
    if _LUTRAM.match(t):
        return "lutram"
    if _FREE.match(t):
        return "free"
    raise ValueError(f"logic levels: unknown cell type {t!r} in the netlist")


def logic_depth(netlist_json: str | Path, top: str | None = None, boxes: tuple[str, ...] = ()) -> LogicDepth:
    """Logic levels and the clock model of the worst register-to-register path of ``top`` (flattened netlist);
    ``boxes``: type prefixes of black-box cells, taken as path ends (see ``_kind``)."""
    data = json.loads(Path(netlist_json).read_text())
    mods = data["modules"]
    if top is None:
        tops = [n for n, m in mods.items() if _param_int(m.get("attributes", {}).get("top", 0))]
        top = tops[0] if tops else next(iter(mods))
    cells: dict[str, dict[str, Any]] = mods[top]["cells"]

    driver: dict[int, tuple[str, str]] = {}  # net bit -> (cell, port)
    kinds: dict[str, str] = {}
    for name, c in cells.items():
        kinds[name] = _kind(c, boxes)
        for port, bits in c["connections"].items():
            if c.get("port_directions", {}).get(port) == "output":
                for b in bits:
                    if isinstance(b, int):
                        driver[b] = (name, port)

    # per cell: the net bits its level depends on (combinational inputs)
    def comb_inputs(name: str) -> list[int]:
        c = cells[name]
        out = []
        for port, bits in c["connections"].items():
            if c.get("port_directions", {}).get(port) != "input":
                continue
            if kinds[name] == "lutram" and not _LUTRAM_READ_PIN.match(port):
                continue
            out.extend(b for b in bits if isinstance(b, int))
        return out

    def weight(name: str, from_carry: bool) -> tuple[int, float]:
        """(levels, model ns) a cell adds."""
        k, t = kinds[name], cells[name]["type"].lstrip("\\")
        if k == "free":
            return 0, 0.0
        if _DSP.match(t):
            return 1, DSP_LEVELS * LEVEL_NS
        if _CARRY.match(t) and from_carry:
            return 1, CARRY_NS
        return 1, LEVEL_NS

    # longest paths by memoised depth-first search over drivers (iterative: deep carry chains). A cell reached
    # only from ports or constants is on no register-to-register path: level -1.
    level: dict[str, int] = {}
    delay: dict[str, float] = {}
    prev_l: dict[str, str | None] = {}
    prev_d: dict[str, str | None] = {}

    def sources(name: str) -> tuple[bool, set[str]]:
        """(fed by a register, the combinational cells feeding it)."""
        reg, comb = False, set()
        for b in comb_inputs(name):
            d = driver.get(b)
            if d is None:
                continue  # a port or a constant
            if kinds[d[0]] == "seq":
                reg = True
            else:
                comb.add(d[0])
        return reg, comb

    def solve(root: str) -> None:
        stack = [(root, False)]
        while stack:
            name, expanded = stack.pop()
            if name in level:
                continue
            reg, srcs = sources(name)
            if not expanded:
                stack.append((name, True))
                stack.extend((s, False) for s in srcs if s not in level)
                continue
            t = cells[name]["type"].lstrip("\\")
            best_l, best_d, arg_l, arg_d = -1, -1.0, None, None
            if reg:
                best_l, best_d = weight(name, False)
            for s in srcs:
                if level[s] < 0:
                    continue
                from_carry = bool(_CARRY.match(t)) and bool(_CARRY.match(cells[s]["type"].lstrip("\\")))
                wl, wd = weight(name, from_carry)
                if level[s] + wl > best_l:
                    best_l, arg_l = level[s] + wl, s
                if delay[s] + wd > best_d:
                    best_d, arg_d = delay[s] + wd, s
            level[name], delay[name], prev_l[name], prev_d[name] = best_l, best_d, arg_l, arg_d

    worst_l, worst_d, end_l, end_d, endpoints = 0, 0.0, None, None, 0
    for name, c in cells.items():
        if kinds[name] not in ("seq", "lutram"):
            continue
        for port, bits in c["connections"].items():
            if c.get("port_directions", {}).get(port) != "input":
                continue
            for b in bits:
                d = driver.get(b) if isinstance(b, int) else None
                if d is None or kinds[d[0]] == "seq":
                    continue
                s = d[0]
                solve(s)
                if level[s] < 0:
                    continue
                endpoints += 1
                if level[s] > worst_l:
                    worst_l, end_l = level[s], s
                if delay[s] > worst_d:
                    worst_d, end_d = delay[s], s

    names: dict[int, str] = {}
    for net, v in mods[top].get("netnames", {}).items():
        for i, b in enumerate(v["bits"]):
            if isinstance(b, int) and (b not in names or names[b].startswith("$")):
                names[b] = net if len(v["bits"]) == 1 else f"{net}[{i}]"

    def trace(end: str | None, prev: dict[str, str | None]) -> list[str]:
        path = []
        while end is not None:
            path.append(end)
            end = prev[end]
        return [n for n in path[::-1] if kinds[n] != "free"]

    def out_net(name: str) -> str:
        c = cells[name]
        for port, bits in c["connections"].items():
            if c.get("port_directions", {}).get(port) == "output":
                for b in bits:
                    if isinstance(b, int) and b in names:
                        return names[b]
        return "?"

    path = trace(end_l, prev_l)
    return LogicDepth(
        logic_levels=worst_l,
        path_cells=[cells[n]["type"].lstrip("\\") for n in path],
        path_nets=[out_net(n) for n in path],
        delay_model_ns=round(worst_d, 3),
        fmax_model_mhz=round(1000.0 / worst_d, 1) if worst_d > 0 else None,
        slowest_path_cells=[cells[n]["type"].lstrip("\\") for n in trace(end_d, prev_d)],
        endpoints=endpoints,
    )
