"""The io_stream decomposition (score -> top-N -> sparse softmax-AV) equals HammingAttention in hard mode."""

from __future__ import annotations

import pytest
import torch
from conftest import seeded_layer

from had_hls.hls.streaming import StreamingHammingAttention, slot_layout


@pytest.mark.parametrize("seq,embed,heads,n", [(9, 16, 2, 3), (13, 24, 3, 1), (7, 16, 2, 7), (20, 32, 1, 6)])
@pytest.mark.parametrize("masked", [False, True])
def test_three_stages_equal_the_fused_layer(seq: int, embed: int, heads: int, n: int, masked: bool):
    layer = seeded_layer(embed, heads, n, seed=seq)
    stages = StreamingHammingAttention(layer, seq)
    x = torch.randn(3, seq, embed, dtype=torch.float64)
    mask = None
    if masked:
        mask = torch.zeros(3, seq, dtype=torch.bool)
        mask[1, seq - 2 :] = True
        mask[2, 1:] = True
    with torch.no_grad():
        assert torch.allclose(stages(x, mask), layer(x, mask), atol=1e-12)


def test_top_n_slots_hold_kept_keys_in_key_order():
    layer = seeded_layer(16, 2, 3)
    stages = StreamingHammingAttention(layer, 9)
    x = torch.randn(1, 9, 16, dtype=torch.float64)
    with torch.no_grad():
        scores = stages.score(x)
        words = stages.topn(scores).long()
    ib, hb = slot_layout(9, layer.head_dim)
    assert ((words >> (ib + hb)) & 1).all()  # every row has N = 3 valid slots
    keys = (words >> hb) & ((1 << ib) - 1)
    assert (keys[..., 1:] > keys[..., :-1]).all()
    deltas = words & ((1 << hb) - 1)
    assert (deltas.amin(-1) == 0).all()  # the best kept key has delta 0


def test_streaming_needs_top_n():
    with pytest.raises(ValueError, match="top-N"):
        StreamingHammingAttention(seeded_layer(16, 2, None), 9)
