"""OpenSTA for the ASIC cross-check: finding the tool (``sta_path``, ``sta_version``), cutting the OSU035 netlist at
every net so that OpenSTA 2.0.17 keeps each net's simulated activity (``cut_every_net``), and its
``report_power`` of the cut netlist (``run_sta_nets``). Why the cut: had_hls.estimate.asic's module docstring."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from had_hls.errors import MissingToolError
from had_hls.estimate.asic_liberty import OSU035_LIB, liberty_cells
from had_hls.estimate.asic_netlist import MEMBLK

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

# The slew given to a net whose loads exceed its driver's max_capacitance (Yosys/abc do not buffer: the default
# shape has nets of up to ~1,000 loads on an X1 cell): the largest input slew the OSU035 power tables are
# characterized at, instead of OpenSTA extrapolating those tables to tens of nanoseconds (which made the internal
# power of their loads ~10x the rest of the core).
MAX_SLEW_NS = 0.4


def cut_every_net(
    netlist_json: Path, activity: dict[str, tuple[float, float]], out_v: Path, lib: Path = OSU035_LIB
) -> dict[str, Any]:
    """The mapped netlist cut at every net, for OpenSTA 2.0.17's power engine, which keeps a user activity only on
    a top-level input port (see had_hls.estimate.asic): net ``n`` becomes an input port ``n`` that drives the
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
