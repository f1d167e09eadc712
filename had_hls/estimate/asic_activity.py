"""Per-net switching activity of the OSU035 netlist (``net_activity``): the netlist, with cell models from the
liberty, simulated as the co-simulation test bench's DUT on one input; its context rows checked against golden."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from had_hls.estimate.asic_liberty import OSU035_LIB, cell_models
from had_hls.estimate.asic_netlist import MEMBLK
from had_hls.estimate.gate_sources import wrapper
from had_hls.estimate.vcd_toggles import vcd_bit_toggles
from had_hls.rtl.generate import RtlDesign


def net_activity(
    design: RtlDesign, trace: Any, mask: Any, syn: dict[str, Any], workdir: Path, window: int, lib: Path = OSU035_LIB
) -> tuple[int, dict[str, tuple[float, float]], int]:
    """Simulate the OSU035 netlist (cell models from the liberty, the memories behavioural) in the co-simulation
    test bench on one input; (cycles, {net: (toggles per cycle, fraction of clock edges high)}, context mismatches
    against golden over the rows produced). The window is the gate-level FPGA model's: ``window`` cycles from
    cycle L + 8 (the first input's keys loaded)."""
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
