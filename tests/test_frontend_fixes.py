"""Pin hls4ml 1.3.0's PyTorch front-end bugs with [seq, feature] inputs and had-hls's fixes for them.

Every model is converted for real (Vitis backend, io_parallel, ``channels_last_conversion='off'``) and C-simulated
with g++ (``hls_model.compile()``/``predict()``); each fixed result is checked against torch within a tolerance
derived from the fixed-point types configured here, and each upstream bug is reproduced by converting with the
stock handler temporarily restored (:func:`had_hls.hls.frontend_fixes.stock_frontend`), so the tests fail both if a
fix breaks and if hls4ml changes under us (then the fix and docs/hls4ml-frontend-bugs.md need a look).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import hls4ml
import numpy as np
import pytest
import torch
from torch import nn

from had_hls.hls import frontend_fixes
from had_hls.hls.frontend_fixes import fixes_installed, install_frontend_fixes, softmax_slices, stock_frontend

pytestmark = pytest.mark.slow

S, D = 4, 8  # sequence length, features: S != D so that every shape mix-up shows

# Default type: wide, so the checks are about correctness, not quantization.
FRAC_BITS = 20
DEFAULT_PRECISION = f"ap_fixed<{FRAC_BITS + 12},12>"
# Affine layers: weights, inputs and products are rounded at 2**-FRAC_BITS; n_in <= 8 terms of |x|,|w| <= 2.
LINEAR_TOL = 64 * 2.0**-FRAC_BITS

# Softmax LUTs (hls4ml 'stable' implementation): the exp table is indexed by the top log2(TABLE_SIZE) bits of
# x - max(x) in ap_ufixed<W-1, I-1> (from the softmax input type ap_fixed<W, I>), the 1/sum table by the top bits of
# INV_INP. Each index truncation costs at most one step (relative, as d exp(u) = exp(u) du), so |error| <= 2 steps.
TABLE_SIZE = 4096
SOFTMAX_IN_INT = 6
SOFTMAX_IN = f"ap_fixed<24,{SOFTMAX_IN_INT}>"
INV_INP_INT = 5
SOFTMAX_TOL = 2 * (2.0 ** (SOFTMAX_IN_INT - 1) / TABLE_SIZE + 2.0**INV_INP_INT / TABLE_SIZE)


@pytest.fixture(autouse=True, scope="module")
def _fixes() -> Iterator[None]:
    """These models hold no had-hls layer: the fixes apply to them only with the documented opt-in."""
    install_frontend_fixes()
    install_frontend_fixes()  # idempotent
    assert fixes_installed()
    frontend_fixes.set_enabled(True)
    yield
    frontend_fixes.set_enabled(False)


def _config(model: nn.Module, shape: tuple[int, ...], conversion: str = "off") -> dict:
    return hls4ml.utils.config_from_pytorch_model(
        model,
        input_shape=shape,
        granularity="name",
        backend="Vitis",
        default_precision=DEFAULT_PRECISION,
        channels_last_conversion=conversion,
    )


def _precise_softmax(cfg: dict, name: str, source: str) -> None:
    """Fine LUTs for softmax ``name``; ``source`` (the layer feeding it) gets the narrow SOFTMAX_IN type."""
    layer = cfg["LayerName"][name]
    layer["TableSize"] = TABLE_SIZE
    layer["exp_table_t"] = "ap_ufixed<18,1,AP_RND,AP_SAT>"  # exp(x - max) in (0, 1]
    layer["inv_table_t"] = "ap_ufixed<18,2,AP_RND,AP_SAT>"  # 1/sum in (0, 1]
    layer["inv_inp_t"] = f"ap_ufixed<18,{INV_INP_INT},AP_RND,AP_SAT>"  # sum of <= 16 exps
    layer["Precision"]["accum"] = "ap_ufixed<24,6>"
    layer["Precision"]["result"] = "ap_fixed<24,4>"
    cfg["LayerName"][source]["Precision"]["result"] = SOFTMAX_IN


def _convert(model: nn.Module, cfg: dict, out: Path) -> hls4ml.model.ModelGraph:
    return hls4ml.converters.convert_from_pytorch_model(
        model, hls_config=cfg, output_dir=str(out), backend="Vitis", io_type="io_parallel"
    )


def _csim(hls_model: hls4ml.model.ModelGraph, x: np.ndarray) -> np.ndarray:
    """Compile with g++ and run the C simulation on ``x``."""
    hls_model.compile()
    return np.asarray(hls_model.predict(np.ascontiguousarray(x, dtype=np.float32)))


def _max_error(got: np.ndarray, model: nn.Module, x: np.ndarray) -> float:
    """max |C-sim - torch|."""
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    return float(np.abs(got.reshape(ref.shape) - ref).max())


def _csim_error(hls_model: hls4ml.model.ModelGraph, model: nn.Module, x: np.ndarray) -> float:
    """Compile, C-simulate and return max |C-sim - torch|."""
    return _max_error(_csim(hls_model, x), model, x)


def _inputs(n: int, shape: tuple[int, ...], scale: float = 1.0, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(-scale, scale, size=(n, *shape))).astype(np.float32)


def _dense_weight(hls_model: hls4ml.model.ModelGraph, name: str) -> np.ndarray:
    """The IR weight of Linear ``name`` as (in, out) (a Dense on (S, D) becomes a pointwise Conv1D (1, in, out))."""
    data = hls_model.graph[name].get_weights("weight").data
    return np.asarray(data).reshape(-1, data.shape[-1])


# ------------------------------------------------------------------------------------------------ models
class OneLinear(nn.Module):
    def __init__(self, d_in: int = D, d_out: int = 5) -> None:
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class RowSoftmax(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.sm = nn.Softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sm(x)


class MlpAndSoftmax(nn.Module):
    """Two outputs: Linear -> ReLU -> Linear, and Softmax(dim=-1), both of the (S, D) input."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(D, 12)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(12, 6)
        self.sm = nn.Softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fc2(self.act(self.fc1(x))), self.sm(x)


