"""FPGA dynamic power from the per-cell activity of the synthesized netlist (the netlist whose cells the report counts).

This module holds the flow (``gate_level_activity``) and the power formula (``netlist_power``); the steps' pieces
live in had_hls.estimate.gate_sources (simulation netlist, cell models, DUT wrapper), had_hls.estimate.vcd_toggles
(per-bit toggles from the VCD) and had_hls.estimate.cell_activity (per-cell toggle rates).

Method (``gate_level_activity`` then ``netlist_power``):

1. The netlist: the JSON that ``synth_xilinx -family xcup`` writes beside the resource counts
   (had_hls.estimate.synth_scripts.NETLIST_JSON). Yosys rewrites it as Verilog with one-bit nets (``splitnets``) named
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

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from had_hls.estimate.cell_activity import CellActivity, cell_activities, enable_nets
from had_hls.estimate.gate_sources import cell_models, simulation_netlist, wrapper
from had_hls.estimate.power import COEFFICIENTS
from had_hls.estimate.vcd_toggles import vcd_bit_toggles
from had_hls.rtl.generate import RtlDesign
from had_hls.rtl.xcup_models import write_xcup_models

DEFAULT_WINDOW = 256  # cycles of steady-state attention in the activity window


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
