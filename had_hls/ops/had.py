"""HAD attention: binarized Q/K, Hamming scores, top-N, exp table (nnet_had_attention.h, had_attention_core.v)."""

from __future__ import annotations

from typing import ClassVar

from had_hls.ops.base import AttentionOp


class HadAttentionOp(AttentionOp):
    kind: ClassVar[str] = "had"
    hls_layer: ClassVar[str] = "HammingAttention (binary mode)"
    rtl_module: ClassVar[str] = "had_attention_core"
