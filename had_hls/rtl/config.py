"""``rtl:`` project section (listed in had_hls.project.SECTIONS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from had_hls.config import ConfigError


@dataclass(frozen=True)
class RtlSection:
    """``rtl:`` the RTL twin: P parallel lanes (keys per cycle) of both cores, simulator, activity file.

    The VCD covers the first ``vcd_vectors`` inputs, cut after ``vcd_cycles`` cycles (0 = no cut).
    ``fmax``: run the nextpnr-ecp5 Fmax proxy in ``had-hls report``; ``fmax_timeout_s``: its time limit per
    core (synth_ecp5 + nextpnr, 0 = none). nextpnr-ecp5 runs as WebAssembly here: a core of ~15k LUT4 takes
    minutes on 2 cores, so the default keeps the main job's time bounded; a core not placed and routed in time
    has no Fmax, and the report says why. ``gate_level_power``: the report's FPGA power from a gate-level
    simulation of each synthesized core over ``gate_level_window`` cycles (else the RTL-activity model);
    ``power_crosscheck``: the ASIC cross-check with OpenSTA (had_hls.estimate.asic: every net's simulated
    activity; off by default: its Yosys mapping to OSU035 alone takes minutes per core: docs/report.md). Both
    cost minutes on 2 cores at the default shape and grow with the netlist: a core of more than
    ``power_max_cells`` synthesized cells skips them (the report then says so and uses the RTL-activity model)."""

    lanes: int = 4
    simulator: Literal["verilator", "icarus"] | None = None
    vcd_vectors: int = 1
    vcd_cycles: int = 2000
    fmax: bool = True
    fmax_timeout_s: float = 180.0
    gate_level_power: bool = True  # report: FPGA power from the synthesized netlist's per-cell activity
    gate_level_window: int = 256  # cycles of steady-state attention simulated at gate level
    power_crosscheck: bool = False  # report: ASIC cross-check (Yosys -> OSU035, OpenSTA); off: slow, docs/report.md
    power_max_cells: int = 60000  # both run only on cores of at most this many synthesized cells (0 = any)

    def validate(self, path: str) -> None:
        if self.lanes < 1:
            raise ConfigError(f"{path}.lanes: {self.lanes} is not allowed: must be >= 1")
        if self.vcd_vectors < 0:
            raise ConfigError(f"{path}.vcd_vectors: {self.vcd_vectors} is not allowed: must be >= 0 (0 = no VCD)")
        if not self.fmax_timeout_s >= 0:
            raise ConfigError(f"{path}.fmax_timeout_s: {self.fmax_timeout_s} is not allowed: must be >= 0 (0 = none)")
        if self.power_max_cells < 0:
            raise ConfigError(f"{path}.power_max_cells: {self.power_max_cells} is not allowed: must be >= 0 (0 = any)")
        if self.gate_level_window < 1:
            raise ConfigError(f"{path}.gate_level_window: {self.gate_level_window} is not allowed: must be >= 1")
        if self.vcd_cycles < 0:
            raise ConfigError(f"{path}.vcd_cycles: {self.vcd_cycles} is not allowed: must be >= 0 (0 = whole inputs)")


def check_lanes(lanes: int, seq_len: int, key: str = "rtl.lanes") -> int:
    """``lanes`` if 1 <= lanes <= seq_len (P keys per cycle out of L), else ConfigError naming ``key``."""
    if isinstance(lanes, bool) or not isinstance(lanes, int) or not 1 <= lanes <= seq_len:
        raise ConfigError(f"{key}: {lanes} is not allowed: must be 1 <= lanes <= model.seq_len={seq_len}")
    return lanes

