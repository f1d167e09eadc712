"""The FP baseline: the same weights in float (softmax) attention, no top-N; bit-exact twin in HLS and RTL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from had_hls.ops.base import AttentionOp, OpUnavailable

if TYPE_CHECKING:
    from had_hls.config import Project
    from had_hls.nn.attention import HammingAttention
    from had_hls.rtl.generate import RtlDesign
    from had_hls.spec import AttentionSpec


class FpAttentionOp(AttentionOp):
    kind: ClassVar[str] = "fp"
    hls_layer: ClassVar[str] = "HammingAttention (float mode)"
    rtl_module: ClassVar[str] = "fp_attention_core"

    def module(self, layer: HammingAttention, seq_len: int | None = None) -> Any:
        from had_hls.layer import fp_layer

        return fp_layer(layer)


class StrongFpAttentionOp(FpAttentionOp):
    """The strong FP baseline (what an FPGA engineer builds for fixed-point attention): the FP layer with Q/K at 8
    bits (had_hls.spec.strong_fp_precision), two score products per DSP48E2 and an exp table per pair of lanes
    (had_hls.rtl.generate.design_for ``fp_baseline="strong"``). An RTL variant of the FP core: its spec, golden, RTL
    design, simulation and synthesis; no hls4ml layer of its own. ``had-hls sweep --strong-fp`` runs it."""

    kind: ClassVar[str] = "fp_strong"
    hls_layer: ClassVar[str] = ""
    rtl_module: ClassVar[str] = "fp_attention_core"

    def spec(self, project: Project, layer: HammingAttention | None = None) -> AttentionSpec:
        """The FP spec with the strong baseline's types (had_hls.estimate.point.with_precision); kind 'fp'."""
        from had_hls.estimate.point import with_precision
        from had_hls.layer import kind_spec
        from had_hls.spec import strong_fp_precision

        fp = kind_spec(project, "fp", layer)
        return with_precision(fp, strong_fp_precision(fp.precision))

    def rtl_design(self, spec: AttentionSpec, lanes: int) -> RtlDesign:
        from had_hls.rtl.generate import design_for

        return design_for(spec, lanes, "strong")

    def rtlsim(self, spec: AttentionSpec, x: np.ndarray, mask: np.ndarray | None, csim_y: np.ndarray | None,
               workdir: Path, simulator: str, lanes: int, **kw: Any) -> dict[str, Any]:
        """RTL simulation of the strong core (the given ``design``, else :meth:`rtl_design`)."""
        kw["design"] = kw.get("design") or self.rtl_design(spec, lanes)
        return super().rtlsim(spec, x, mask, csim_y, workdir, simulator, lanes, **kw)

    def convert(self, *args: Any, **kw: Any) -> Any:
        raise OpUnavailable("the strong FP baseline is an RTL variant of the FP core: no hls4ml layer of its own")

    convert_model = convert
