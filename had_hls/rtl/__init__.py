"""RTL twin of the attention layers: parameters / tables / memory files from an AttentionSpec, simulator runners.

- :mod:`had_hls.rtl.generate`: spec -> Verilog parameters (``cosim_dut.v``: the core, a context FIFO and Wo),
  $readmemh table files holding the SAME integers as ``spec.exp_table`` / ``spec.recip_table`` / ``spec.o``,
  and the input/output vector formats of verification/rtl/tb_attention.v.
- :mod:`had_hls.rtl.sim`: simulator discovery (one-line MissingToolError naming the tool and the install command),
  build + run for Verilator (C++ via ``--timing --main``) and Icarus Verilog, VCD activity files.
- :mod:`had_hls.rtl.synth`: Yosys synthesis of the core and the gate-level netlist for the gate-level check.
"""

from had_hls.rtl.config import RtlSection
from had_hls.rtl.generate import RTL_TEMPLATE_DIR, TB_DIR, RtlDesign, design_for
from had_hls.rtl.sim import SIMULATORS, SimResult, find_simulator, run_simulation

__all__ = [
    "RtlSection",
    "RTL_TEMPLATE_DIR",
    "TB_DIR",
    "RtlDesign",
    "design_for",
    "SIMULATORS",
    "SimResult",
    "find_simulator",
    "run_simulation",
]