class OneHeadAttention(nn.Module):
    """softmax(q k^T) v with einsum: the second einsum and the softmax depend on the first einsum's (S, S) shape."""

    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Linear(D, D)
        self.k = nn.Linear(D, D)
        self.v = nn.Linear(D, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = torch.einsum("bqd,bkd->bqk", self.q(x), self.k(x))
        attn = torch.softmax(scores, -1)  # positional dim: the stock handler does not even record it
        return torch.einsum("bqk,bkd->bqd", attn, self.v(x))


# ------------------------------------------------------------------------------------------------ Linear
def test_linear_weights_transposed_only_when_conversion_off(tmp_path: Path) -> None:
    """IR-level check (no compile): (in, out) weights for every rank and mode; stock 'off' keeps torch (out, in)."""
    torch.manual_seed(0)
    model = OneLinear()
    w = model.fc.weight.detach().numpy()
    for shape, conversion in (((S, D), "off"), ((D,), "off"), ((D,), "full")):
        hls_model = _convert(model, _config(model, shape, conversion), tmp_path / f"ir_{len(shape)}_{conversion}")
        np.testing.assert_allclose(_dense_weight(hls_model, "fc"), w.T, atol=2.0**-FRAC_BITS)
    with stock_frontend("Linear"):
        for shape in ((S, D), (D,)):
            hls_model = _convert(model, _config(model, shape), tmp_path / f"stock_{len(shape)}")
            np.testing.assert_allclose(_dense_weight(hls_model, "fc").reshape(w.shape), w, atol=2.0**-FRAC_BITS)


@pytest.fixture(scope="module")
def mlp_and_softmax(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    """C-sim of :class:`MlpAndSoftmax` on (S, D) with the fixes ('fixed') and with the stock Linear and Softmax
    handlers ('stock'), and torch's outputs ('torch'); keyed by output layer name ('fc2', 'sm').

    Two compiles serve four tests (one model with two outputs keeps the suite fast)."""
    torch.manual_seed(0)
    model = MlpAndSoftmax()
    x = _inputs(3, (S, D), scale=2.0)
    out: dict[str, dict[str, np.ndarray]] = {}
    with torch.no_grad():
        out["torch"] = {name: t.numpy() for name, t in zip(("fc2", "sm"), model(torch.from_numpy(x)), strict=True)}
    for label in ("fixed", "stock"):
        with stock_frontend("Linear", "Softmax") if label == "stock" else nullcontext():
            cfg = _config(model, (S, D))
            _precise_softmax(cfg, "sm", "x")
            hls_model = _convert(model, cfg, tmp_path_factory.mktemp(label))
        if label == "fixed":
            sm = hls_model.graph["sm"]
            assert (sm.get_attr("n_outer"), sm.get_attr("n_inner")) == (S, 1)
        hls_model.compile()
        got = hls_model.predict(np.ascontiguousarray(x))
        shapes = {name: out["torch"][name].shape for name in hls_model.outputs}
        out[label] = {name: np.asarray(y).reshape(shapes[name]) for name, y in zip(hls_model.outputs, got, strict=True)}
    return out


def _err(result: dict[str, dict[str, np.ndarray]], label: str, name: str) -> float:
    return float(np.abs(result[label][name] - result["torch"][name]).max())


def test_linear_relu_linear_seq_feature(mlp_and_softmax: dict[str, dict[str, np.ndarray]]) -> None:
    """Fixed: Linear -> ReLU -> Linear on (S, D) C-simulates to torch within the rounding of the wide types."""
    assert _err(mlp_and_softmax, "fixed", "fc2") < LINEAR_TOL


def test_linear_seq_feature_stock_handler_is_wrong(mlp_and_softmax: dict[str, dict[str, np.ndarray]]) -> None:
    """Upstream bug: with conversion 'off' the stock Linear handler leaves torch's (out, in) weights untransposed."""
    assert _err(mlp_and_softmax, "stock", "fc2") > 0.1


def test_softmax_last_axis_seq_feature(mlp_and_softmax: dict[str, dict[str, np.ndarray]]) -> None:
    """Fixed: per-row softmax on (S, D) within SOFTMAX_TOL of torch."""
    assert _err(mlp_and_softmax, "fixed", "sm") < SOFTMAX_TOL


def test_softmax_last_axis_stock_handler_normalises_everything(
    mlp_and_softmax: dict[str, dict[str, np.ndarray]],
) -> None:
    """Upstream bug: the stock handler gives one softmax over all S*D values (the rows together sum to 1)."""
    got = mlp_and_softmax["stock"]["sm"]
    np.testing.assert_allclose(got.sum(axis=(1, 2)), 1.0, atol=S * D * SOFTMAX_TOL)
    assert _err(mlp_and_softmax, "stock", "sm") > 0.1


def test_full_and_internal_conversion_fail_on_seq_feature_linear(tmp_path: Path) -> None:
    """Upstream bug (loud, left alone): 'full'/'internal' treat S as channels and break Dense -> Conv1D codegen."""
    model = OneLinear()
    for conversion in ("full", "internal"):
        with pytest.raises(ValueError, match="equal division"):
            _convert(model, _config(model, (S, D), conversion), tmp_path / conversion)


# ------------------------------------------------------------------------------------------------ Softmax
def test_softmax_1d_unchanged(tmp_path: Path) -> None:
    """1-D softmax was right upstream: the fixed handler produces the same layer dictionary (no compile)."""
    model = RowSoftmax()
    layers = {}
    for label in ("fixed", "stock"):
        with stock_frontend("Softmax") if label == "stock" else nullcontext():
            hls_model = _convert(model, _config(model, (D,)), tmp_path / label)
        layer = hls_model.graph["sm"]
        layers[label] = (layer.get_attr("n_outer"), layer.get_attr("n_inner"), layer.get_attr("n_in"))
    assert layers["fixed"] == layers["stock"] == (1, 1, D)


@pytest.mark.parametrize(
    ("dim", "conversion", "expected"),
    [(-1, "off", (S, 1)), (1, "off", (1, D)), (-1, "full", (1, S)), (1, "full", (D, 1))],
)
def test_softmax_slices_in_ir(tmp_path: Path, dim: int, conversion: str, expected: tuple[int, int]) -> None:
    """n_outer/n_inner for both axes and both memory layouts (no compile; each was C-simulated against torch when the
    fix was written: 'full' keeps the output channels-last, i.e. (D, S))."""
    model = RowSoftmax()
    model.sm.dim = dim
    hls_model = _convert(model, _config(model, (S, D), conversion), tmp_path / "ir")
    layer = hls_model.graph["sm"]
    assert (layer.get_attr("n_outer"), layer.get_attr("n_inner")) == expected
    assert layer.get_attr("parallelization_factor") == expected[0] * expected[1]


def test_softmax_slices_rank3() -> None:
    shape = [None, 2, 3, 4]
    assert softmax_slices(shape, -1, "off") == (6, 1)
    assert softmax_slices(shape, 2, "off") == (2, 4)
    assert softmax_slices(shape, 1, "full") == (12, 1)  # memory (3, 4, 2): torch axis 1 is last
    assert softmax_slices(shape, 3, "full") == (3, 2)
    with pytest.raises(ValueError, match="batch"):
        softmax_slices(shape, 0, "off")


# ------------------------------------------------------------------------------------------------ einsum
def test_einsum_attention_seq_feature(tmp_path: Path) -> None:
    """Linear + einsum + Softmax(-1) + einsum on (S, D) against torch; stock einsum breaks the second einsum."""
    torch.manual_seed(0)
    model = OneHeadAttention()
    x = _inputs(3, (S, D))

    def build(out: Path) -> hls4ml.model.ModelGraph:
        cfg = _config(model, (S, D))
        _precise_softmax(cfg, "softmax", "einsum")
        return _convert(model, cfg, out)

    with stock_frontend("einsum"), pytest.raises(ValueError, match="mismatch"):
        # the stock handler reports the scores as (S, D) = q's shape instead of (S, S)
        build(tmp_path / "stock")

    hls_model = build(tmp_path / "fixed")
    assert list(hls_model.graph["einsum"].get_output_variable().shape) == [S, S]
    with torch.no_grad():
        v_max = float(model.v(torch.from_numpy(x)).abs().max())
    # A V: S probabilities, each within SOFTMAX_TOL, times |v| <= v_max; plus the affine layers' rounding.
    assert _csim_error(hls_model, model, x) < S * SOFTMAX_TOL * v_max + LINEAR_TOL


class EllipsisScores(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...qd,...kd->...qk", x, x)


def test_einsum_batch_axis_dropped_from_ir(tmp_path: Path) -> None:
    """'...' equations too: the IR einsum works on one sample, (S, D) x (S, D) -> (S, S) (no compile)."""
    model = EllipsisScores()
    layer = _convert(model, _config(model, (S, D)), tmp_path / "ir").graph["einsum"]
    assert (layer.get_attr("inp0_shape"), layer.get_attr("out_shape")) == ((S, D), (S, S))
    assert list(layer.get_output_variable().shape) == [S, S]
    assert layer.get_attr("equation").count(",") == 1 and len(layer.get_attr("equation").split("->")[1]) == 2


def test_stock_frontend_restores_fixes() -> None:
    with stock_frontend():
        assert not fixes_installed()
        install_frontend_fixes()  # e.g. via attention_layers.register(): must not undo the reproduction
        assert not fixes_installed()
    assert fixes_installed()
    with pytest.raises(KeyError):
        with stock_frontend("Conv2d"):
            pass

