"""ASIC cross-check of the power ratio: the same cores mapped by Yosys to a real standard-cell library, simulated
at gate level on the co-simulation vectors, and analysed by OpenSTA's ``report_power`` with every net's simulated
switching activity.

Library: the OSU 0.35 um standard cells (Oklahoma State University, distributed with qflow; Debian package
``qflow-tech-osu035``: ``/usr/share/qflow/tech/osu035/osu035_stdcells.lib``, 3.3 V typical corner, internal-power
tables per cell). Tool: OpenSTA (Parallax Software; Debian package ``opensta``, 2019 snapshot 2.0.17).

This module holds the flow (``asic_power``, ``AsicPower``); its steps live in had_hls.estimate.asic_liberty (the
library and its cell models), asic_netlist (step 1), asic_activity (step 2) and asic_sta (step 3, and finding
OpenSTA).

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

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from had_hls.estimate.asic_activity import net_activity
from had_hls.estimate.asic_liberty import VDD
from had_hls.estimate.asic_netlist import synth_osu035_nets
from had_hls.estimate.asic_sta import cut_every_net, run_sta_nets, sta_path
from had_hls.rtl.generate import RtlDesign


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

