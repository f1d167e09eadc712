"""The FP baseline: the same weights in float (softmax) attention, no top-N; bit-exact twin in HLS and RTL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from had_hls.ops.base import AttentionOp

if TYPE_CHECKING:
    from had_hls.nn.attention import HammingAttention


class FpAttentionOp(AttentionOp):
    kind: ClassVar[str] = "fp"
    hls_layer: ClassVar[str] = "HammingAttention (float mode)"
    rtl_module: ClassVar[str] = "fp_attention_core"

    def module(self, layer: HammingAttention, seq_len: int | None = None) -> Any:
        from had_hls.layer import fp_layer

        return fp_layer(layer)
