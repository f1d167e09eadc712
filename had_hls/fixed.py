"""Xilinx ap_fixed / ap_ufixed / ap_int / ap_uint types and their quantization, on integer mantissas.

A value of ``ap_fixed<W, I, Q, O>`` is ``m * 2**-F`` with F = W - I and an integer mantissa m in
[-2**(W-1), 2**(W-1) - 1] (unsigned: [0, 2**W - 1]). Converting an exact value v to the type:

- quantization Q (applied to v * 2**F): AP_TRN floor (default), AP_TRN_ZERO toward zero, AP_RND round half up,
  AP_RND_ZERO half toward zero, AP_RND_INF half away from zero, AP_RND_MIN_INF half down, AP_RND_CONV half to even;
  ap_int / ap_uint are ap_fixed<W, W, AP_TRN_ZERO> here: C++ converts a double to them truncating toward zero;
- overflow O: AP_WRAP two's-complement wrap (default), AP_SAT clamp to [min, max], AP_SAT_ZERO to 0,
  AP_SAT_SYM clamp to [-max, max].

All functions work on numpy int64 mantissas so the golden model is exact; ``check_width`` guards int64 headroom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

QUANT_MODES = ("AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_INF", "AP_RND_MIN_INF", "AP_RND_CONV")
OVERFLOW_MODES = ("AP_WRAP", "AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM")
_TYPE_RE = re.compile(r"^\s*(ap_fixed|ap_ufixed|ap_int|ap_uint)\s*<\s*([^>]*)>\s*$")


@dataclass(frozen=True)
class FixedType:
    """An HLS arbitrary-precision type; ``frac`` = W - I fractional bits (may be negative or exceed W)."""

    width: int
    integer: int
    signed: bool = True
    quant: str = "AP_TRN"
    overflow: str = "AP_WRAP"

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 62:
            raise ValueError(f"width {self.width} outside 1..62")
        if self.quant not in QUANT_MODES:
            raise ValueError(f"quantization mode {self.quant!r} not one of {', '.join(QUANT_MODES)}")
        if self.overflow not in OVERFLOW_MODES:
            raise ValueError(f"overflow mode {self.overflow!r} not one of {', '.join(OVERFLOW_MODES)}")

    # ------------------------------------------------------------------ parsing and printing
    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Parse 'ap_fixed<16,6>', 'ap_ufixed<18,1,AP_RND,AP_SAT>', 'ap_int<8>', 'ap_uint<4>'."""
        match = _TYPE_RE.match(str(text))
        if not match:
            raise ValueError(f"{text!r} is not an ap_fixed<W,I[,Q[,O]]>, ap_ufixed<...>, ap_int<W> or ap_uint<W> type")
        kind, args = match.group(1), [a.strip() for a in match.group(2).split(",") if a.strip()]
        try:
            width = int(args[0])
            if kind in ("ap_int", "ap_uint"):
                if len(args) != 1:
                    raise ValueError
                return cls(width, width, signed=kind == "ap_int", quant="AP_TRN_ZERO")
            integer = int(args[1])
            quant = args[2] if len(args) > 2 else "AP_TRN"
            overflow = args[3] if len(args) > 3 else "AP_WRAP"
            if len(args) > 5:
                raise ValueError
        except (ValueError, IndexError):
            raise ValueError(
                f"{text!r} is not an ap_fixed<W,I[,Q[,O]]>, ap_ufixed<...>, ap_int<W> or ap_uint<W> type"
            ) from None
        return cls(width, integer, signed=kind == "ap_fixed", quant=quant, overflow=overflow)

    @property
    def frac(self) -> int:
        return self.width - self.integer

    @property
    def min_int(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        return 2.0**-self.frac

    @property
    def max_value(self) -> float:
        return self.max_int * self.lsb

    @property
    def is_integer(self) -> bool:
        """True for ap_int/ap_uint: no fractional bits; C++ converts a double to them truncating toward zero."""
        return self.frac == 0 and self.quant == "AP_TRN_ZERO" and self.overflow == "AP_WRAP"

    def cpp(self) -> str:
        """The C++ spelling, with modes only where they differ from the defaults."""
        if self.is_integer:
            return f"ap_{'' if self.signed else 'u'}int<{self.width}>"
        base = f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer}"
        if self.overflow != "AP_WRAP":
            return f"{base},{self.quant},{self.overflow}>"
        if self.quant != "AP_TRN":
            return f"{base},{self.quant}>"
        return base + ">"

    def __str__(self) -> str:
        return self.cpp()

    # ------------------------------------------------------------------ quantization
    def from_float(self, values: np.ndarray | float) -> np.ndarray:
        """Mantissas of float values converted to this type (as C++ assigning a double does)."""
        v = np.asarray(values, dtype=np.float64)
        scaled = np.ldexp(v, self.frac)  # exact: multiplication by a power of two
        return self._overflow(_round(scaled, self.quant))

    def from_mantissa(self, mant: np.ndarray, frac: int) -> np.ndarray:
        """Mantissas after converting exact values ``mant * 2**-frac`` (int64) to this type."""
        mant = np.asarray(mant, dtype=np.int64)
        shift = frac - self.frac
        if shift <= 0:
            return self._overflow(mant << (-shift))
        return self._overflow(_shift_round(mant, shift, self.quant))

    def to_float(self, mant: np.ndarray) -> np.ndarray:
        return np.ldexp(np.asarray(mant, dtype=np.float64), -self.frac)

    def _overflow(self, m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, dtype=np.int64)
        lo, hi = self.min_int, self.max_int
        if self.overflow == "AP_WRAP":
            span = 1 << self.width
            m = (m - lo) % span + lo
            return m.astype(np.int64)
        if self.overflow == "AP_SAT":
            return np.clip(m, lo, hi)
        if self.overflow == "AP_SAT_SYM":
            return np.clip(m, -hi if self.signed else 0, hi)
        return np.where((m < lo) | (m > hi), 0, m).astype(np.int64)  # AP_SAT_ZERO


