"""hls4ml's stock route: standard attention from stock hls4ml layers (had_hls.hls.stock_attention).

A float baseline, not a bit-exact twin: no spec, no golden, no RTL module; its C-sim compares with torch."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from had_hls.ops.base import AttentionOp, OpUnavailable

if TYPE_CHECKING:
    from had_hls.nn.attention import HammingAttention


class StockAttentionOp(AttentionOp):
    kind: ClassVar[str] = "stock"
    hls_layer: ClassVar[str] = "Dense / Reshape / Einsum / Softmax (stock hls4ml)"
    rtl_module: ClassVar[str] = ""

    def module(self, layer: HammingAttention, seq_len: int | None = None) -> Any:
        from had_hls.hls.stock_attention import StockAttention
        from had_hls.layer import fp_layer

        if seq_len is None:
            raise ValueError("the stock route fixes the sequence length at construction: give seq_len")
        return StockAttention(fp_layer(layer), seq_len)

    def spec(self, project: Any, layer: Any = None) -> Any:
        raise OpUnavailable("stock hls4ml attention has no had_hls spec: its types are hls4ml configuration")

    def golden(self, spec: Any, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        raise OpUnavailable("stock hls4ml attention has no bit-exact golden model (compare with torch)")

    golden_trace = golden

    def register(self) -> None:
        """Stock layers need no registration; the front-end fixes are enabled around the conversion."""

    def convert(self, layer: HammingAttention, seq_len: int, folder: str | Path, precision: Any = None,
                target: Any = None, with_mask: bool = False, project_name: str | None = None) -> Any:
        from had_hls.hls.stock_attention import convert_stock_attention
        from had_hls.layer import fp_layer

        if with_mask:
            raise OpUnavailable("stock hls4ml attention takes no key padding mask")
        kw: dict[str, Any] = {}
        if target is not None:
            kw = {"backend": target.backend, "io_type": target.io_type}
        return convert_stock_attention(fp_layer(layer), seq_len, folder, **kw)[1]

    def model_target(self, project: Any) -> Any:
        """hls4ml's einsum and softmax layers need io_parallel (had_hls.hls.model_convert.convert_model)."""
        from had_hls.hls.convert import target_for

        return target_for(project, io_type="io_parallel")

    def convert_model(self, model: Any, seq_shape: tuple[int, int], folder: str | Path, precision: Any = None,
                      target: Any = None, trace_attention: bool = False) -> Any:
        """A whole encoder with every attention built from stock hls4ml ops (``route='stock'``: float attention,
        no top-N); its other layers are ours."""
        from had_hls.hls.model_convert import convert_model

        return convert_model(model, seq_shape, folder, precision, target, route="stock",
                             trace_attention=trace_attention)

    def rtl_design(self, spec: Any, lanes: int) -> Any:
        raise OpUnavailable("stock hls4ml attention has no RTL twin")

    def rtlsim(self, *args: Any, **kw: Any) -> dict[str, Any]:
        raise OpUnavailable("stock hls4ml attention has no RTL twin")

    def synth(self, *args: Any, **kw: Any) -> dict[str, Any]:
        raise OpUnavailable("stock hls4ml attention has no RTL twin to synthesize (Vitis synthesizes its HLS)")


    synth_cache_file = prepare_synth = fmax = synth
