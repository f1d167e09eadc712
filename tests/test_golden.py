"""The golden model against PyTorch: same top-N sets as torch, outputs within the provable quantization bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import seeded_layer

from had_hls import golden
from had_hls.nn import BinarizeMode, TopN
from had_hls.precision import Precision
from had_hls.spec import build_spec, spec_from_module
from had_hls.verify.bounds import output_error_bound
from had_hls.verify.csim import torch_reference, with_hardware_weights

SHAPES = [  # (L, E, H, N)
    (8, 16, 2, 3),
    (13, 24, 3, 1),  # d = 8, N = 1, L odd
    (12, 16, 2, 12),  # N = L
    (37, 64, 2, 8),
]


def _inputs(spec, batch: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, spec.seq_len, spec.embed_dim))


def _torch_model(layer, kind: str, seq: int, spec):
    model = with_hardware_weights(layer, spec)
    if kind == "fp":
        model.set_mode(BinarizeMode.FLOAT)
        model.top_n = TopN()
    return model


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "L{}_E{}_H{}_N{}".format(*s))
@pytest.mark.parametrize("kind", ["had", "fp"])
@pytest.mark.parametrize("masked", [False, True])
def test_golden_within_bound_of_torch_with_hardware_weights(shape, kind: str, masked: bool):
    seq, embed, heads, n = shape
    layer = seeded_layer(embed, heads, n, seed=seq)
    spec = spec_from_module(layer, kind, seq, key_padding_mask=masked)
    x = _inputs(spec, 6, seed=embed)
    mask = None
    if masked:
        mask = np.zeros((6, seq), dtype=bool)
        for i in range(6):
            mask[i, seq - i * seq // 8 :] = True
    xq = spec.precision.input.to_float(spec.precision.input.from_float(x))
    ref = torch_reference(_torch_model(layer, kind, seq, spec), xq, mask)
    for i in range(len(x)):
        trace = golden.attention_trace(spec, x[i], None if mask is None else mask[i])
        y = spec.precision.result.to_float(trace.y)
        err = np.abs(y - ref[i]).max()
        assert err <= output_error_bound(spec, trace), f"vector {i}: error {err}"
        assert np.abs(ref[i]).max() > 10 * spec.precision.result.lsb  # outputs are not trivially zero


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "L{}_E{}_H{}_N{}".format(*s))
def test_golden_keeps_the_same_keys_as_torch(shape):
    seq, embed, heads, n = shape
    layer = seeded_layer(embed, heads, n, seed=seq + 1)
    spec = spec_from_module(layer, "had", seq)
    model = with_hardware_weights(layer, spec)
    model.record_maps = True
    x = _inputs(spec, 4, seed=3)
    xq = spec.precision.input.to_float(spec.precision.input.from_float(x))
    torch_reference(model, xq, None)
    kept_torch = model.maps.kept.numpy()
    for i in range(len(x)):
        trace = golden.attention_trace(spec, x[i])
        assert np.array_equal(trace.kept, kept_torch[i])
        assert (trace.kept.sum(-1) == n).all()
        d = spec.head_dim
        logits = model.maps.logits[i].numpy()
        assert np.array_equal(logits, float(model.alpha) * (d - 2 * trace.scores))


def test_hard_mode_torch_and_golden_scores_are_hamming_distances():
    layer = seeded_layer(16, 2, 4)
    spec = spec_from_module(layer, "had", 9)
    trace = golden.attention_trace(spec, _inputs(spec, 1, 0)[0])
    assert trace.scores.min() >= 0 and trace.scores.max() <= spec.head_dim


def test_exp_table_is_the_softmax_weight_of_a_hamming_step():
    prec = Precision()
    alpha = 0.3
    spec = build_spec(
        "had",
        seq_len=4,
        num_heads=1,
        top_n=2,
        sigma_q=math.sqrt(alpha) * 2,
        sigma_k=math.sqrt(alpha) * 2,
        weights={k: (np.eye(4), None) for k in "qkvo"},
        precision=prec,
    )
    f = prec.exp_table.frac
    assert spec.exp_table[0] == 2**f
    assert np.all(np.diff(spec.exp_table) <= 0)
    expected = np.floor(2**f * np.exp(-2 * spec.alpha * np.arange(spec.head_dim + 1)) + 0.5)
    assert np.array_equal(spec.exp_table, expected)


def test_recip_table_approximates_one_over_mantissa():
    prec = Precision()
    spec = build_spec(
        "fp",
        seq_len=4,
        num_heads=1,
        top_n=4,
        sigma_q=1,
        sigma_k=1,
        weights={k: (np.eye(4), None) for k in "qkvo"},
        precision=prec,
    )
    r = prec.recip_index_bits
    m = 1 + np.arange(2**r) / 2**r
    approx = spec.recip_table / 2**prec.recip_table.frac
    assert np.all(np.abs(approx * m - 1) <= 2.0**-(r) + 2.0**-prec.recip_table.frac)


def test_a_corrupted_table_changes_golden_outputs():
    layer = seeded_layer(16, 2, 4)
    spec = spec_from_module(layer, "had", 10)
    x = _inputs(spec, 1, 5)[0]
    good = golden.attention(spec, x)
    spec.exp_table[1] += 4000
    assert np.count_nonzero(golden.attention(spec, x) != good) > 0


def test_sigma_calibration_is_mean_of_batch_stds():
    layer = seeded_layer(16, 2, 4, mode="hard")
    xs = [torch.randn(4, 9, 16, dtype=torch.float64) for _ in range(3)]
    layer.start_calibration()
    for x in xs:
        layer(x)
    layer.finish_calibration()
    with torch.no_grad():
        q_std = np.mean([float(layer.q_proj(x).std()) for x in xs])
        k_std = np.mean([float(layer.k_proj(x).std()) for x in xs])
    assert float(layer.sigma_q) == pytest.approx(q_std, rel=1e-6)
    assert float(layer.sigma_k) == pytest.approx(k_std, rel=1e-6)


@pytest.mark.parametrize("masked", [False, True])
def test_calibrate_records_what_a_forward_pass_records(masked):
    """layer.calibrate(x) (projections only, what lets L = 8192 calibrate quickly) gives the very sigmas that
    layer(x) gives."""
    xs = [torch.randn(3, 11, 16, dtype=torch.float64) for _ in range(3)]
    mask = torch.zeros(3, 11, dtype=torch.bool)
    mask[1, 7:] = True
    sigmas = []
    for calibrate in (False, True):
        layer = seeded_layer(16, 2, 4, mode="hard")
        layer.start_calibration()
        for x in xs:
            m = mask if masked else None
            layer.calibrate(x, m) if calibrate else layer(x, m)
        layer.finish_calibration()
        sigmas.append((float(layer.sigma_q), float(layer.sigma_k)))
    assert sigmas[0] == sigmas[1]
    assert sigmas[0][0] != 0.7  # calibrated, not the seeded value


def test_calibrate_needs_start_calibration():
    with pytest.raises(RuntimeError, match="start_calibration"):
        seeded_layer(16, 2, 4).calibrate(torch.randn(1, 4, 16, dtype=torch.float64))


@pytest.mark.parametrize("kind", ["had", "fp"])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("rows", [1, 5, 13])
def test_trace_of_the_first_rows_is_the_full_trace_cut(kind, masked, rows):
    """attention_trace(rows=R), what a long-sequence co-simulation compares its first rows with, holds exactly the
    full trace's first R query rows (scores, kept, weights, ctx, y) and every token's projections."""
    seq = 13
    layer = seeded_layer(16, 2, 4, mode="hard")
    spec = spec_from_module(layer, kind, seq, key_padding_mask=masked)
    x = _inputs(spec, 1, seed=rows)[0]
    mask = np.zeros(seq, dtype=bool)
    if masked:
        mask[9:] = True
    full = golden.attention_trace(spec, x, mask if masked else None)
    cut = golden.attention_trace(spec, x, mask if masked else None, rows=rows)
    for name in ("x", "q_acc", "k_acc", "v"):
        assert np.array_equal(getattr(cut, name), getattr(full, name)), name
    for name in ("scores", "kept", "weights"):
        assert np.array_equal(getattr(cut, name), getattr(full, name)[:, :rows]), name
    for name in ("ctx", "y"):
        assert np.array_equal(getattr(cut, name), getattr(full, name)[:rows]), name
    assert cut.y.shape == (rows, 16)


def test_trace_rows_out_of_range():
    spec = spec_from_module(seeded_layer(16, 2, 4, mode="hard"), "had", 6)
    with pytest.raises(ValueError, match="rows: 7 is not in 1..6"):
        golden.attention_trace(spec, np.zeros((6, 16)), rows=7)
