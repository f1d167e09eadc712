"""``rtl:`` project section (registered with had_hls.config when had_hls.rtl is imported)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from had_hls.config import ConfigError, register_section


@dataclass(frozen=True)
class RtlSection:
    """``rtl:`` the RTL twin: P parallel lanes (keys per cycle) of both cores, simulator, activity file.

    The VCD covers the first ``vcd_vectors`` inputs, cut after ``vcd_cycles`` cycles (0 = no cut)."""

    lanes: int = 4
    simulator: Literal["verilator", "icarus"] | None = None
    vcd_vectors: int = 1
    vcd_cycles: int = 2000

    def validate(self, path: str) -> None:
        if self.lanes < 1:
            raise ConfigError(f"{path}.lanes: {self.lanes} is not allowed: must be >= 1")
        if self.vcd_vectors < 0:
            raise ConfigError(f"{path}.vcd_vectors: {self.vcd_vectors} is not allowed: must be >= 0 (0 = no VCD)")
        if self.vcd_cycles < 0:
            raise ConfigError(f"{path}.vcd_cycles: {self.vcd_cycles} is not allowed: must be >= 0 (0 = whole inputs)")


register_section("rtl", RtlSection)
