"""The golden model's ap_fixed arithmetic against the real Xilinx ap_types headers (compiled with g++)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import hls4ml
import numpy as np
import pytest

from had_hls.fixed import OVERFLOW_MODES, QUANT_MODES, FixedType

AP_TYPES = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
TYPES = [f"ap_fixed<10,4,{q},{o}>" for q in QUANT_MODES for o in OVERFLOW_MODES] + [
    "ap_ufixed<8,2,AP_RND,AP_SAT>",
    "ap_ufixed<8,2>",
    "ap_fixed<16,6>",
    "ap_fixed<6,6>",
]


@pytest.fixture(scope="module")
def cpp_conversions(tmp_path_factory) -> dict[str, list[float]]:
    """Convert the same doubles to every type in C++ and read back the results."""
    if shutil.which("g++") is None:
        pytest.skip("g++ not installed")
    values = _values()
    folder = tmp_path_factory.mktemp("apfixed")
    body = "\n".join(
        f'  {{ std::cout << "{i}"; for (double v : xs) {{ {t} q = v; std::cout << " " << std::setprecision(17) '
        f"<< q.to_double(); }} std::cout << std::endl; }}"
        for i, t in enumerate(TYPES)
    )
    src = folder / "conv.cpp"
    src.write_text(
        '#include "ap_fixed.h"\n#include "ap_int.h"\n#include <iostream>\n#include <iomanip>\n#include <vector>\n'
        "int main() { std::vector<double> xs = {" + ", ".join(repr(v) for v in values) + "};\n" + body + "\n}\n"
    )
    subprocess.run(["g++", "-std=c++17", "-O0", f"-I{AP_TYPES}", str(src), "-o", str(folder / "conv")], check=True)
    out = subprocess.run([str(folder / "conv")], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.strip().splitlines():
        head, *nums = line.split()
        rows[TYPES[int(head)]] = [float(n) for n in nums]
    return rows


def _values() -> list[float]:
    rng = np.random.default_rng(0)
    lsb = 2.0**-6
    halves = (np.arange(-40, 41) + 0.5) * lsb  # exact ties for every rounding mode
    return [*halves.tolist(), *rng.uniform(-40, 40, 300).tolist(), 31.99, -32.0, -32.01, 0.0, 1e-9, -1e-9]


@pytest.mark.parametrize("type_text", TYPES)
def test_float_conversion_matches_cpp(type_text: str, cpp_conversions):
    t = FixedType.parse(type_text)
    got = t.to_float(t.from_float(np.array(_values())))
    assert got.tolist() == cpp_conversions[type_text]


@pytest.mark.parametrize("type_text", TYPES)
def test_mantissa_conversion_agrees_with_float_conversion(type_text: str):
    t = FixedType.parse(type_text)
    rng = np.random.default_rng(1)
    mant = rng.integers(-(2**20), 2**20, 500)
    frac = 14
    exact = np.ldexp(mant.astype(np.float64), -frac)
    assert np.array_equal(t.from_mantissa(mant, frac), t.from_float(exact))


@pytest.mark.parametrize(
    "text", ["ap_fixed<16>", "fixed<16,6>", "ap_fixed<16,6,AP_FOO>", "ap_int<8,2>", "ap_fixed<0,0>"]
)
def test_bad_type_strings_are_rejected(text: str):
    with pytest.raises(ValueError):
        FixedType.parse(text)


def test_cpp_spelling_round_trips():
    for text in [*TYPES, "ap_int<6>", "ap_uint<5>"]:
        t = FixedType.parse(text)
        assert FixedType.parse(t.cpp()) == t
