"""The encoder layers of whole-model projects (had_hls/hls/encoder_*.py, templates/hls/nnet_had_encoder.h),
C-simulated with real hls4ml + g++ against torch, each within a tolerance derived from its types and table sizes;
hls4ml 1.3.0's own LayerNorm is pinned as wrong for var > 1 (why had-hls has its own); the g++-only exact int64
fast projection of the C-sim (fast_project_token, templates/hls/nnet_attention_common.h) is compared bit for bit
with the ap_fixed loop.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import hls4ml
import numpy as np
import pytest
import torch
from torch import nn

from had_hls.fixed import FixedType
from had_hls.hls.encoder_layers import LUTGELU, EncoderHW, SeqLayerNorm, TokenPool
from had_hls.hls.encoder_parsers import register

pytestmark = pytest.mark.slow

L, E = 5, 8  # odd token count, E != L
IN_T = FixedType(18, 8)  # model input: inputs below are multiples of 2^-8, exact in it
OUT_T = FixedType(20, 8)  # outputs of every layer under test
HW = EncoderHW()
REPO = Path(__file__).resolve().parents[1]


class Layers(nn.Module):
    """Four outputs of one (L, E) input: stock hls4ml LayerNorm, ours, our GELU table, our mean over tokens."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stock_ln = nn.LayerNorm(E)
        ln = nn.LayerNorm(E)
        with torch.no_grad():
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.uniform_(-0.5, 0.5)
            self.stock_ln.weight.copy_(ln.weight)
            self.stock_ln.bias.copy_(ln.bias)
        self.ln = SeqLayerNorm(ln)
        self.gelu = LUTGELU()
        self.pool = TokenPool("mean")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.stock_ln(x), self.ln(x), self.gelu(x), self.pool(x)


@pytest.fixture(scope="module")
def layers_csim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layers, np.ndarray, list[np.ndarray]]:
    register()
    model = Layers().double().eval()
    cfg = hls4ml.utils.config_from_pytorch_model(
        model,
        input_shape=(L, E),
        granularity="name",
        backend="Vitis",
        default_precision=OUT_T.cpp(),
        channels_last_conversion="off",
    )
    cfg["LayerName"]["x"]["Precision"]["result"] = IN_T.cpp()
    hm = hls4ml.converters.convert_from_pytorch_model(
        model,
        hls_config=cfg,
        output_dir=str(tmp_path_factory.mktemp("layers") / "prj"),
        backend="Vitis",
        io_type="io_parallel",
    )
    hm.compile()
    rng = np.random.default_rng(0)
    # per-token scales 0.05 .. 12: variances from ~2.5e-3 to ~140 (hls4ml's table covers var in [0, 1] only)
    scale = np.array([0.05, 0.5, 2.0, 6.0, 12.0])[None, :, None]
    x = np.round(rng.uniform(-1.7, 1.7, size=(32, L, E)) * scale * 256) / 256
    x = np.clip(x, -IN_T.max_value, IN_T.max_value)
    outs = hm.predict(np.ascontiguousarray(x.reshape(len(x), -1)))
    return model, x, [np.asarray(o, dtype=np.float64) for o in outs]


def _torch(model: Layers, x: np.ndarray) -> list[np.ndarray]:
    with torch.no_grad():
        return [t.numpy() for t in model(torch.tensor(x))]


def test_layernorm_matches_torch_for_any_variance(layers_csim) -> None:
    model, x, outs = layers_csim
    ref = _torch(model, x)[1]
    got = outs[1].reshape(ref.shape)
    # 1/sqrt table: the mantissa bin of width 2^-R (m in [1, 2)) or 2^(1-R) (m in [2, 4)) costs <= 2^-(R+2) relative,
    # the table's 17 fractional bits and inv_std's 22 add < 2^-13 relative; |x - mean| / std <= sqrt(E - 1);
    # the output is truncated to OUT_T.
    gamma = float(model.ln.norm.weight.detach().abs().max())
    rel = 2.0 ** -(HW.ln_table_bits + 2) + 2.0**-13
    tol = np.sqrt(E - 1) * gamma * rel + 2 * OUT_T.lsb
    err = np.abs(got - ref).max()
    assert err <= tol, (err, tol)


def test_stock_hls4ml_layernorm_is_wrong_above_unit_variance(layers_csim) -> None:
    """hls4ml 1.3.0 LayerNormalization: 1/sqrt table indexed linearly over var in [0, 2^-table_range_power2] with an
    unsigned power, i.e. at most [0, 1], clamped above: tokens with var >> 1 come out scaled by ~1/sqrt(1) = 1."""
    model, x, outs = layers_csim
    ref = _torch(model, x)[0]
    got = outs[0].reshape(ref.shape)
    err_per_token = np.abs(got - ref).max(axis=(0, 2))
    assert err_per_token[-1] > 1.0  # var ~ 140
    assert err_per_token[1] < 0.1  # var ~ 0.25 is inside the table


