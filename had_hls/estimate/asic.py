"""ASIC cross-check of the power ratio: the same cores mapped by Yosys to a real standard-cell library, simulated
at gate level on the co-simulation vectors, and analysed by OpenSTA's ``report_power`` with every net's simulated
switching activity.

Library: the OSU 0.35 um standard cells (Oklahoma State University, distributed with qflow; Debian package
``qflow-tech-osu035``: ``/usr/share/qflow/tech/osu035/osu035_stdcells.lib``, 3.3 V typical corner, internal-power
tables per cell). Tool: OpenSTA (Parallax Software; Debian package ``opensta``, 2019 snapshot 2.0.17).

Flow (``asic_power``):

1. Yosys (``synth_osu035_nets``): the core wrapper of had_hls.estimate.synth (``synth_top``) -> ``proc; flatten``
   -> read-only memories (the exp and reciprocal tables) become logic (``memory_map``); the memories with write
   ports (K, V, score buffers: OSU035 has no SRAM macro) are moved into one module ``asic_memories`` (``submod``),
   written as behavioural Verilog for the simulation and a black box for the mapping -> ``synth -flatten``,
   ``dfflegalize`` to plain rising-edge flip-flops, ``dfflibmap`` and ``abc`` on the liberty; every net named
   ``n<i>``. So the cross-check covers the cores' logic and registers, not their RAM arrays.
2. Simulation (``net_activity``): that netlist (cells modelled from the liberty's pin functions, zero delay) is
   the DUT of the co-simulation test bench on the first co-simulation input, over the same window as the
   gate-level FPGA model (``rtl.gate_level_window`` cycles after the first input's keys are loaded); the context
   rows it produces are checked against golden. Per net: toggles per cycle and the fraction of clock edges at 1.
3. OpenSTA (``cut_every_net``, ``run_sta_nets``). What OpenSTA 2.0.17's power engine (search/Power.cc at
   c018cb2) does, read in its source and measured: it propagates activities from the netlist's top-level inputs
   through each cell's function and overwrites any activity set on an internal pin (``sta::set_power_pin_activity``
   included); it keeps a user activity only on a top-level input port (``sta::set_power_input_port_activity``),
   and it applies that activity (per clock period) only on pins it finds a clock for through the timing graph:
   without a clock every pin falls back to the default input activity, which is why per-port activity looked
   ineffective before and why the propagated ratios of an unclocked run exploded. Hence: the netlist is cut at
   every net (net ``n``: an input port ``p<n>`` that drives its loads, an output port ``d<n>`` on its driver,
   loaded with the pin capacitance of the loads); the clock is created and every input port is timed from it
   (``set_input_delay 0``); each ``p<n>`` gets the simulated activity and duty of ``n``; its slew comes from a
   driving cell of the type that drives ``n`` (``set_driving_cell``), or is the tables' largest slew when the
   loads exceed that cell's max_capacitance (``MAX_SLEW_NS``: Yosys does not buffer). Every cell's input pins then
   switch at their simulated rates (internal power); its output's activity, which OpenSTA sets from the function
   of those inputs, drives the switching power of the net's load capacitance.
   ASIC power = report_power's Total (internal + switching + leakage; flip-flops in its Sequential group).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from had_hls.errors import MissingToolError
from had_hls.estimate.synth import prepare_sources, run_yosys
from had_hls.rtl.generate import RtlDesign

OSU035_LIB = Path("/usr/share/qflow/tech/osu035/osu035_stdcells.lib")
LIBRARY = "OSU 0.35 um standard cells (osu035_stdcells.lib, qflow-tech-osu035, 3.3 V typical)"
VDD = 3.3  # the library's nom_voltage (V)
INSTALL = "sudo apt-get install -y opensta qflow-tech-osu035  (Debian/Ubuntu)"


def sta_path() -> str:
    path = shutil.which("sta")
    if path is None or not OSU035_LIB.is_file():
        raise MissingToolError(f"OpenSTA (sta) and the OSU035 liberty are needed for the ASIC cross-check: {INSTALL}")
    return path


def sta_version() -> str:
    proc = subprocess.run([sta_path(), "-version"], capture_output=True, text=True, timeout=30)
    return (
        f"OpenSTA {(proc.stdout or proc.stderr).strip().splitlines()[0]}" if (proc.stdout or proc.stderr) else "OpenSTA"
    )


_ROW = re.compile(
    r"^(Sequential|Combinational|Macro|Pad|Total)\s+([0-9.eE+-]+)\s+([0-9.eE+-]+)\s+([0-9.eE+-]+)\s+"
    r"([0-9.eE+-]+)"
)


@dataclass
class AsicPower:
    kind: str
    mw: float
    sequential_mw: float
    combinational_mw: float
    groups_mw: dict[str, dict[str, float]]
    switching_mw_simulated: float
    cells: int
    area_um2: float | None
    nets: int
    nets_annotated: int
    nets_over_max_capacitance: int
    cycles: int
    ctx_mismatches: int
    memories_excluded: int
    seconds: dict[str, float]


def asic_power(
    design: RtlDesign, trace: Any, mask: Any, workdir: Path, f_mhz: float, window: int, timeout: float | None = None
) -> AsicPower:
    """ASIC power (mW) of the design's core at ``f_mhz``: the OSU035 netlist simulated on ``trace`` (its context
    rows checked against golden: a mismatch is a RuntimeError), every net's simulated activity annotated, OpenSTA's
    report_power total (see the module docstring)."""
    sta_path()
    workdir = Path(workdir).resolve()
    t0 = time.perf_counter()
    syn = synth_osu035_nets(design, workdir, timeout=timeout)
    t1 = time.perf_counter()
    cycles, act, mismatches = net_activity(design, trace, mask, syn, workdir, window)
    if mismatches:
        raise RuntimeError(f"gate-level simulation of the {design.kind} OSU035 netlist: {mismatches} context "
                           "elements differ from golden")
    t2 = time.perf_counter()
    cut = cut_every_net(Path(syn["json"]), act, workdir / "asic_cut_nets.v")
    groups, annotated = run_sta_nets(workdir / "asic_cut_nets.v", cut, workdir, 1000.0 / f_mhz, timeout=timeout)
    mw = {g: {k: v * 1e3 for k, v in row.items()} for g, row in groups.items()}
    return AsicPower(
        kind=design.kind,
        mw=mw["total"]["total"],
        sequential_mw=mw.get("sequential", {}).get("total", 0.0),
        combinational_mw=mw.get("combinational", {}).get("total", 0.0),
        groups_mw=mw,
        switching_mw_simulated=0.5 * cut["cap_toggles_pf"] * 1e-12 * VDD**2 * f_mhz * 1e6 * 1e3,
        cells=cut["cells"],
        area_um2=syn["area_um2"],
        nets=cut["nets"],
        nets_annotated=annotated,
        nets_over_max_capacitance=cut["nets_over_max_capacitance"],
        cycles=cycles,
        ctx_mismatches=mismatches,
        memories_excluded=syn["memories"],
        seconds={"yosys": round(t1 - t0, 1), "simulate": round(t2 - t1, 1),
                 "opensta": round(time.perf_counter() - t2, 1)},
    )


# ------------------------------------------------------------------------------------------------ per-net flow
@dataclass
class LibCell:
    name: str
    pins: dict[str, tuple[str, float, str | None]]  # pin -> (direction, capacitance pF, function)
    sequential: bool
    max_cap: dict[str, float]  # output pin -> max_capacitance (pF)


def liberty_cells(lib: Path = OSU035_LIB) -> dict[str, LibCell]:
    """Every cell of the liberty: its pins (direction, capacitance, function) and whether it holds state."""
    text = Path(lib).read_text()
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^\s*cell\s*\(\s*\"?(\w+)\"?\s*\)", text, re.M)]
    out = {}
    for i, (at, name) in enumerate(starts):
        body = text[at : starts[i + 1][0] if i + 1 < len(starts) else len(text)]
        pins, mx = {}, {}
        for p in re.finditer(r"\bpin\s*\(\s*\"?(\w+)\"?\s*\)\s*{", body):
            seg = body[p.end() : p.end() + 600]
            d = re.search(r"direction\s*:\s*(\w+)", seg)
            c = re.search(r"\bcapacitance\s*:\s*([0-9.eE+-]+)", seg)
            f = re.search(r"function\s*:\s*\"([^\"]*)\"", seg)
            func = f.group(1) if f else None
            pins[p.group(1)] = (d.group(1) if d else "input", float(c.group(1)) if c else 0.0, func)
            m = re.search(r"max_capacitance\s*:\s*([0-9.eE+-]+)", seg)
            if m:
                mx[p.group(1)] = float(m.group(1))
        out[name] = LibCell(name, pins, bool(re.search(r"\b(ff|latch)\s*\(", body)), mx)
    return out


def liberty_expr(func: str) -> str:
    """A liberty function (``(!((A B)+C))``: space or * AND, + OR, ^ XOR, ! or postfix ' NOT) as Verilog."""
    s = re.sub(r"(\w+|\))'", r"!\1", func.strip())
    s = re.sub(r"(?<=[\w)])\s+(?=[\w(!])", " & ", s)
    return s.replace("*", "&").replace("+", "|").replace("!", "~")


def cell_models(used: set[str], lib: Path = OSU035_LIB) -> str:
    """Verilog models of the ``used`` cells from their liberty functions; the one flip-flop the flow maps to,
    DFFPOSX1, as a rising-edge register starting at 0 (as the FPGA netlist's registers, INIT 0)."""
    cells = liberty_cells(lib)
    out = ["// Generated by had_hls.estimate.asic from the liberty's pin functions (zero-delay models)"]
    for name in sorted(used):
        c = cells.get(name)
        if c is None:
            raise RuntimeError(f"cell {name} is not in {lib}")
        ins = [p for p, (d, _, _) in c.pins.items() if d == "input"]
        outs = [p for p, (d, _, _) in c.pins.items() if d == "output"]
        ports = ", ".join([*(f"input {p}" for p in ins), *(f"output {p}" for p in outs)])
        if name == "DFFPOSX1":
            out.append(f"module {name}({ports.replace('output Q', 'output reg Q')});\n"
                       "  initial Q = 1'b0;\n  always @(posedge CLK) Q <= D;\nendmodule")
        elif c.sequential or any(c.pins[p][2] is None for p in outs):
            raise RuntimeError(f"no simulation model for cell {name} (only DFFPOSX1 and combinational cells)")
        else:
            body = "\n".join(f"  assign {p} = {liberty_expr(c.pins[p][2])};" for p in outs)
            out.append(f"module {name}({ports});\n{body}\nendmodule")
    return "\n".join(out) + "\n"


MEMBLK = "asic_memories"
# The slew given to a net whose loads exceed its driver's max_capacitance (Yosys/abc do not buffer: the default
# shape has nets of up to ~1,000 loads on an X1 cell): the largest input slew the OSU035 power tables are
# characterized at, instead of OpenSTA extrapolating those tables to tens of nanoseconds (which made the internal
# power of their loads ~10x the rest of the core).
MAX_SLEW_NS = 0.4


def synth_osu035_nets(design: RtlDesign, workdir: Path, timeout: float | None = None) -> dict[str, Any]:
    """Map the core to OSU035 cells for the per-net flow: as :func:`synth_osu035`, but the memories with write
    ports are kept, moved into one module ``asic_memories`` (Yosys ``submod``; written as behavioural Verilog for
    the simulation, a black box for the mapping), and every net of the mapped top is named ``n<i>`` (ports keep
    their names), so that the simulation's VCD names each net the JSON netlist holds."""
    workdir = Path(workdir).resolve()
    files = prepare_sources(design, workdir)
    lib = OSU035_LIB
    reads = "\n".join(f"read_verilog -defer -DSYNTHESIS {f}" for f in files)
    script = f"""{reads}
hierarchy -check -top synth_top
proc
flatten
opt_clean
memory -nomap
memory_map t:$mem_v2 r:WR_PORTS=0 %i
tee -q -o asic_memories.txt select -count t:$mem_v2
submod -name {MEMBLK} t:$mem_v2
write_verilog -noattr asic_premap.v
blackbox {MEMBLK}
hierarchy -top synth_top
synth -top synth_top -flatten -noabc
dfflegalize -cell $_DFF_P_ 01
dfflibmap -liberty {lib}
abc -liberty {lib} -script +strash;dc2;map
opt_clean -purge
setundef -zero
splitnets
opt_clean -purge
rename -hide w:* i:* %d o:* %d
rename -enumerate -pattern n% w:* i:* %d o:* %d
tee -q -o asic_stat.txt stat -liberty {lib}
write_verilog -noattr -noexpr asic_sim_top.v
write_json asic.json
"""
    t0 = time.perf_counter()
    run_yosys(script, workdir, "yosys_asic.log", timeout=timeout)
    stat = (workdir / "asic_stat.txt").read_text()
    area = re.search(r"Chip area for (?:module|top module) .*?:\s+([0-9.]+)", stat)
    removed = re.search(r"(\d+)", (workdir / "asic_memories.txt").read_text())
    pre = (workdir / "asic_premap.v").read_text()
    mem = re.search(rf"\nmodule {MEMBLK}\(.*?\nendmodule\n", pre, re.S)
    (workdir / "asic_memories.v").write_text(mem.group(0) if mem else "")
    n_mem = int(removed.group(1)) if removed else 0
    if n_mem and (mem is None or f'"type": "{MEMBLK}"' not in (workdir / "asic.json").read_text()):
        raise RuntimeError(f"{n_mem} memories were not kept apart in {MEMBLK} (see yosys_asic.log)")
    return {
        "sim_netlist": workdir / "asic_sim_top.v",
        "memories_v": workdir / "asic_memories.v",
        "json": workdir / "asic.json",
        "area_um2": float(area.group(1)) if area else None,
        "memories": n_mem,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def net_activity(
    design: RtlDesign, trace: Any, mask: Any, syn: dict[str, Any], workdir: Path, window: int, lib: Path = OSU035_LIB
) -> tuple[int, dict[str, tuple[float, float]], int]:
    """Simulate the OSU035 netlist (cell models from the liberty, the memories behavioural) in the co-simulation
    test bench on one input; (cycles, {net: (toggles per cycle, fraction of clock edges high)}, context mismatches
    against golden over the rows produced). The window is the gate-level FPGA model's: ``window`` cycles from
    cycle L + 8 (the first input's keys loaded)."""
    from had_hls.estimate.netlist_power import vcd_bit_toggles, wrapper
    from had_hls.rtl.sim import run_simulation

    net = json.loads(Path(syn["json"]).read_text())["modules"]["synth_top"]
    used = {c["type"] for c in net["cells"].values() if c["type"] != MEMBLK}
    (workdir / "asic_cells.v").write_text(cell_models(used, lib))
    (workdir / "cosim_dut_asic.v").write_text(wrapper(design))
    start = design.spec.seq_len + 8
    stop = start + window
    sources = [Path(syn["sim_netlist"]), workdir / "asic_cells.v", workdir / "cosim_dut_asic.v"]
    if Path(syn["memories_v"]).read_text().strip():
        sources.append(Path(syn["memories_v"]))
    sim = run_simulation(design, [trace], [mask], workdir / "sim", "icarus", vcd_vectors=1, vcd_cycles=stop,
                         vcd_start=start, vcd_only=True, dump_scope="dut.core", dut_sources=sources,
                         max_cycles=stop + 10)
    rows = sim.ctx.shape[0]
    mismatches = int((sim.ctx != trace.ctx[:rows]).sum())
    names = set(net["netnames"])
    cycles, toggles, high = vcd_bit_toggles(sim.vcd, "core", names)
    sim.vcd.unlink(missing_ok=True)
    act = {f"{n}[{b}]": (t / max(cycles, 1), high.get((n, b), 0) / max(cycles, 1)) for (n, b), t in toggles.items()}
    return cycles, act, mismatches


def cut_every_net(
    netlist_json: Path, activity: dict[str, tuple[float, float]], out_v: Path, lib: Path = OSU035_LIB
) -> dict[str, Any]:
    """The mapped netlist cut at every net, for OpenSTA 2.0.17's power engine, which keeps a user activity only on
    a top-level input port (see the module docstring): net ``n`` becomes an input port ``n`` that drives the
    net's loads (annotated with the simulated toggle rate and duty of ``n``; its slew from a driving cell of the
    type that drives ``n``) and an output port ``n_d`` on the driver's output (loaded with the pin capacitance of
    the net's loads). Every cell thus sees its inputs switch at their simulated rates. The clock net stays the
    clock. Returns the Tcl annotation lines and counts."""
    net = json.loads(Path(netlist_json).read_text())["modules"]["synth_top"]
    cells = liberty_cells(lib)
    bitname: dict[int, str] = {}  # bit -> "<net>[<i>]", the key of net_activity (a port's name first)
    for name, nn in net["netnames"].items():
        for i, b in enumerate(nn["bits"]):
            if isinstance(b, int) and (b not in bitname or name in net["ports"]):
                bitname[b] = f"{name}[{nn.get('offset', 0) + i}]"
    clk = net["ports"]["clk"]["bits"][0]
    driver: dict[int, tuple[str, str]] = {}
    loads: dict[int, float] = {}
    inst_lines, drivers_out, ins = [], set(), set()
    for c in net["cells"].values():
        if c["type"] == MEMBLK:
            continue
        lc = cells[c["type"]]
        conns = []
        for pin, bits in c["connections"].items():
            b = bits[0]
            direction, cap, _ = lc.pins[pin]
            if direction == "output":
                if isinstance(b, int):
                    driver[b] = (c["type"], pin)
                    drivers_out.add(b)
                    conns.append(f".{pin}(d{b})")
                continue
            if b == clk:
                conns.append(f".{pin}(clk)")
                continue
            if isinstance(b, str):  # a constant
                conns.append(f".{pin}(1'b{b})")
                continue
            loads[b] = loads.get(b, 0.0) + cap
            ins.add(b)
            conns.append(f".{pin}(p{b})")
        inst_lines.append(f"  {c['type']} c{len(inst_lines)} ({', '.join(conns)});")
    in_ports = sorted(ins)
    out_ports = sorted(drivers_out)
    decl = ["clk", *(f"p{b}" for b in in_ports), *(f"d{b}" for b in out_ports)]
    v = [f"module cut({', '.join(decl)});", "  input clk;"]
    v += [f"  input p{b};" for b in in_ports] + [f"  output d{b};" for b in out_ports]
    v += inst_lines + ["endmodule"]
    Path(out_v).write_text("\n".join(v) + "\n")
    rows, matched, overloaded = [], 0, 0
    for b in in_ports:  # port, toggles per cycle, duty, the cell type and pin that drive the net (or - -)
        a = activity.get(bitname.get(b, ""))
        matched += a is not None
        cell, pin = driver.get(b, ("-", "-"))
        if cell != "-" and loads.get(b, 0.0) > cells[cell].max_cap.get(pin, float("inf")):
            cell, pin = "slew", f"{MAX_SLEW_NS}"  # a real flow buffers such a net (see MAX_SLEW_NS)
            overloaded += 1
        rows.append(f"p{b} {a[0]:.6g} {min(max(a[1], 0.0), 1.0):.4f} {cell} {pin}" if a else f"p{b} - - {cell} {pin}")
    loads_rows = [f"d{b} {loads.get(b, 0.0):.6g}" for b in out_ports]
    # sum over driven nets of load capacitance x simulated toggles per cycle: the switching power with every
    # net's own simulated activity, to set beside OpenSTA's (whose output activities are its estimates)
    cap_toggles = sum(loads.get(b, 0.0) * activity.get(bitname.get(b, ""), (0.0, 0.0))[0]
                      for b in out_ports)
    return {"ports": rows, "loads": loads_rows, "cap_toggles_pf": cap_toggles, "matched": matched,
            "nets": len(in_ports), "cells": len(inst_lines),
            "nets_over_max_capacitance": overloaded,
            "names": {f"p{b}": bitname.get(b) for b in in_ports}}


def run_sta_nets(cut_v: Path, cut: dict[str, Any], workdir: Path, period_ns: float, tag: str = "nets",
                 timeout: float | None = None, lib: Path = OSU035_LIB) -> tuple[dict[str, dict[str, float]], int]:
    """report_power of a netlist from :func:`cut_every_net`: the clock at ``period_ns`` and every input port timed
    from it (OpenSTA 2.0.17 applies an activity per clock period only on a pin it finds a clock for; without one
    it falls back to the default input activity for every pin), each port's simulated activity (toggles per
    cycle) and duty, driving cells and loads; ({group: {internal, switching, leakage, total}} in watts, input ports
    annotated)."""
    workdir = Path(workdir)
    (workdir / f"ports_{tag}.txt").write_text("\n".join(cut["ports"]) + "\n")
    (workdir / f"loads_{tag}.txt").write_text("\n".join(cut["loads"]) + "\n")
    # one pass over the ports (get_ports of one name searches them all: a name at a time would be quadratic)
    lines = [f"read_liberty {lib}", f"read_verilog {Path(cut_v).resolve()}", "link_design cut",
             f"create_clock -name clk -period {period_ns} [get_ports clk]",
             "set_input_delay 0 -clock clk [get_ports p*]",
             "set_power_activity -input -activity 0 -duty 0.5",
             f"set f [open ports_{tag}.txt r]",
             "while {[gets $f line] >= 0} { if {[llength $line] == 5} { set row([lindex $line 0]) $line } }",
             "close $f",
             f"set f [open loads_{tag}.txt r]",
             "while {[gets $f line] >= 0} { if {[llength $line] == 2} { set cap([lindex $line 0]) [lindex $line 1] } }",
             "close $f",
             "set annotated 0",
             "foreach port [get_ports p*] {",
             "  set n [get_full_name $port]",
             "  if {![info exists row($n)]} continue",
             "  lassign $row($n) _ a d cell pin",
             "  if {$a ne \"-\"} { sta::set_power_input_port_activity $port $a $d; incr annotated }",
             "  if {$cell eq \"slew\"} { lappend tr($pin) $port } \\",
             "  elseif {$cell ne \"-\"} { lappend drv([list $cell $pin]) $port }",
             "}",
             "foreach t [array names tr] { set_input_transition $t $tr($t) }",
             "foreach key [array names drv] {",
             "  set_driving_cell -lib_cell [lindex $key 0] -pin [lindex $key 1] $drv($key)",
             "}",
             "foreach port [get_ports d*] {",
             "  set n [get_full_name $port]",
             "  if {[info exists cap($n)] && $cap($n) > 0} { lappend ld($cap($n)) $port }",
             "}",
             "foreach c [array names ld] { set_load $c $ld($c) }",
             "puts \"annotated input ports: $annotated\""]
    lines += ["report_power -digits 6", "exit"]
    tcl = workdir / f"power_{tag}.tcl"
    tcl.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(
        [sta_path(), "-no_init", "-exit", str(tcl)], cwd=workdir, capture_output=True, text=True, timeout=timeout
    )
    (workdir / f"power_{tag}.log").write_text(proc.stdout + proc.stderr)
    groups = {}
    for line in proc.stdout.splitlines():
        m = _ROW.match(line.strip())
        if m:
            groups[m.group(1).lower()] = {
                k: float(v) for k, v in zip(("internal", "switching", "leakage", "total"), m.groups()[1:], strict=True)
            }
    if "total" not in groups:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        raise RuntimeError(f"OpenSTA report_power gave no result for {cut_v}:\n{tail}")
    m = re.search(r"annotated input ports: (\d+)", proc.stdout)
    return groups, int(m.group(1)) if m else 0
