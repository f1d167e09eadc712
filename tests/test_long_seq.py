"""Exact arithmetic at long sequences on the default types (issue 13, item 1).

At L = 2048 the FP baseline's normalisation product acc * r needs 65 bits (``spec.widths['norm_prod']``): more than
int64 holds, so the golden model computes it in Python ints, the C-sim fast path in __int128, and the RTL in its
NPW-bit product. These tests state that the three agree bit for bit there, that the golden model's wide path is the
arithmetic of spec.py (against a plain Python-int statement of it), and that a width the C++ cannot declare is refused
in one line naming the signal, its ap_int width and the types it comes from.
"""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
from conftest import seeded_layer
from test_rtl import needs_verilator

from had_hls import golden
from had_hls.fixed import AP_INT_MAX_W, INT64_BITS, FixedType
from had_hls.nn import BinarizeMode
from had_hls.precision import Precision
from had_hls.rtl.generate import design_for
from had_hls.rtl.sim import run_simulation
from had_hls.spec import build_spec, spec_from_module
from had_hls.widths import datapath_widths


@pytest.mark.parametrize("seq_len,norm_prod", [(512, 63), (2048, 65), (8192, 67)])
def test_fp_normalisation_product_outgrows_int64_with_L(seq_len: int, norm_prod: int):
    """W_v + W_e + bits(L) + W_r + 1 on the default types (16 + 18 + bits(L) + 18 + 1)."""
    w = datapath_widths("fp", seq_len, 64, seq_len, Precision())
    assert w["norm_prod"] == norm_prod
    assert w["sum"] == (seq_len * (2**18 - 1)).bit_length()


def _python_normalise(weights: np.ndarray, v: np.ndarray, spec) -> np.ndarray:
    """spec.py's normalisation, element by element in Python ints (no numpy arithmetic)."""
    p = spec.precision
    heads, seq, _ = weights.shape
    d = spec.head_dim
    out = np.zeros((seq, heads * d), dtype=object)
    for h in range(heads):
        for i in range(seq):
            e = [int(t) for t in weights[h, i]]
            s = sum(e)
            if s == 0:
                continue
            lead = s.bit_length() - 1
            r_bits = p.recip_index_bits
            idx = (s >> (lead - r_bits) if lead >= r_bits else s << (r_bits - lead)) & ((1 << r_bits) - 1)
            r = int(spec.recip_table[idx])
            shift = p.value.frac + p.recip_table.frac + lead - p.context.frac
            for c in range(d):
                acc = sum(e[j] * int(v[j, h * d + c]) for j in range(seq))
                y = (acc * r + (1 << (shift - 1))) >> shift
                out[i, h * d + c] = min(max(y, p.context.min_int), p.context.max_int)
    return out


@pytest.mark.parametrize("kind", ["had", "fp"])
def test_golden_wide_normalisation_is_the_spec_arithmetic(kind: str):
    """A 44-bit value type makes av_acc and norm_prod wider than int64 at L = 24: golden's object path against
    the arithmetic written out with Python ints, on weights and values at the extremes of their types."""
    prec = Precision(value=FixedType(44, 12, quant="AP_RND", overflow="AP_SAT"))
    rng = np.random.default_rng(4)
    E, L, N = 8, 24, 7
    w = {k: (rng.normal(0, 0.3, (E, E)), None) for k in "qkvo"}
    spec = build_spec(kind, seq_len=L, num_heads=2, top_n=N, sigma_q=1.0, sigma_k=1.0, weights=w, precision=prec)
    assert spec.widths["av_acc"] > INT64_BITS and spec.widths["norm_prod"] > INT64_BITS
    weights = rng.integers(0, spec.precision.exp_table.max_int + 1, size=(2, L, L))
    weights[:, :, ::3] = 0  # sparse rows, as after top-N
    weights[0, 5] = 0  # a row with S = 0
    v = rng.integers(prec.value.min_int, prec.value.max_int + 1, size=(L, E), dtype=np.int64)
    v[0] = prec.value.max_int
    got = golden.normalise_av(weights, v, spec)
    assert np.array_equal(got.astype(object), _python_normalise(weights, v, spec))
    assert np.abs(got).max() > 0 and not (got[5, :4] != 0).any()


def test_a_signal_wider_than_ap_int_allows_is_refused_naming_it():
    """exp_table and recip_table near ap_int's limit: norm_prod would need more than AP_INT_MAX_W bits."""
    prec = Precision(value=FixedType(1000, 500))
    with pytest.raises(ValueError) as err:
        datapath_widths("fp", 64, 8, 64, prec)
    msg = str(err.value)
    assert "\n" not in msg
    assert "internal signal av_acc needs ap_int<" in msg and f"{AP_INT_MAX_W}-bit limit (AP_INT_MAX_W)" in msg
    assert "value ap_fixed<1000,500>" in msg and "exp_table ap_ufixed<18,1>" in msg


