"""Binarization modes: STE gradient window, tanh -> sign as c -> 0, hard-mode logits identity."""

from __future__ import annotations

import math

import pytest
import torch

from had_hls.nn import STE_WINDOW, BinarizeMode, HammingAttention, binarize, hamming_distance, scaled_tanh, sign_pm1


def test_sign_of_zero_is_plus_one():
    assert sign_pm1(torch.tensor([-2.0, -0.0, 0.0, 3.0])).tolist() == [-1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_ste_forward_is_sigma_sign_and_gradient_passes_only_inside_window(sigma: float):
    u = torch.tensor([-3.0, -2.0, -1.99, -0.5, 0.0, 0.5, 1.99, 2.0, 2.01, 5.0], dtype=torch.float64)
    x = (u * sigma).requires_grad_(True)
    y = binarize(x, torch.tensor(sigma, dtype=torch.float64), "ste")
    assert torch.equal(y.detach(), sigma * sign_pm1(u))
    y.sum().backward()
    expected = (u.abs() <= STE_WINDOW).double()  # d(sigma * u)/dx = 1 inside the window
    assert torch.allclose(x.grad, expected)


def test_hard_mode_has_no_gradient_path():
    x = torch.randn(5, requires_grad=True)
    assert not binarize(x, torch.tensor(1.0), "hard").requires_grad


@pytest.mark.parametrize("c", [1.0, 0.5, 0.2, 0.05, 0.01])
def test_scaled_tanh_tends_to_sign_with_stated_rate(c: float):
    u = torch.linspace(-4, 4, 801, dtype=torch.float64)
    u = u[u != 0]
    err = (scaled_tanh(u, c) - sign_pm1(u)).abs()
    assert torch.all(err <= 2 * torch.exp(-2 * u.abs() / c) + 1e-12)


def test_scaled_tanh_converges_pointwise_as_c_shrinks():
    u = torch.tensor([-0.3, -0.01, 0.02, 0.4], dtype=torch.float64)
    errs = [float((scaled_tanh(u, c) - sign_pm1(u)).abs().max()) for c in (1.0, 0.1, 0.01, 0.001)]
    assert errs == sorted(errs, reverse=True) and errs[-1] < 1e-6


def test_scaled_tanh_at_large_c_keeps_teacher_logit_scale():
    u = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)
    assert torch.allclose(scaled_tanh(u, 5.0), u, rtol=0.01)  # max(c,1) undoes the 1/c shrink


def test_unknown_mode_names_allowed_values():
    with pytest.raises(ValueError, match="float, tanh, ste, hard"):
        BinarizeMode.parse("sharp")


@pytest.mark.parametrize("embed,heads", [(16, 2), (24, 3), (32, 1)])
def test_hard_mode_logits_equal_alpha_times_d_minus_two_ham_exactly(embed: int, heads: int):
    torch.manual_seed(embed)
    m = HammingAttention(embed, heads, mode="hard")
    m.sigma_q.fill_(0.73)
    m.sigma_k.fill_(1.31)
    x = torch.randn(3, 11, embed)
    q, k = m._heads(m.q_proj(x)), m._heads(m.k_proj(x))
    logits, _ = m.attention_logits(q, k)
    ham = hamming_distance(q, k)
    d = m.head_dim
    assert torch.equal(logits, m.alpha * (d - 2 * ham))
    assert float(m.alpha) == pytest.approx(0.73 * 1.31 / math.sqrt(d))
