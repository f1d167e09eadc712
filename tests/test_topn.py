"""Top-N: the tie rule (smallest Hamming distance, then lower key index), padding, N as a function of L.

The torch rule (stable sort) and the golden/C++/RTL rule (counting select) are two different algorithms: they are
checked against each other and against a brute-force statement of the rule.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from had_hls import golden
from had_hls.nn import TopN, topn_keep_mask


def brute_force_keep(ham: np.ndarray, valid: np.ndarray, n: int) -> np.ndarray:
    """The rule as a specification: sort valid keys by (ham, index), keep the first min(n, valid)."""
    keep = np.zeros(ham.shape, dtype=bool)
    for row in np.ndindex(ham.shape[:-1]):
        order = sorted((int(ham[row][j]), j) for j in range(ham.shape[-1]) if valid[j])
        for _, j in order[:n]:
            keep[row][j] = True
    return keep


def test_ties_go_to_the_lower_key_index():
    ham = torch.tensor([[3, 1, 2, 1, 1, 0]])
    kept = topn_keep_mask(-ham.double(), n_keep=3)
    assert kept.tolist() == [[False, True, False, True, False, True]]  # 0 at j=5, then the 1s at j=1, j=3


def test_padded_keys_are_never_kept_and_rows_keep_min_n_valid():
    ham = torch.zeros(1, 2, 6)
    mask = torch.tensor([[False, True, True, False, True, True]])
    kept = topn_keep_mask(-ham, n_keep=4, key_padding_mask=mask)
    assert kept.sum(-1).tolist() == [[2, 2]]
    assert not kept[..., 1].any() and not kept[..., 4].any()


@pytest.mark.parametrize("seq,d,n", [(7, 8, 1), (7, 8, 7), (20, 4, 5), (33, 16, 8), (64, 2, 10)])
@pytest.mark.parametrize("masked", [False, True])
def test_torch_golden_and_brute_force_agree_on_tie_heavy_scores(seq: int, d: int, n: int, masked: bool):
    rng = np.random.default_rng(seq * 100 + d + n)
    ham = rng.integers(0, d + 1, size=(3, seq, seq))  # few distinct values: ties everywhere
    valid = rng.random(seq) > 0.3 if masked else np.ones(seq, dtype=bool)
    valid[0] = True
    expected = brute_force_keep(ham, valid, n)
    got_golden = golden.topn_select(ham, valid, n, d)
    mask = torch.tensor(~valid)[None]
    got_torch = topn_keep_mask(-torch.tensor(ham, dtype=torch.float64)[None], n, mask)[0].numpy()
    assert np.array_equal(got_golden, expected)
    assert np.array_equal(got_torch, expected)
    assert (expected.sum(-1) == min(n, valid.sum())).all()


def test_boundary_ties_are_the_common_case():
    """With d = 16 and N = 8 of 16 keys, the N-th and (N+1)-th distances tie in most rows: the tie rule matters."""
    rng = np.random.default_rng(0)
    ham = np.sort(rng.binomial(16, 0.5, size=(1000, 16)), axis=1)
    assert (ham[:, 7] == ham[:, 8]).mean() > 0.5


@pytest.mark.parametrize(
    "top_n,seq,expected",
    [
        (TopN(n=16), 128, 16),
        (TopN(n=16), 10, 10),
        (TopN(ratio=0.125), 128, 16),
        (TopN(ratio=0.125), 100, 13),
        (TopN(ratio=0.1, n_min=4), 10, 4),
        (TopN(ratio=0.5, n_max=32), 512, 32),
        (TopN(), 77, 77),
    ],
)
def test_n_fixed_or_linear_in_sequence_length(top_n: TopN, seq: int, expected: int):
    assert top_n.keep(seq) == expected


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"ratio": 0.0}, {"ratio": 1.5}, {"n": 4, "ratio": 0.5}, {"n_min": 0}])
def test_bad_top_n_settings_are_rejected(kwargs: dict):
    with pytest.raises(ValueError):
        TopN(**kwargs)
