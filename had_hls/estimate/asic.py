"""ASIC cross-check of the power ratio: the same cores mapped by Yosys to a real standard-cell library and analysed
by OpenSTA's ``report_power`` with switching activity from the co-simulation.

Library: the OSU 0.35 um standard cells (Oklahoma State University, distributed with qflow; Debian package
``qflow-tech-osu035``: ``/usr/share/qflow/tech/osu035/osu035_stdcells.lib``, 3.3 V typical corner, internal-power
tables per cell). Tool: OpenSTA (Parallax Software; Debian package ``opensta``, 2019 snapshot).

Flow (``asic_power``):

1. Yosys: the core wrapper of had_hls.estimate.synth (``synth_top``, the RTL and tables the report synthesizes for
   the FPGA) -> ``proc; flatten`` -> read-only memories (the exp and reciprocal tables) become logic
   (``memory_map``); memories with write ports (K, V, score buffers) are taken out: OSU035 has no SRAM macro, and as
   flip-flop arrays they would dominate both cores alike; their read data become inputs of the netlist
   (``setundef -undriven -expose``) -> ``synth -flatten``, ``dfflibmap`` and ``abc`` on the liberty.
   So the cross-check covers the cores' logic and registers, not their RAM arrays (docs/report.md says what
   that leaves out).
2. Activities: per bit, toggles per cycle and the fraction of time high, from the RTL co-simulation VCD of the
   same core and vectors (had_hls.estimate.power's VCD), for every netlist input: the core's ports, the exposed
   memory read data and, in the second run below, every register output (Yosys keeps the RTL register names on
   the flip-flops' outputs). A bit whose name the VCD does not hold keeps OpenSTA's default input activity
   (0.1 per cycle, duty 0.5); the result counts how many bits were matched.
3. OpenSTA. Its 2019 power engine propagates activities through the logic from the netlist's inputs and
   overwrites any activity set on an internal pin (and the Tcl ``set_power_activity -pins`` of that version calls
   an undefined ``get_pins_error``); it also divides an activity by the clock period only for cells with a clock
   pin. Hence two runs, both through the engine's own commands (``sta::set_power_input_port_activity``):
   - run S (the netlist as mapped): clock at f, inputs annotated per cycle; its Sequential group (flip-flops:
     clock, data and output power) is taken;
   - run C (the same netlist with every flip-flop cut into an input (its Q) and an output (its D) by Yosys
     ``expose -evert-dff``, the D outputs loaded with a DFF D pin): inputs annotated in transitions per second
     (per-cycle rate x f); its Combinational group is taken: every logic cell switching at the rate propagated
     from the measured register and input activities.
   ASIC power = Sequential(S) + Combinational(C) (internal + switching + leakage).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from had_hls.errors import MissingToolError
from had_hls.estimate.synth import prepare_sources, run_yosys
from had_hls.rtl.generate import RtlDesign

OSU035_LIB = Path("/usr/share/qflow/tech/osu035/osu035_stdcells.lib")
LIBRARY = "OSU 0.35 um standard cells (osu035_stdcells.lib, qflow-tech-osu035, 3.3 V typical)"
INSTALL = "sudo apt-get install -y opensta qflow-tech-osu035  (Debian/Ubuntu)"
DEFAULT_ACTIVITY = 0.1  # OpenSTA's default input activity (transitions per clock cycle), duty 0.5


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


# ------------------------------------------------------------------------------------------------ synthesis
def synth_osu035(design: RtlDesign, workdir: Path, timeout: float | None = None) -> dict[str, Any]:
    """Map the design's core to OSU035 cells (see the module docstring): ``asic_cut.v`` (every flip-flop cut into an
    input ``<reg>.q`` and outputs ``<reg>.d`` / ``<reg>.c``) and ``asic.v`` (the same netlist with a DFFPOSX1
    between each such pair: the flip-flops as mapped). Enables and resets of the flip-flops are logic
    (``dfflegalize`` to plain rising-edge flip-flops, the only kind OSU035's DFFPOSX1 is); a flip-flop that drives
    a port of the core is not cut (Yosys keeps it) and is mapped to DFFPOSX1 in both netlists. Nets are single bits
    and assignments have plain left sides (``splitnets``, ``-simple-lhs``): OpenSTA's Verilog reader takes no
    concatenation there."""
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
delete t:$mem_v2
setundef -undriven -expose
synth -top synth_top -flatten -noabc
dfflegalize -cell $_DFF_P_ 01
expose -evert-dff t:$_DFF_P_
dfflibmap -liberty {lib}
abc -liberty {lib} -script +strash;dc2;map
opt_clean -purge
setundef -zero
splitnets
opt_clean -purge
tee -q -o asic_stat.txt stat -liberty {lib}
write_verilog -noattr -noexpr -simple-lhs asic_cut.v
"""
    t0 = time.perf_counter()
    run_yosys(script, workdir, "yosys_asic.log", timeout=timeout)
    stat = (workdir / "asic_stat.txt").read_text()
    cells = re.search(r"Number of cells:\s+(\d+)", stat) or re.search(
        r"^\s+(\d+)\s+(?:[0-9.]+\s+)?cells\s*$", stat, re.M
    )
    area = re.search(r"Chip area for (?:module|top module) .*?:\s+([0-9.]+)", stat)
    removed = re.search(r"(\d+)", (workdir / "asic_memories.txt").read_text())
    n_ff, original = reinsert_flops(workdir / "asic_cut.v", workdir / "asic.v")
    return {
        "netlist": str(workdir / "asic.v"),
        "netlist_cut": str(workdir / "asic_cut.v"),
        "cells": (int(cells.group(1)) + n_ff) if cells else None,
        "flip_flops": n_ff,
        "area_um2": float(area.group(1)) + n_ff * cell_area("DFFPOSX1") if area else None,
        "memories_excluded": int(removed.group(1)) if removed else 0,
        "names": original,
        "seconds": round(time.perf_counter() - t0, 1),
    }


_PORT = re.compile(r"^\s*(input|output)\s+(?:\[(\d+):(\d+)\]\s+)?(\w+)\s*;\s*$", re.M)
_ESCAPED = re.compile(r"\\(\S+)\s")


def simple_names(text: str) -> tuple[str, dict[str, str]]:
    """Replace every escaped identifier (``\\core.a[0].acc ``: dots and brackets that OpenSTA's port patterns
    would read as bus subscripts) by ``x<i>``; returns the text and {x<i>: original name}."""
    names: dict[str, str] = {}
    for m in _ESCAPED.finditer(text):
        names.setdefault(m.group(1), f"x{len(names)}")
    out = _ESCAPED.sub(lambda m: names[m.group(1)] + " ", text)
    return out, {v: k for k, v in names.items()}


def reinsert_flops(cut: Path, out: Path, top: str = "synth_top", dff: str = "DFFPOSX1") -> tuple[int, dict[str, str]]:
    """Rewrite ``cut`` with simple names and write ``out``: the same netlist with each ``<reg>.q`` input /
    ``<reg>.d`` output pair joined again by a ``dff`` (clock: the module's ``clk``) and the ``<reg>.c`` clock outputs
    dropped. Returns (flip-flops inserted, {simple name: original name})."""
    text, original = simple_names(Path(cut).read_text())
    Path(cut).write_text(text)
    ports = {m.group(4): (m.group(1), m.group(2), m.group(3)) for m in _PORT.finditer(text)}
    by_name = {original.get(n, n): n for n in ports}
    regs = [
        full[:-2]
        for full, n in by_name.items()
        if ports[n][0] == "input"
        and full.endswith(".q")
        and full[:-2] + ".d" in by_name
        and ports[by_name[full[:-2] + ".d"]][0] == "output"
    ]
    drop = {by_name[r + sfx] for r in regs for sfx in (".q", ".d", ".c") if r + sfx in by_name}
    body = _PORT.sub(lambda m: "" if m.group(4) in drop else m.group(0), text)
    head = re.search(rf"module {re.escape(top)}\((.*?)\);", body, re.S)
    kept = [n.strip() for n in head.group(1).split(",") if n.strip() not in drop]
    body = body[: head.start(1)] + ", ".join(kept) + body[head.end(1) :]
    cells, n = [], 0
    for r in regs:
        q, d = by_name[r + ".q"], by_name[r + ".d"]
        _, msb, lsb = ports[q]
        width = abs(int(msb) - int(lsb)) + 1 if msb is not None else 1
        for b in range(width):
            sel = f"[{b + min(int(msb), int(lsb))}]" if msb is not None else ""
            cells.append(f"  {dff} ff{n} (.CLK(clk), .D({d}{sel}), .Q({q}{sel}));")
            n += 1
    body = body.replace("\nendmodule", "\n" + "\n".join(cells) + "\nendmodule", 1)
    Path(out).write_text(body)
    return n, original


# ------------------------------------------------------------------------------------------------ activities
def netlist_inputs(path: Path, top: str = "synth_top") -> list[tuple[str, int, int]]:
    """(port, width, lsb) of every input of ``top`` in a netlist written by :func:`synth_osu035`."""
    text = Path(path).read_text()
    m = re.search(rf"module {re.escape(top)}\(.*?endmodule", text, re.S)
    body = m.group(0) if m else text
    out = []
    for d in _PORT.finditer(body):
        if d.group(1) != "input":
            continue
        msb, lsb = d.group(2), d.group(3)
        width = abs(int(msb) - int(lsb)) + 1 if msb is not None else 1
        out.append((d.group(4), width, min(int(msb), int(lsb)) if msb is not None else 0))
    return out


def rtl_name(net: str) -> str:
    """A netlist net name as the RTL VCD names the signal below the core's scope: Yosys flattens the wrapper's
    instance ``core`` into ``core.<path>``; a cut flip-flop's input is ``<register>.q``."""
    name = net[len("core.") :] if net.startswith("core.") else net
    return name[:-2] if name.endswith(".q") else name


def annotate(
    ports: list[tuple[str, int, int]],
    names: dict[str, str],
    activity: dict[tuple[str, int], tuple[float, float]],
    scale: float,
) -> tuple[list[str], int, int]:
    """Tcl lines setting each input bit's activity (per cycle x ``scale``) and duty through the power engine's own
    command; (lines, bits matched, bits). ``names``: simple port name -> netlist name."""
    lines, matched, total = [], 0, 0
    for port, width, lsb in ports:
        if port == "clk":
            continue
        key = rtl_name(names.get(port, port))
        for b in range(lsb, lsb + width):
            total += 1
            a = activity.get((key, b))
            if a is None:
                continue
            matched += 1
            pin = f"{port}[{b}]" if width > 1 or lsb else port
            lines.append(
                f"sta::set_power_input_port_activity [get_ports {{{pin}}}] {a[0] * scale:.6g} "
                f"{min(max(a[1], 0.0), 1.0):.4f}"
            )
    return lines, matched, total


# ------------------------------------------------------------------------------------------------ OpenSTA
_ROW = re.compile(
    r"^(Sequential|Combinational|Macro|Pad|Total)\s+([0-9.eE+-]+)\s+([0-9.eE+-]+)\s+([0-9.eE+-]+)\s+"
    r"([0-9.eE+-]+)"
)


def run_sta(
    netlist: Path,
    annotations: list[str],
    workdir: Path,
    clock_period_ns: float | None,
    tag: str,
    d_load_pf: float = 0.0,
    timeout: float | None = None,
    top: str = "synth_top",
) -> dict[str, dict[str, float]]:
    """report_power of ``netlist`` (top module ``top``) with the given activity lines; {group: {internal,
    switching, leakage, total}} in watts."""
    lines = [f"read_liberty {OSU035_LIB}", f"read_verilog {netlist}", f"link_design {top}"]
    if clock_period_ns:
        lines.append(f"create_clock -name clk -period {clock_period_ns} [get_ports clk]")
    lines.append(f"set_power_activity -input -activity {DEFAULT_ACTIVITY} -duty 0.5")
    lines += annotations
    if d_load_pf:
        lines.append(f"set_load {d_load_pf} [all_outputs]")
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
        raise RuntimeError(f"OpenSTA report_power gave no result for {netlist}:\n{tail}")
    return groups


_PROBE = """module probe(input a, input b, output y);
  wire n;
  NAND2X1 g1 (.A(a), .B(b), .Y(n));
  INVX1 g2 (.A(n), .Y(y));
endmodule
"""


def per_port_activity_works(workdir: Path) -> bool:
    """Whether this OpenSTA applies an activity set on one input port (``sta::set_power_input_port_activity``).
    Debian's 2019 build does not (the power of a NAND is the same for 0.1 and 2e7 toggles per second on its
    inputs), while ``set_power_activity -input`` (all inputs at once) works: probed on a two-gate netlist."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "probe.v").write_text(_PROBE)
    totals = []
    for act in (1e6, 4e7):
        tcl = workdir / "probe.tcl"
        tcl.write_text(
            "\n".join(
                [
                    f"read_liberty {OSU035_LIB}",
                    "read_verilog probe.v",
                    "link_design probe",
                    "set_power_activity -input -activity 0.1 -duty 0.5",
                    f"foreach p [get_ports {{a b}}] {{ sta::set_power_input_port_activity $p {act} 0.5 }}",
                    "set_load 0.05 [get_ports y]",
                    "report_power -digits 6",
                    "exit",
                ]
            )
            + "\n"
        )
        out = subprocess.run(
            [sta_path(), "-no_init", "-exit", str(tcl)], cwd=workdir, capture_output=True, text=True, timeout=60
        ).stdout
        m = next((_ROW.match(x.strip()) for x in out.splitlines() if x.strip().startswith("Total")), None)
        totals.append(float(m.group(5)) if m else 0.0)
    return totals[1] > 10 * totals[0] > 0


def mean_annotation(
    ports: list[tuple[str, int, int]],
    names: dict[str, str],
    activity: dict[tuple[str, int], tuple[float, float]],
    scale: float,
) -> tuple[list[str], int, int]:
    """One ``set_power_activity -input`` line: the mean toggle rate (x ``scale``) and duty of the measured input
    bits (for an OpenSTA that applies no per-port activity); (lines, bits matched, bits)."""
    rates, duties, total = [], [], 0
    for port, width, lsb in ports:
        if port == "clk":
            continue
        key = rtl_name(names.get(port, port))
        for b in range(lsb, lsb + width):
            total += 1
            a = activity.get((key, b))
            if a is not None:
                rates.append(a[0])
                duties.append(min(max(a[1], 0.0), 1.0))
    if not rates:
        return [], 0, total
    line = f"set_power_activity -input -activity {float(np.mean(rates)) * scale:.6g} -duty {float(np.mean(duties)):.4f}"
    return [line], len(rates), total


def cell_area(cell: str, lib: Path = OSU035_LIB) -> float:
    """The liberty area of one cell (um^2)."""
    m = re.search(rf"cell \({cell}\)\s*{{[^}}]*?area\s*:\s*([0-9.]+)", lib.read_text(), re.S)
    return float(m.group(1)) if m else 0.0


def dff_d_capacitance(lib: Path = OSU035_LIB, cell: str = "DFFPOSX1") -> float:
    """Input capacitance (pF) of the D pin of the library's flip-flop (the load a cut D output stands for)."""
    text = lib.read_text()
    at = text.find(f"cell ({cell})")
    pin = text.find("pin(D)", at) if at >= 0 else -1
    m = re.search(r"capacitance\s*:\s*([0-9.]+)", text[pin:pin + 400]) if pin >= 0 else None
    return float(m.group(1)) if m else 0.0


@dataclass
class AsicPower:
    kind: str
    mw: float
    sequential_mw: float
    combinational_mw: float
    cells: int | None
    area_um2: float | None
    inputs_matched: dict[str, list[int]]
    annotation: str
    memories_excluded: int
    seconds: dict[str, float]


def asic_power(
    design: RtlDesign,
    activity: dict[tuple[str, int], tuple[float, float]],
    workdir: Path,
    f_mhz: float,
    timeout: float | None = None,
) -> AsicPower:
    """ASIC power (mW) of the design's core at ``f_mhz`` with ``activity`` = {(rtl signal, bit): (toggles per
    cycle, duty)} (see the module docstring for the two OpenSTA runs)."""
    sta_path()
    workdir = Path(workdir).resolve()
    t0 = time.perf_counter()
    syn = synth_osu035(design, workdir, timeout=timeout)
    t1 = time.perf_counter()
    period = 1000.0 / f_mhz
    full_in = netlist_inputs(Path(syn["netlist"]))
    cut_in = netlist_inputs(Path(syn["netlist_cut"]))
    names = syn["names"]
    per_port = per_port_activity_works(workdir / "probe")
    how = annotate if per_port else mean_annotation
    ann_s, m_s, n_s = how(full_in, names, activity, 1.0)
    ann_c, m_c, n_c = how(cut_in, names, activity, f_mhz * 1e6)  # per second: the engine does not divide here
    seq = run_sta(Path(syn["netlist"]), ann_s, workdir, period, "seq", timeout=timeout)
    comb = run_sta(Path(syn["netlist_cut"]), ann_c, workdir, None, "comb", dff_d_capacitance(), timeout=timeout)
    s_mw = seq.get("sequential", {}).get("total", 0.0) * 1e3
    c_mw = comb.get("combinational", {}).get("total", 0.0) * 1e3
    return AsicPower(
        kind=design.kind,
        mw=s_mw + c_mw,
        sequential_mw=s_mw,
        combinational_mw=c_mw,
        cells=syn["cells"],
        area_um2=syn["area_um2"],
        inputs_matched={"mapped": [m_s, n_s], "registers_cut": [m_c, n_c]},
        annotation="per input bit"
        if per_port
        else "mean of the measured input bits (this OpenSTA applies no per-port activity)",
        memories_excluded=syn["memories_excluded"],
        seconds={"yosys": round(t1 - t0, 1), "opensta": round(time.perf_counter() - t1, 1)},
    )


# ------------------------------------------------------------------------------------------------ RTL activity
_VAR = re.compile(r"\$var\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+\[(\d+)(?::(\d+))?\])?\s+\$end")


def _vcd_name(name: str) -> str:
    """A VCD scope or signal name in Yosys's spelling (Verilator writes brackets as __BRA__ / __KET__)."""
    return name.replace("__BRA__", "[").replace("__KET__", "]").lstrip("\\")


def rtl_bit_activity(path: str | Path, scope: str = "core") -> tuple[int, dict[tuple[str, int], tuple[float, float]]]:
    """(cycles, {(signal path below the scope, bit): (toggles per cycle, fraction of time high)}) of every signal
    of the first scope named ``scope`` and its sub-scopes in an RTL co-simulation VCD (memory words and parameters
    left out, as in had_hls.estimate.power.vcd_activity)."""
    text = Path(path).read_text(errors="replace")
    head, _, body = text.partition("$enddefinitions")
    scopes: list[str] = []
    root: int | None = None
    ids: dict[str, list[tuple[str, int, int]]] = {}  # id -> (path, lsb, width) per alias
    for m in re.finditer(r"\$scope\s+\S+\s+(\S+)\s+\$end|\$upscope\s+\$end|" + _VAR.pattern, head):
        tok = m.group(0)
        if tok.startswith("$scope"):
            scopes.append(_vcd_name(m.group(1)))
            if root is None and scopes[-1] == scope:
                root = len(scopes)
        elif tok.startswith("$upscope"):
            scopes.pop()
            if root is not None and len(scopes) < root:
                break
        elif root is not None and len(scopes) >= root:
            vtype, width, ident, name = m.group(2), int(m.group(3)), m.group(4), _vcd_name(m.group(5))
            if vtype == "parameter" or "[" in m.group(5):
                continue  # constants and memory words
            msb = int(m.group(6)) if m.group(6) is not None else width - 1
            lsb = int(m.group(7)) if m.group(7) is not None else (msb if m.group(6) is not None else 0)
            path_ = ".".join([*scopes[root:], name])
            ids.setdefault(ident, []).append((path_, min(msb, lsb), width))
    if root is None:
        raise RuntimeError(f"{path}: no scope named {scope!r} in the VCD")
    clk = next((i for i, al in ids.items() if any(p == "clk" for p, _, _ in al)), None)
    width = {i: al[0][2] for i, al in ids.items()}
    toggles = {i: np.zeros(w, dtype=np.int64) for i, w in width.items()}
    high = {i: np.zeros(w, dtype=np.float64) for i, w in width.items()}
    value: dict[str, int] = {}
    since: dict[str, int] = {}
    now, start, cycles, first = 0, None, 0, True
    pending: str | None = None

    def change(ident: str, v: int) -> None:
        nonlocal cycles
        old = value.get(ident)
        if old is not None and not first:
            _weighted(high[ident], old, now - since[ident])
            _weighted(toggles[ident], old ^ v, 1)
            if ident == clk and v == 1 and old == 0:
                cycles += 1
        value[ident] = v
        since[ident] = now

    for tok in body.split():
        if pending is not None:
            if tok in ids:
                change(tok, int(pending.translate(_XZ), 2))
            pending = None
            continue
        c = tok[0]
        if c == "#":
            if value and first:  # the values so far are the initial state, dumped at the previous time stamp
                first, start = False, now
                since = dict.fromkeys(value, now)
            now = int(tok[1:])
            continue
        if c in "bB":
            pending = tok[1:]
        elif c in "01xzXZ" and tok[1:] in ids:
            change(tok[1:], 1 if c == "1" else 0)
    end = now
    for ident, v in value.items():
        _weighted(high[ident], v, end - since.get(ident, end))
    span = max(end - (start or 0), 1)
    out: dict[tuple[str, int], tuple[float, float]] = {}
    for ident, aliases in ids.items():
        for path_, lsb, w in aliases:
            for k in range(w):
                out[(path_, lsb + k)] = (toggles[ident][k] / max(cycles, 1), high[ident][k] / span)
    return cycles, out


_XZ = str.maketrans({"x": "0", "z": "0", "X": "0", "Z": "0"})


def _weighted(acc: np.ndarray, x: int, w: float) -> None:
    """acc[i] += w for every set bit i of x."""
    if not w:
        return
    while x:
        low = x & -x
        i = low.bit_length() - 1
        if i < len(acc):
            acc[i] += w
        x ^= low
