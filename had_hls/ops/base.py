"""One attention kind, every face of it behind one interface (after FINN's custom ops: one op, HLS and RTL
backends, verified by C-sim and RTL simulation on the same inputs).

An op holds no code of its own beyond the choice of kind: each face delegates to the room that owns it
(had_hls.layer / had_hls.spec for the spec, had_hls.golden, had_hls.hls for the hls4ml layer and its templates,
had_hls.rtl for the Verilog module and its parameters, had_hls.verify.rtlsim for RTL simulation,
had_hls.estimate.point for synthesis). Heavy rooms (torch, hls4ml, Yosys) load only when their face is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from had_hls.config import Project
    from had_hls.nn.attention import HammingAttention
    from had_hls.rtl.generate import RtlDesign
    from had_hls.spec import AttentionSpec


class OpUnavailable(NotImplementedError):
    """The op has no such face (e.g. hls4ml's stock route has no bit-exact golden and no RTL twin)."""


class AttentionOp:
    """The faces of one attention kind. Subclasses set :attr:`kind` and override what differs."""

    kind: ClassVar[str] = ""
    #: hls4ml layer class(es) the op's converted model holds (documentation and checks).
    hls_layer: ClassVar[str] = ""
    #: the Verilog top of the op's RTL twin (templates/rtl), or "" when it has none.
    rtl_module: ClassVar[str] = ""

    # ---------------------------------------------------------------------------------------------- spec
    def module(self, layer: HammingAttention, seq_len: int | None = None) -> Any:
        """The torch module of this kind built from the project's (HAD) layer: same weights."""
        return layer

    def spec(self, project: Project, layer: HammingAttention | None = None) -> AttentionSpec:
        """The frozen spec (weights, tables, precision) of this kind (had_hls.layer.build_specs)."""
        from had_hls.layer import build_specs

        had, fp = build_specs(project, layer)
        return {"had": had, "fp": fp}[self.kind]

    # ---------------------------------------------------------------------------------------------- golden
    def golden(self, spec: AttentionSpec, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Golden output (float values of the result type) of one input (L, E) (had_hls.golden)."""
        from had_hls import golden

        return golden.attention(spec, x, mask)

    def golden_trace(self, spec: AttentionSpec, x: np.ndarray, mask: np.ndarray | None = None) -> Any:
        from had_hls import golden

        return golden.attention_trace(spec, x, mask)

    # ---------------------------------------------------------------------------------------------- hls4ml
    def register(self) -> None:
        """Register the op's hls4ml layer, its templates and its PyTorch handler (had_hls.hls.registration)."""
        from had_hls.hls.registration import register

        register()

    def convert(self, layer: HammingAttention, seq_len: int, folder: str | Path, precision: Any = None,
                target: Any = None, with_mask: bool = False, project_name: str | None = None) -> Any:
        """The hls4ml ModelGraph of this kind (written by ``.write()``, C-simulated by ``.compile()``)."""
        from had_hls.hls.convert import convert_attention

        return convert_attention(self.module(layer), seq_len, folder, precision, target, with_mask=with_mask,
                                 project_name=project_name or f"{self.kind}_attention")

    def csim(self, model: Any, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """C-simulation (g++ via hls4ml) of a compiled model on K inputs (K, L, E) -> (K, L, E)."""
        k = len(x)
        inputs = x.reshape(k, -1) if mask is None else [x.reshape(k, -1), mask.astype(np.float64)]
        return np.asarray(model.predict(inputs), dtype=np.float64).reshape(x.shape)

    # ---------------------------------------------------------------------------------------------- RTL
    def rtl_design(self, spec: AttentionSpec, lanes: int) -> RtlDesign:
        """The RTL module's parameters, tables and memory files for ``spec`` at P = ``lanes`` (had_hls.rtl)."""
        from had_hls.rtl.generate import design_for

        return design_for(spec, lanes)

    def rtlsim(self, spec: AttentionSpec, x: np.ndarray, mask: np.ndarray | None, csim_y: np.ndarray | None,
               workdir: Path, simulator: str, lanes: int, **kw: Any) -> dict[str, Any]:
        """RTL simulation on K inputs against golden (and C-sim): the cosim dict of one layer."""
        from had_hls.verify.rtlsim import cosim_layer

        return cosim_layer(spec, x, mask, csim_y, workdir, simulator, lanes, **kw)

    def synth(self, design: RtlDesign, work: Path, cache: Path | None, **kw: Any) -> dict[str, Any]:
        """Yosys synthesis of the RTL module (had_hls.estimate.point, cached)."""
        from had_hls.estimate.point import synth_point

        return synth_point(design, work, cache, **kw)
