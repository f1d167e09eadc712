"""FPGA dynamic power from the per-cell activity of the synthesized netlist (the netlist whose cells the report counts).

Method (``gate_level_activity`` then ``netlist_power``):

1. The netlist: the JSON that ``synth_xilinx -family xcup`` writes beside the resource counts
   (had_hls.estimate.synth.NETLIST_JSON). Yosys rewrites it as Verilog with one-bit nets (``splitnets``) named
   ``n<i>`` (the JSON written with it keeps the same names), so the simulator's VCD names every cell's nets.
2. The simulation: the co-simulation test bench (verification/rtl/tb_attention.v, had_hls.rtl.sim.run_simulation)
   drives that netlist with the project's co-simulation vectors. Cell models: Yosys's share/xilinx/cells_sim.v
   (flip-flops, carries, MUXF, distributed RAM), its LUT1..LUT6 written as the table lookup they are
   (``O = INIT[I]``, AMD UG574; cells_sim.v's timing-oriented mux tree simulates 3x slower), and
   had_hls/rtl/xcup_models.py's DSP48E2 / RAMB18E2 / RAMB36E2 (Yosys ships those as blackboxes).
   The VCD covers ``window`` cycles of steady-state attention after the first input's keys are loaded; the
   context rows the netlist produces in that run are compared with the golden model (a gate-level check of the
   very netlist the power is computed on: a mismatch stops the report).
3. Per cell, the toggle rate alpha (toggles per bit per clock cycle, Xilinx XPE's definition):
   LUT, FF, distributed RAM: of its output bits; DSP48E2: of its A and B operand bits; block RAM: the fraction of
   cycles its ports are enabled (accesses per cycle, as XPE counts block-RAM activity).
4. ``P = f * sum_cells sites_c * E_type(c) * alpha_c / 0.5`` with the cited energies of
   had_hls.estimate.power.COEFFICIENTS (a LUTRAM primitive counts its LUT sites). CARRY and MUXF cells and the
   clock tree are not in the coefficient set (as in the RTL-activity model), and static power is the device's.

Compared with the RTL-activity model (power.power_mw: one mean toggle rate over all RTL bits times the cell
counts), every cell here switches at its own measured rate: a core is not credited for a low mean rate of nets
that map to few cells, nor charged for busy nets that map to many.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from had_hls.estimate.power import COEFFICIENTS
from had_hls.estimate.synth import DSP_CELLS, FF_CELLS, LUTRAM_LUTS, run_yosys
from had_hls.rtl.generate import RtlDesign
from had_hls.rtl.xcup_models import write_xcup_models

SIM_NETLIST = "sim_netlist.v"
SIM_JSON = "sim_netlist.json"
BRAM_CELLS = ("RAMB18E2", "RAMB36E2")
LUT_CELLS = tuple(f"LUT{k}" for k in range(1, 7))
DEFAULT_WINDOW = 256  # cycles of steady-state attention in the activity window


def _yosys_share() -> Path:
    """share/ of the Yosys the netlist came from (pyosys' own when installed, else the system's)."""
    try:
        import pyosys

        share = Path(pyosys.__file__).parent / "share"
        if (share / "xilinx" / "cells_sim.v").is_file():
            return share
    except ImportError:
        pass
    from had_hls.rtl.synth import yosys_datdir

    return yosys_datdir()


def cell_models(workdir: Path) -> Path:
    """Yosys's share/xilinx/cells_sim.v with LUT1..LUT6 as table lookups (``O = INIT[{I(k-1)..I0}]``, UG574)."""
    text = (_yosys_share() / "xilinx" / "cells_sim.v").read_text()
    text = re.sub(r"\nmodule LUT[1-6]\(.*?\nendmodule\n", "\n", text, flags=re.S)
    luts = []
    for k in range(1, 7):
        ins = ", ".join(f"I{i}" for i in range(k))
        idx = ", ".join(f"I{i}" for i in reversed(range(k)))
        luts.append(
            f"module LUT{k}(output O, input {ins});\n  parameter [{2**k - 1}:0] INIT = 0;\n"
            f"  assign O = INIT[{{{idx}}}];\nendmodule\n"
        )
    path = workdir / "cells_sim_lut.v"
    path.write_text(
        "// Yosys share/xilinx/cells_sim.v, LUT1..LUT6 as table lookups (had_hls.estimate.netlist_power)\n"
        + text
        + "\n"
        + "\n".join(luts)
    )
    return path


def simulation_netlist(netlist_json: Path, workdir: Path, top: str = "synth_top") -> tuple[Path, Path]:
    """The synthesized netlist as one-bit nets named n<i> (Verilog for the simulator, JSON for the cell map).

    Undefined bits (x) of cell parameters and constants become 0, as in a bitstream (memory and register initial
    values Yosys left undefined): the table-lookup LUT model propagates an x input that the hardware ignores."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = f"""read_verilog -lib -specify +/xilinx/cells_sim.v
