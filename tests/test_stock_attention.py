"""hls4ml's own route for attention (had_hls.hls.stock_attention): torch twin and real g++ C-sim vs torch."""

from __future__ import annotations

from pathlib import Path

import hls4ml
import numpy as np
import pytest
import torch

from had_hls.hls.frontend_fixes import stock_frontend
from had_hls.hls.stock_attention import StockAttention, convert_stock_attention
from had_hls.nn.attention import HammingAttention

L, E, H = 4, 8, 2


def _attention(seed: int = 0, **kwargs: object) -> HammingAttention:
    torch.manual_seed(seed)
    return HammingAttention(E, H, **kwargs).eval()


def _inputs(n: int = 3) -> np.ndarray:
    return np.random.default_rng(1).uniform(-1, 1, size=(n, L, E)).astype(np.float32)


def test_stock_twin_matches_hamming_attention_float() -> None:
    attn = _attention()
    x = torch.from_numpy(_inputs())
    with torch.no_grad():
        torch.testing.assert_close(StockAttention(attn, L)(x), attn(x), rtol=1e-5, atol=1e-6)


def test_stock_twin_rejects_top_n() -> None:
    with pytest.raises(ValueError, match="top-N"):
        StockAttention(_attention(top_n=2), L)


def test_stock_attention_needs_frontend_fixes() -> None:
    """Without the fixes the traced twin cannot even be configured (einsum shape bug -> second einsum mismatch)."""
    model = StockAttention(_attention(), L)
    with stock_frontend(), pytest.raises(ValueError, match="mismatch"):
        hls4ml.utils.config_from_pytorch_model(model, input_shape=(L, E), channels_last_conversion="off")


@pytest.mark.slow
def test_stock_attention_csim_matches_torch(tmp_path: Path) -> None:
    attn = _attention()
    model, hls_model = convert_stock_attention(attn, L, tmp_path / "stock_attention")
    softmax = hls_model.graph["softmax"]
    assert (softmax.get_attr("n_outer"), softmax.get_attr("n_inner")) == (H * L, 1)
    x = _inputs()
    hls_model.compile()
    got = np.asarray(hls_model.predict(x)).reshape(x.shape)
    with torch.no_grad():
        ref = attn(torch.from_numpy(x)).numpy()
        v_max = float(model.v_proj(torch.from_numpy(x)).abs().max())
    # Error bound: each probability within 2 LUT steps of the exp table (scores ap_fixed<24,6>: x - max in
    # ap_ufixed<23,5>, 4096 entries) and of the 1/sum table (ap_ufixed<18,5>); ctx error <= L * p_err * max|v|;
    # out_proj sums |Wo| times that; the affine layers' rounding (ap_fixed<32,12>) is far below.
    p_err = 2 * (2.0**5 / 4096 + 2.0**5 / 4096)
    row_l1 = float(attn.out_proj.weight.detach().abs().sum(dim=1).max())
    bound = L * p_err * v_max * row_l1 + 1e-3
    err = float(np.abs(got - ref).max())
    assert err < bound, (err, bound)