def test_a_type_wider_than_ap_int_allows_is_refused():
    with pytest.raises(ValueError, match=r"width 1025 outside 1\.\.1024 \(ap_int's AP_INT_MAX_W\)"):
        FixedType.parse("ap_fixed<1025,20>")


def test_an_accumulator_that_can_overflow_for_E_is_refused_naming_the_type_it_needs():
    """E = 512 inputs at +-32 times weights of |w| ~ 4: sums reach 2^16; accum ap_fixed<32,14> cannot hold them."""
    E = 512
    w = {k: (np.full((E, E), 4.0 if k == "q" else 0.01), None) for k in "qkvo"}
    prec = Precision(accum=FixedType(32, 14))
    with pytest.raises(ValueError) as err:
        build_spec("had", seq_len=4, num_heads=8, top_n=2, sigma_q=1, sigma_k=1, weights=w, precision=prec)
    msg = str(err.value)
    assert msg.startswith("accum ap_fixed<32,14> can overflow in the Q projection")
    assert "E = 512 inputs of ap_fixed<16,6>" in msg and "needs 18 integer bits, ap_fixed<36,18>" in msg
    wide = Precision(accum=FixedType(36, 18))
    build_spec("had", seq_len=4, num_heads=8, top_n=2, sigma_q=1, sigma_k=1, weights=w, precision=wide)


@pytest.mark.slow
@needs_verilator
def test_fp_at_L2048_golden_csim_rtl_bit_exact(tmp_path):
    """FP baseline, L = 2048, d = 8, default types, one padded and one unpadded vector: the hls4ml layer's g++
    C-sim (fast path, __int128), the Verilog core + Wo (Verilator) and the golden model (Python ints) agree."""
    from had_hls.hls.convert import convert_attention

    L, E = 2048, 8
    layer = seeded_layer(E, 1, None, seed=5)
    fp_layer = copy.deepcopy(layer)
    fp_layer.set_mode(BinarizeMode.FLOAT)
    spec = spec_from_module(fp_layer, "fp", L, key_padding_mask=True)
    assert spec.widths["norm_prod"] == 65
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1.0, (2, L, E))
    masks = [np.zeros(L, dtype=bool), np.arange(L) >= L - 300]
    traces = [golden.attention_trace(spec, x[i], masks[i]) for i in range(2)]
    y_golden = spec.precision.result.to_float(np.stack([t.y for t in traces]))

    csim: dict[str, np.ndarray] = {}

    def c_simulate() -> None:  # g++ compile (one core) while Verilator builds and runs on the other
        model = convert_attention(fp_layer, L, tmp_path / "hls", with_mask=True, project_name="fp_long")
        model.compile()
        inputs = [x.reshape(2, -1), np.stack(masks).astype(np.float64)]
        csim["y"] = np.asarray(model.predict(inputs), dtype=np.float64).reshape(x.shape)

    thread = threading.Thread(target=c_simulate)
    thread.start()
    try:
        rtl = run_simulation(design_for(spec, 8), traces, masks, tmp_path / "rtl", "verilator")
    finally:
        thread.join()
    assert np.abs(y_golden).max() > 0.1  # a real, non-trivial output
    assert np.array_equal(csim["y"], y_golden)
    assert (rtl.ctx != np.stack([t.ctx for t in traces])).sum() == 0
    assert (rtl.y != np.stack([t.y for t in traces])).sum() == 0


@pytest.mark.parametrize(
    "command,precision,expect",
    [
        (
            "csim",
            {"value": "ap_fixed<1000,500>"},
            "had-hls csim: error: hls.precision.value: ap_fixed<1000,500> is not allowed: internal signal "
            "norm_prod needs ap_int<1039> (3 keys (top_n) x value",
        ),
        (
            "cosim",
            {"fp_inv_sqrt_frac": 40},
            "had-hls cosim: error: hls.precision.fp_inv_sqrt_frac: RTL parameter INV = 388736063997 needs 40 bits",
        ),
        (
            "report",
            {"accum": "ap_fixed<20,4>"},
            "had-hls report: error: hls.precision: accum ap_fixed<20,4> can overflow in the",
        ),
    ],
    ids=["ap_int_limit", "verilog_parameter", "accum_for_E"],
)
def test_types_that_cannot_stay_exact_fail_in_one_line(tmp_path, project_file, capsys, command, precision, expect):
    """Exit 2, one line on stderr naming the key, the type or parameter and the width it needs; nothing written."""
    from had_hls.cli import main

    path = project_file(name="wide", hls={"precision": precision})
    out = tmp_path / "out"
    assert main([command, str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expect), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