def test_gelu_table_within_bin_error(layers_csim) -> None:
    model, x, outs = layers_csim
    ref = _torch(model, x)[2]
    got = outs[2].reshape(ref.shape)
    step = 2.0 ** (HW.gelu_range_bits + 1 - HW.gelu_table_bits)
    tail = 4 * 3.2e-5  # |GELU(x) - relu(x)| for |x| >= 4
    tol = 1.13 * step / 2 + HW.gelu_table.lsb + OUT_T.lsb + tail  # max |GELU'| = 1.13; bin centre; roundings
    err = np.abs(got - ref).max()
    assert err <= tol, (err, tol)
    assert np.abs(x).max() > 2**HW.gelu_range_bits  # both tails exercised


def test_mean_pool_over_tokens(layers_csim) -> None:
    model, x, outs = layers_csim
    ref = _torch(model, x)[3]
    got = outs[3].reshape(ref.shape)
    # exact sum; 1/L in ap_ufixed<32,1> (< 2^-31 relative); one truncation to OUT_T
    assert np.abs(got - ref).max() <= OUT_T.lsb + 1e-6


FAST_PATH_TB = r"""
#include "ap_fixed.h"
#include "nnet_attention_common.h"
#include <cstdio>
#include <random>
template <class X, class Wt, class B, class A, unsigned NI, unsigned NO>
long check(double xs, double ws, int trials, unsigned seed) {
    static X x[NI]; static Wt w[NI * NO]; static B b[NO]; static A fast[NO], plain[NO];
    std::mt19937 g(seed); std::normal_distribution<double> n(0, 1);
    long bad = 0;
    for (int t = 0; t < trials; t++) {
        if (t % 10 == 0) {
            for (unsigned i = 0; i < NI * NO; i++) w[i] = n(g) * ws;
            for (unsigned i = 0; i < NO; i++) b[i] = n(g) * ws;
        }
        for (unsigned i = 0; i < NI; i++) x[i] = n(g) * xs;
        if (!nnet::fast_project_token<X, Wt, B, A, NI, NO>(x, w, b, fast)) return -1;
        for (unsigned o = 0; o < NO; o++) {
            A a = b[o];
            for (unsigned i = 0; i < NI; i++) a += x[i] * w[o * NI + i];
            plain[o] = a;
        }
        for (unsigned o = 0; o < NO; o++) bad += fast[o] != plain[o];
    }
    return bad;
}
int main() {
    // default attention types; saturating/wrapping inputs and weights; an accumulator that wraps often; unsigned x
    printf("%ld\n", check<ap_fixed<16, 6>, ap_fixed<16, 4>, ap_fixed<16, 6>, ap_fixed<44, 18>, 64, 64>(3, 0.3, 50, 1));
    printf("%ld\n", check<ap_fixed<16, 6>, ap_fixed<16, 4>, ap_fixed<16, 6>, ap_fixed<44, 18>, 17, 9>(40, 20, 200, 2));
    printf("%ld\n", check<ap_fixed<12, 4>, ap_fixed<10, 2>, ap_fixed<8, 3>, ap_fixed<20, 4>, 33, 7>(8, 2, 300, 3));
    printf("%ld\n", check<ap_ufixed<12, 4>, ap_fixed<10, 2>, ap_fixed<8, 3>, ap_fixed<26, 10>, 33, 7>(8, 2, 300, 4));
    // not exact -> the fast path declines (-1): too few fractional bits; saturating accumulator
    printf("%ld\n", check<ap_fixed<16, 6>, ap_fixed<16, 4>, ap_fixed<16, 6>, ap_fixed<24, 6>, 8, 8>(3, 0.3, 1, 5));
    typedef ap_fixed<44, 18, AP_TRN, AP_SAT> sat_t;
    printf("%ld\n", check<ap_fixed<16, 6>, ap_fixed<16, 4>, ap_fixed<16, 6>, sat_t, 8, 8>(3, 0.3, 1, 6));
}
"""


def test_project_token_fast_csim_path_is_bit_exact(tmp_path: Path) -> None:
    ap_types = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    src = tmp_path / "tb.cpp"
    src.write_text(FAST_PATH_TB)
    exe = tmp_path / "tb"
    cmd = ["g++", "-O1", "-std=c++17", "-DHAD_HLS_FAST_CSIM_ENABLE", f"-I{ap_types}", f"-I{REPO / 'templates' / 'hls'}",
           str(src), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True)
    out = [int(v) for v in subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()]
    assert out == [0, 0, 0, 0, -1, -1]