def _round(scaled: np.ndarray, quant: str) -> np.ndarray:
    """Integer-valued float64 scaled by 2**F -> int64 under a quantization mode."""
    fl = np.floor(scaled)
    frac = scaled - fl
    if quant == "AP_TRN":
        out = fl
    elif quant == "AP_TRN_ZERO":
        out = np.trunc(scaled)
    else:
        half = frac == 0.5
        up = frac > 0.5
        if quant == "AP_RND":
            up |= half
        elif quant == "AP_RND_ZERO":
            up |= half & (scaled < 0)
        elif quant == "AP_RND_INF":
            up |= half & (scaled > 0)
        elif quant == "AP_RND_CONV":
            up |= half & (np.mod(fl, 2) == 1)
        # AP_RND_MIN_INF: halves go down
        out = fl + up
    return out.astype(np.int64)


def _shift_round(mant: np.ndarray, shift: int, quant: str) -> np.ndarray:
    """mant / 2**shift (shift > 0) rounded per quantization mode, in exact integer arithmetic."""
    floor = mant >> shift
    rem = mant - (floor << shift)  # in [0, 2**shift)
    half = 1 << (shift - 1)
    if quant == "AP_TRN":
        return floor
    if quant == "AP_TRN_ZERO":
        return floor + ((mant < 0) & (rem != 0))
    up = rem > half
    at_half = rem == half
    if quant == "AP_RND":
        up |= at_half
    elif quant == "AP_RND_ZERO":
        up |= at_half & (mant < 0)
    elif quant == "AP_RND_INF":
        up |= at_half & (mant > 0)
    elif quant == "AP_RND_CONV":
        up |= at_half & ((floor & 1) == 1)
    return floor + up


def bits_for_unsigned(max_value: int) -> int:
    """Bits of an unsigned integer type holding 0..max_value."""
    return max(1, int(max_value).bit_length())


def check_width(bits: int, what: str) -> None:
    """Guard the int64 arithmetic of the golden model."""
    if bits > 62:
        raise ValueError(f"{what} needs {bits} bits, more than the 62 the golden model supports: narrow the types")
