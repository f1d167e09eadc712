"""HAD attention: binarized Q/K, Hamming scores, top-N, exp table (nnet_had_attention.h, had_attention_core.v)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from had_hls.ops.base import AttentionOp

if TYPE_CHECKING:
    from had_hls.rtl.generate import RtlDesign


class HadAttentionOp(AttentionOp):
    kind: ClassVar[str] = "had"
    hls_layer: ClassVar[str] = "HammingAttention (binary mode)"
    rtl_module: ClassVar[str] = "had_attention_core"

    # the counting top-N unit, topn_stream #(P, L, D, N), at the core's lanes and shape
    def topn_synth(self, design: RtlDesign, work: Path, cache: Path | None, **kw: Any) -> dict[str, Any]:
        """UltraScale+ counts and logic depth of the core's topn_stream alone (had_hls.estimate.point.topn_point,
        cached)."""
        from had_hls.estimate.point import topn_point

        s = design.spec
        return topn_point(s.head_dim, design.lanes, s.top_n, s.seq_len, work, cache, **kw)

    def topn_cache_file(self, design: RtlDesign) -> str:
        from had_hls.estimate.point import topn_key

        s = design.spec
        return f"topn-{topn_key(s.head_dim, design.lanes, s.top_n, s.seq_len)}.json"

    def prepare_topn_synth(self, design: RtlDesign, folder: Path) -> Path:
        from had_hls.estimate.synth import prepare_topn

        s = design.spec
        return prepare_topn(s.head_dim, design.lanes, s.top_n, s.seq_len, folder)
