"""The integers the RTL cores are built from besides the spec's: the register stages of each pipelined unit of
templates/rtl/ (so :func:`had_hls.rtl.generate.design_for` can pass every depth as a parameter, derived once in
Python), and the 32-bit limit every Verilog parameter must stay within.
"""

from __future__ import annotations

from had_hls.fixed import bits_for_unsigned


def clog2(n: int) -> int:
    """Verilog's $clog2: ceil(log2 n), 0 for n <= 1."""
    return max(0, (n - 1).bit_length())


def tree_latency(n: int) -> int:
    """Register stages of a tree over n inputs with a register after every level (sum_tree RE = 1, fp_max_tree):
    max(1, ceil(log2 n))."""
    return max(1, (n - 1).bit_length())


def hamming_latency(head_dim: int) -> int:
    """hamming_unit: 6-bit group counts, then sum_tree with a register after every two levels."""
    levels = (-(-head_dim // 6) - 1).bit_length()
    return max(1, -(-levels // 2))


def mul_wide_latency(a_bits: int) -> int:
    """mul_wide: slice products (one register), then sum_tree over ceil(a_bits / 17) of them."""
    return 1 + tree_latency(-(-a_bits // 17))


def topn_hist_pipe(lanes: int) -> int:
    """Registers in topn_hist's per-bin lane sum: 0 (one lane), 1 (<= 4 lanes), 2 (more)."""
    return 2 if lanes > 4 else 1 if lanes > 1 else 0


def topn_keep_stages(lanes: int) -> int:
    """topn_keep register stages: 1 (one lane), 2 (<= 4 lanes), 3 (more)."""
    return 3 if lanes > 4 else 2 if lanes > 1 else 1


def topn_scan_bins(head_dim: int, groups: int) -> int:
    """S: histogram bins the top-N scan reads per cycle, the smallest power of two with ceil(d / S) <= ceil(L/P)
    (the scan of one job must end before the job after next reuses its histogram bank)."""
    s = 1
    while -(-head_dim // s) > groups and s < head_dim:
        s *= 2
    return s


# A Verilog parameter without a type or range is an integer: 32-bit signed (IEEE 1364-2005, 4.10.1 and 12.2).
VERILOG_PARAMETER_MAX = 2**31 - 1
# project key each parameter comes from (for the message of a parameter out of range)
PARAMETER_KEY = {"INV": "hls.precision.fp_inv_sqrt_frac", "ISH": "hls.precision.fp_inv_sqrt_frac",
                 "T": "hls.precision.fp_exp_table_size", "L": "model.seq_len", "E": "model.embed_dim",
                 "N": "model.top_n", "P": "rtl.lanes"}


class RtlLimitError(ValueError):
    """A spec the Verilog cores cannot take; ``key`` is the project key to change."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def check_parameters(params: dict[str, int]) -> None:
    """Every parameter of the Verilog cores must be a 32-bit signed integer: RtlLimitError naming the one that
    is not, its value, the bits it needs and the project key it comes from."""
    for name, value in params.items():
        if not -VERILOG_PARAMETER_MAX - 1 <= value <= VERILOG_PARAMETER_MAX:
            key = PARAMETER_KEY.get(name, "hls.precision")
            raise RtlLimitError(
                key,
                f"RTL parameter {name} = {value} needs {bits_for_unsigned(abs(value)) + 1} bits, more than a "
                "32-bit Verilog parameter holds (IEEE 1364 integer parameter): reduce it",
            )

