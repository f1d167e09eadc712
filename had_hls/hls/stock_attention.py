"""hls4ml's own route for attention: standard multi-head self-attention from stock hls4ml 1.3.0 PyTorch layers.

hls4ml 1.3.0 has no ``MultiheadAttention``/``matmul``/``bmm`` for PyTorch. :class:`StockAttention` rewrites the float
attention of a :class:`had_hls.nn.HammingAttention` (its q/k/v/out projections) with only layers the PyTorch front
end converts: ``Linear`` (-> Dense -> pointwise Conv1D), ``Tensor.view`` (-> Reshape), ``torch.einsum`` (-> Einsum),
``torch.softmax`` (-> Softmax) and ``nn.Flatten`` (-> Reshape)::

    q, k, v = Linear(x).view(L, H, d)                 # 1/sqrt(d) folded into the q projection
    s   = einsum('bqhd,bkhd->bhqk', q, k)             # (H, L, L) scores, all heads in one Einsum
    p   = softmax(s, dim=-1)                          # per (head, query) row: n_outer = H*L
    ctx = einsum('bhqk,bkhd->bqhd', p, v)             # (L, H, d)
    out = out_proj(flatten(ctx))                      # (L, E)

It only converts correctly with the front-end fixes (:mod:`had_hls.hls.frontend_fixes`, enabled here): the
Linear weights need the transpose, the softmax needs ``n_outer``, the second einsum the first one's real shape.

Limits: dense attention only (no top-N, no key padding mask); the sequence length is fixed at construction (the
views need it); every head keeps a full ``L x L`` score buffer (like upstream PR #1163's reference template);
softmax is hls4ml's LUT softmax (``stable``), not the spec's exp table, and the types are hls4ml configuration, not
:class:`had_hls.precision.Precision`. It is the "what stock hls4ml gives you" baseline, not a bit-exact twin of
``FPAttention``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import hls4ml
import torch
from torch import nn

from had_hls.hls import frontend_fixes
from had_hls.nn.attention import HammingAttention

#: hls4ml layer names of the traced :class:`StockAttention` (FX node names of its forward).
SCORES_LAYER = "einsum"
SOFTMAX_LAYER = "softmax"


class StockAttention(nn.Module):
    """Standard (float-mode) multi-head self-attention of ``attn`` for inputs (B, ``seq_len``, E), stock ops only."""

    def __init__(self, attn: HammingAttention, seq_len: int) -> None:
        super().__init__()
        if attn.top_n.enabled:
            raise ValueError("StockAttention computes dense attention; the module has top-N enabled")
        if seq_len < 1:
            raise ValueError(f"seq_len must be >= 1, got {seq_len}")
        self.seq_len = seq_len
        self.embed_dim = attn.embed_dim
        self.num_heads = attn.num_heads
        self.head_dim = attn.head_dim
        bias = attn.q_proj.bias is not None
        e = self.embed_dim
        self.q_proj = nn.Linear(e, e, bias=bias)
        self.k_proj = nn.Linear(e, e, bias=bias)
        self.v_proj = nn.Linear(e, e, bias=bias)
        self.out_proj = nn.Linear(e, e, bias=bias)
        self.flatten = nn.Flatten(start_dim=2)
        scale = 1.0 / math.sqrt(self.head_dim)
        with torch.no_grad():
            for mine, theirs, factor in (
                (self.q_proj, attn.q_proj, scale),
                (self.k_proj, attn.k_proj, 1.0),
                (self.v_proj, attn.v_proj, 1.0),
                (self.out_proj, attn.out_proj, 1.0),
            ):
                mine.weight.copy_(theirs.weight * factor)
                if bias:
                    mine.bias.copy_(theirs.bias * factor)

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        return t.view(-1, self.seq_len, self.num_heads, self.head_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, seq_len, E) -> (B, seq_len, E)."""
        q = self._heads(self.q_proj(x))
        k = self._heads(self.k_proj(x))
        v = self._heads(self.v_proj(x))
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k)
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.einsum("bhqk,bkhd->bqhd", probs, v)
        return self.out_proj(self.flatten(ctx))


def stock_attention_config(
    model: StockAttention,
    default_precision: str = "ap_fixed<32,12>",
    scores_precision: str = "ap_fixed<24,6,AP_RND,AP_SAT>",
    table_size: int = 4096,
    backend: str = "Vitis",
) -> dict[str, Any]:
    """hls4ml config (granularity 'name', ``channels_last_conversion='off'``) with a fine softmax.

    The stable softmax indexes its exp table with the top ``log2(table_size)`` bits of ``x - max(x)`` in the scores'
    type less its sign bit, so the scores get a narrow saturating type (``scores_precision``: |score| < 32). The
    LUT types are top-level per-layer keys (hls4ml ignores them inside 'Precision'): exp and 1/sum in (0, 1], the sum
    of at most 16 exps (raise ``inv_inp_t`` for seq_len > 16).
    """
    with frontend_fixes.enabled():
        cfg = hls4ml.utils.config_from_pytorch_model(
            model,
            input_shape=(model.seq_len, model.embed_dim),
            granularity="name",
            backend=backend,
            default_precision=default_precision,
            channels_last_conversion="off",
        )
    layers = cfg["LayerName"]
    inv_inp_int = max(5, math.ceil(math.log2(model.seq_len + 1)) + 1)
    layers[SCORES_LAYER]["Precision"]["result"] = scores_precision
    softmax = layers[SOFTMAX_LAYER]
    softmax["TableSize"] = table_size
    softmax["exp_table_t"] = "ap_ufixed<18,1,AP_RND,AP_SAT>"
    softmax["inv_table_t"] = "ap_ufixed<18,2,AP_RND,AP_SAT>"
    softmax["inv_inp_t"] = f"ap_ufixed<18,{inv_inp_int},AP_RND,AP_SAT>"
    softmax["Precision"]["accum"] = f"ap_ufixed<24,{inv_inp_int + 1}>"
    softmax["Precision"]["result"] = "ap_ufixed<18,1,AP_RND,AP_SAT>"
    return cfg


def convert_stock_attention(
    attn: HammingAttention,
    seq_len: int,
    output_dir: str | Path,
    backend: str = "Vitis",
    io_type: str = "io_parallel",
    **config_kwargs: Any,
) -> tuple[StockAttention, Any]:
    """(torch twin, hls4ml ModelGraph not yet compiled) of ``attn``'s standard attention via stock hls4ml layers."""
    model = StockAttention(attn, seq_len).eval()
    cfg = stock_attention_config(model, backend=backend, **config_kwargs)
    with frontend_fixes.enabled():
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            model, hls_config=cfg, output_dir=str(output_dir), backend=backend, io_type=io_type
        )
    return model, hls_model