read_verilog -lib +/xilinx/cells_xtra.v
read_json {netlist_json.resolve()}
hierarchy -top {top}
setundef -zero -params
setundef -zero
splitnets
rename -hide w:* i:* %d o:* %d
rename -enumerate -pattern n% w:* i:* %d o:* %d
select {top}
write_verilog -noattr -selected {SIM_NETLIST}
write_json -selected {SIM_JSON}
"""
    run_yosys(script, workdir, "yosys_simnet.log")
    return workdir / SIM_NETLIST, workdir / SIM_JSON


def wrapper(design: RtlDesign, top: str = "synth_top") -> str:
    """``cosim_dut`` (the test bench's DUT) around the core netlist: context rows on both the monitor and the
    output port (the output projection Wo is not part of the core: ``out_data`` is zero)."""
    e, qw, vw, cw, yw = (
        design.spec.embed_dim,
        design.qk_width,
        design.spec.precision.value.width,
        design.spec.precision.context.width,
        design.spec.precision.result.width,
    )
    return f"""// Generated by had_hls.estimate.netlist_power: the synthesized core netlist as the co-simulation DUT.
`default_nettype none
module cosim_dut (
    input  wire clk, input wire rst,
    input  wire in_valid, output wire in_ready,
    input  wire [{e * qw - 1}:0] in_q, input wire [{e * qw - 1}:0] in_k, input wire [{e * vw - 1}:0] in_v,
    input  wire in_pad,
    output wire out_valid, input wire out_ready, output wire [{e * yw - 1}:0] out_data,
    output wire ctx_mon_valid, output wire [{e * cw - 1}:0] ctx_mon_data, output wire busy
);
    wire ctx_valid;
    wire [{e * cw - 1}:0] ctx_data;
    {top} core (.clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_q(in_q), .in_k(in_k),
        .in_v(in_v), .in_pad(in_pad), .ctx_valid(ctx_valid), .ctx_ready(out_ready), .ctx_data(ctx_data),
        .busy(busy));
    assign out_valid = ctx_valid;
    assign out_data = {{{e * yw}{{1'b0}}}};
    assign ctx_mon_valid = ctx_valid && out_ready;
    assign ctx_mon_data = ctx_data;
endmodule
`default_nettype wire
"""


# ------------------------------------------------------------------------------------------------ VCD
_VAR = re.compile(r"\$var\s+\S+\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+\[(\d+)(?::(\d+))?\])?\s+\$end")


def vcd_bit_toggles(
    path: Path, scope: str = "core", sample: set[str] | None = None
) -> tuple[int, dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """(cycles, toggles per (net, bit), cycles high at a rising clock edge per (net, bit) of the nets in ``sample``)
    of the nets declared directly in the first scope named ``scope``. Cycles are rising edges of its ``clk``; the
    values dumped first are the initial state, not toggles. Nets dumped under one VCD id (aliases) share counts."""
    with path.open("r", errors="replace") as fh:
        text = fh.read()
    head, _, body = text.partition("$enddefinitions")
    scopes: list[str] = []
    target: str | None = None
    ids: dict[str, list[list[tuple[str, int]]]] = {}  # VCD id -> for each alias: (net, bit) per bit, LSB first
    for m in re.finditer(r"\$scope\s+\S+\s+(\S+)\s+\$end|\$upscope\s+\$end|" + _VAR.pattern, head):
        tok = m.group(0)
        if tok.startswith("$scope"):
            scopes.append(m.group(1))
            if target is None and m.group(1) == scope:
                target = ".".join(scopes)
        elif tok.startswith("$upscope"):
            scopes.pop()
        elif target is not None and ".".join(scopes) == target:
            width, ident, name = int(m.group(2)), m.group(3), m.group(4)
            msb = int(m.group(5)) if m.group(5) is not None else width - 1
            lsb = int(m.group(6)) if m.group(6) is not None else (msb if m.group(5) is not None else 0)
            step = 1 if msb >= lsb else -1
            ids.setdefault(ident, []).append([(name, lsb + i * step) for i in range(width)])
    if target is None:
        raise RuntimeError(f"{path}: no scope named {scope!r}")
    clk = next((i for i, al in ids.items() if any(b == [("clk", 0)] for b in al)), None)
    if clk is None:
        raise RuntimeError(f"{path}: scope {scope!r} has no clk")
    width_of = {i: len(al[0]) for i, al in ids.items()}
    sampled = [i for i, al in ids.items() if sample and any(n in sample for bits in al for n, _ in bits[:1])]
    value: dict[str, int] = {}
    toggles: dict[str, np.ndarray] = {i: np.zeros(w, dtype=np.int64) for i, w in width_of.items()}
    high: dict[str, np.ndarray] = {i: np.zeros(width_of[i], dtype=np.int64) for i in sampled}
    cycles = 0
    first = True
    pending: str | None = None
    for tok in body.split():
        if pending is not None:
            if tok in ids:
                v = int(pending.translate(_XZ), 2)
                old = value.get(tok)
                if old is not None and not first:
                    _count(toggles[tok], old ^ v)
                value[tok] = v
            pending = None
            continue
        c = tok[0]
        if c == "#":
            first = first and not value
            continue
        if c in "bB":
            pending = tok[1:]
            continue
        if c in "01xzXZ" and tok[1:] in ids:
            ident = tok[1:]
            v = 1 if c == "1" else 0
            old = value.get(ident)
            if old is not None and not first:
                toggles[ident][0] += old ^ v
                if ident == clk and v == 1 and old == 0:
                    cycles += 1
                    for j in sampled:  # the value of each sampled bit at this rising edge
                        _count(high[j], value.get(j, 0))
            value[ident] = v
    out_t: dict[tuple[str, int], int] = {}
    out_h: dict[tuple[str, int], int] = {}
    for ident, aliases in ids.items():
        for bits in aliases:
            for k, b in enumerate(bits):
                out_t[b] = int(toggles[ident][k])
                if ident in high:
                    out_h[b] = int(high[ident][k])
    return cycles, out_t, out_h


_XZ = str.maketrans({"x": "0", "z": "0", "X": "0", "Z": "0"})


def _count(acc: np.ndarray, x: int) -> None:
    """acc[i] += bit i of x."""
    while x:
        low = x & -x
        i = low.bit_length() - 1
        if i < len(acc):
            acc[i] += 1
        x ^= low


# ------------------------------------------------------------------------------------------------ cells
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


def netlist_power(act: CellActivity, f_mhz: float) -> dict[str, Any]:
    """P = f * sum_c sites_c E_type(c) alpha_c / 0.5, in mW, by resource class."""
    by = {}
    for r, coef in COEFFICIENTS.items():
        rows = act.cells.get(r, [])
        by[r] = sum(s * a for _, s, a in rows) * coef.pj / 0.5 * f_mhz * 1e-3  # pJ/cycle x MHz = uW; /1000 = mW
    return {
        "power_mw": sum(by.values()),
        "by_resource_mw": by,
        "f_mhz": f_mhz,
        "cells": act.summary(),
        "cycles": act.cycles,
    }


# ------------------------------------------------------------------------------------------------ flow
@dataclass
class GateLevelActivity:
    """The simulated window and what it gave."""

    activity: CellActivity
    window: tuple[int, int]
    ctx_rows_checked: int
    ctx_mismatches: int
    simulator: str
    seconds: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("activity")
        d["cells"] = self.activity.summary()
        d["cycles"] = self.activity.cycles
        return d


def gate_level_activity(
    design: RtlDesign,
    traces: list,
    masks: list,
    netlist_json: Path,
    workdir: Path,
    simulator: str = "icarus",
    window: int = DEFAULT_WINDOW,
) -> GateLevelActivity:
    """Simulate the synthesized netlist of ``design``'s core on the first trace (and mask) and return the toggle
    rate of each counted cell over ``window`` cycles after that input's keys are loaded.

    The context rows the netlist emits during the run are compared with ``traces[0].ctx`` (golden): a mismatch is
    a RuntimeError (a power figure from a netlist that computes something else would mislead)."""
    from had_hls.rtl.sim import run_simulation

    workdir = Path(workdir).resolve()
    t0 = time.perf_counter()
    net_v, net_json = simulation_netlist(netlist_json, workdir)
    models = cell_models(workdir)
    (workdir / "cosim_dut_netlist.v").write_text(wrapper(design))
    t1 = time.perf_counter()
    start = design.spec.seq_len + 8  # the keys of the first input are in: the window holds attention only
    stop = start + window
    sim = run_simulation(
        design,
        traces[:1],
        masks[:1],
        workdir / "sim",
        simulator,
        vcd_vectors=1,
        vcd_cycles=stop,
        vcd_start=start,
        vcd_only=True,
        dump_scope="dut.core",
        dut_sources=[net_v, models, write_xcup_models(workdir), workdir / "cosim_dut_netlist.v"],
        max_cycles=stop + 10,
    )
    t2 = time.perf_counter()
    rows = sim.ctx.shape[0]
    golden = traces[0].ctx[:rows]
    mismatches = int((sim.ctx != golden).sum())
    if mismatches:
        raise RuntimeError(
            f"gate-level simulation of the {design.kind} core netlist: {mismatches} context elements "
            f"differ from golden in the first {rows} rows"
        )
    cycles, toggles, high = vcd_bit_toggles(sim.vcd, "core", enable_nets(net_json))
    act = cell_activities(net_json, cycles, toggles, high)
    sim.vcd.unlink(missing_ok=True)  # tens of MB; the per-cell result is what is kept
    return GateLevelActivity(
        activity=act,
        window=(start, stop),
        ctx_rows_checked=rows,
        ctx_mismatches=mismatches,
        simulator=simulator,
        seconds={
            "netlist": round(t1 - t0, 1),
            "simulate": round(t2 - t1, 1),
            "activity": round(time.perf_counter() - t2, 1),
        },
    )
