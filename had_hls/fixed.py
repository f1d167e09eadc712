"""Xilinx ap_fixed / ap_ufixed / ap_int / ap_uint types and their quantization, on integer mantissas.

A value of ``ap_fixed<W, I, Q, O>`` is ``m * 2**-F`` with F = W - I and an integer mantissa m in
[-2**(W-1), 2**(W-1) - 1] (unsigned: [0, 2**W - 1]). Converting an exact value v to the type:

- quantization Q (applied to v * 2**F): AP_TRN floor (default), AP_TRN_ZERO toward zero, AP_RND round half up,
  AP_RND_ZERO half toward zero, AP_RND_INF half away from zero, AP_RND_MIN_INF half down, AP_RND_CONV half to even;
  ap_int / ap_uint are ap_fixed<W, W, AP_TRN_ZERO> here: C++ converts a double to them truncating toward zero;
- overflow O: AP_WRAP two's-complement wrap (default), AP_SAT clamp to [min, max], AP_SAT_ZERO to 0,
  AP_SAT_SYM clamp to [-max, max].

Mantissas are numpy arrays of exact integers: int64 while a value fits :data:`INT64_BITS` bits (the fast path),
else numpy ``object`` arrays of Python ints (arbitrary precision, exact at any width). :func:`int_array` picks the
dtype from a width the caller computed from the spec; conversions to a type of at most :data:`INT64_BITS` bits return
int64 again. Types are limited to ap_int's default maximum width, :data:`AP_INT_MAX_W` = 1024 bits
(Xilinx ap_common.h, ``AP_INT_MAX_W``), the widest any C++ type of the datapath can be; :func:`check_width` guards it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

QUANT_MODES = ("AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_INF", "AP_RND_MIN_INF", "AP_RND_CONV")
OVERFLOW_MODES = ("AP_WRAP", "AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM")
# Widest signed value held in an int64 array: a sum or difference of two such values still fits int64 (63 bits + sign).
INT64_BITS = 62
# ap_int / ap_fixed width limit of the Xilinx arbitrary-precision headers (ap_common.h: AP_INT_MAX_W defaults to 1024;
# wider types need -DAP_INT_MAX_W=... at every compile, which hls4ml's build does not pass).
AP_INT_MAX_W = 1024
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
        if not 1 <= self.width <= AP_INT_MAX_W:
            raise ValueError(f"width {self.width} outside 1..{AP_INT_MAX_W} (ap_int's AP_INT_MAX_W)")
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
        """Mantissas after converting exact values ``mant * 2**-frac`` (int64 or object ints) to this type."""
        mant = np.asarray(mant)
        if mant.dtype != object:
            mant = mant.astype(np.int64)
        shift = frac - self.frac
        if shift < 0 and mant.dtype != object and max_bits(mant) - shift > INT64_BITS:
            mant = mant.astype(object)  # the left shift would leave the int64 range
        if shift <= 0:
            return self._overflow(mant << (-shift))
        return self._overflow(_shift_round(mant, shift, self.quant))

    def to_float(self, mant: np.ndarray) -> np.ndarray:
        return np.ldexp(np.asarray(mant, dtype=np.float64), -self.frac)

    def _overflow(self, m: np.ndarray) -> np.ndarray:
        """Apply the overflow mode; the result is int64 when this type fits :data:`INT64_BITS` bits."""
        m = np.asarray(m)
        lo, hi = self.min_int, self.max_int
        if self.overflow == "AP_WRAP":
            span = 1 << self.width
            if m.dtype == object or self.width > INT64_BITS:
                m = (m.astype(object) - lo) % span + lo
            else:
                m = (m - lo) % span + lo
        elif self.overflow == "AP_SAT":
            m = np.minimum(np.maximum(m, lo), hi)
        elif self.overflow == "AP_SAT_SYM":
            m = np.minimum(np.maximum(m, -hi if self.signed else 0), hi)
        else:  # AP_SAT_ZERO
            m = np.where((m < lo) | (m > hi), 0, m)
        return narrow(m, self.width)


def int_array(values: np.ndarray | list | int, bits: int) -> np.ndarray:
    """Exact integers as int64 when ``bits`` (signed width, sign included) <= INT64_BITS, else as Python ints."""
    a = np.asarray(values)
    if bits <= INT64_BITS:
        return a.astype(np.int64)
    return a.astype(object)


def narrow(m: np.ndarray, bits: int) -> np.ndarray:
    """``m`` (values known to fit ``bits`` signed bits) back to int64 when that fits, else object ints."""
    m = np.asarray(m)
    if bits <= INT64_BITS:
        return m.astype(np.int64)
    return m if m.dtype == object else m.astype(object)


def max_bits(m: np.ndarray) -> int:
    """Signed bits (sign included) of the largest magnitude in ``m`` (1 for an empty or all-zero array)."""
    m = np.asarray(m)
    if m.size == 0:
        return 1
    hi, lo = int(m.max()), int(m.min())
    return max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1


def _round(scaled: np.ndarray, quant: str) -> np.ndarray:
    """float64 scaled by 2**F -> an integer under a quantization mode: int64, or object ints when a value is beyond
    the int64 range (doubles that large are integers, so the rounding is exact either way)."""
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
    if not np.isfinite(out).all() or np.abs(out).max(initial=0.0) < 2.0**INT64_BITS:
        return out.astype(np.int64)
    return np.array([int(v) for v in out.reshape(-1)], dtype=object).reshape(out.shape)


def _shift_round(mant: np.ndarray, shift: int, quant: str) -> np.ndarray:
    """mant / 2**shift (shift > 0) rounded per quantization mode, in exact integer arithmetic (int64 or object)."""
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


def check_width(bits: int, what: str, cause: str = "") -> None:
    """An internal signal of ``bits`` bits must be an ap_int the C++ headers can declare (<= AP_INT_MAX_W).

    The golden model itself is exact at any width (object ints); the limit is the C++ one. ``cause``: the types
    and sizes the width comes from, for the message."""
    if bits > AP_INT_MAX_W:
        because = f" ({cause})" if cause else ""
        raise ValueError(
            f"{what} needs ap_int<{bits}>{because}, wider than ap_int's {AP_INT_MAX_W}-bit limit (AP_INT_MAX_W): "
            "narrow the types"
        )
