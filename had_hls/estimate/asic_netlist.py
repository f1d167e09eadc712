"""Yosys mapping of a core to OSU035 cells for the ASIC cross-check (``synth_osu035_nets``): read-only tables as
logic, the memories with write ports kept apart in one module ``asic_memories`` (no SRAM macro in the library),
every net of the mapped top named ``n<i>``."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from had_hls.estimate.asic_liberty import OSU035_LIB
from had_hls.estimate.synth_scripts import prepare_sources
from had_hls.estimate.yosys import run_yosys
from had_hls.rtl.generate import RtlDesign

MEMBLK = "asic_memories"


def synth_osu035_nets(design: RtlDesign, workdir: Path, timeout: float | None = None) -> dict[str, Any]:
    """Map the core to OSU035 cells for the per-net flow: the memories with write ports are kept, moved into one
    module ``asic_memories`` (Yosys ``submod``; written as behavioural Verilog for the simulation, a black box for
    the mapping), and every net of the mapped top is named ``n<i>`` (ports keep their names), so that the
    simulation's VCD names each net the JSON netlist holds."""
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
