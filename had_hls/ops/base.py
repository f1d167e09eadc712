"""One attention kind, every face of it behind one interface (after FINN's custom ops: one op, HLS and RTL
backends, verified by C-sim and RTL simulation on the same inputs).

An op holds no code of its own beyond the choice of kind: each face delegates to the room that owns it
(had_hls.layer / had_hls.spec for the spec, had_hls.golden, had_hls.hls for the hls4ml layer and its templates,
had_hls.rtl for the Verilog module and its parameters, had_hls.verify.rtlsim for RTL simulation,
had_hls.estimate.point and had_hls.estimate.synth for synthesis and the Fmax proxy, here or in folders prepared to
run elsewhere, had_hls.hls.model_convert for a whole encoder with this kind of attention). Heavy rooms (torch,
hls4ml, Yosys) load only when their face is used.
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
        """The frozen spec (weights, tables, precision) of this kind (had_hls.layer.kind_spec, what
        had_hls.layer.build_specs gives for it). Pass ``layer`` (had_hls.layer.build_layer) when several kinds of one
        project are built: without it each call builds the layer again."""
        from had_hls.layer import kind_spec

        return kind_spec(project, self.kind, layer)

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

    def model_target(self, project: Project) -> Any:
        """The HLSTarget of a whole-encoder project with this kind of attention (had_hls.hls.convert.target_for at
        the generated projects' io_type, had_hls.hls.model_convert.MODEL_IO_TYPE)."""
        from had_hls.hls.convert import target_for
        from had_hls.hls.model_convert import MODEL_IO_TYPE

        return target_for(project, io_type=MODEL_IO_TYPE)

    def convert_model(self, model: Any, seq_shape: tuple[int, int], folder: str | Path, precision: Any = None,
                      target: Any = None, trace_attention: bool = False) -> Any:
        """A whole encoder -> one hls4ml project (had_hls.hls.model_convert.convert_model): its attention layers
        in the mode they hold (binary -> HAD layer, float -> FP layer); returns the ConvertedModel."""
        from had_hls.hls.model_convert import convert_model

        return convert_model(model, seq_shape, folder, precision, target, route="native",
                             trace_attention=trace_attention)

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

    def synth_cache_file(self, design: RtlDesign, hierarchical: bool = False) -> str:
        """The file name :meth:`synth` keeps its result under in the cache folder (had_hls.estimate.point.synth_key)."""
        from had_hls.estimate.point import synth_key

        return f"synth-{synth_key(design, hierarchical)}.json"

    def prepare_synth(self, design: RtlDesign, folder: Path, hierarchical: bool = False) -> Path:
        """A self-contained folder that synthesizes the RTL module on any machine with Yosys
        (had_hls.estimate.synth.prepare_xilinx); its result belongs under :meth:`synth_cache_file`."""
        from had_hls.estimate.synth import prepare_xilinx

        return prepare_xilinx(design, folder, hierarchical)

    def fmax(self, design: RtlDesign, work: Path, cache: Path | None, target_mhz: float, **kw: Any) -> dict[str, Any]:
        """The ECP5 Fmax proxy of the RTL module (had_hls.estimate.point.fmax_point, cached)."""
        from had_hls.estimate.point import fmax_point

        return fmax_point(design, work, cache, target_mhz, **kw)

    # ---------------------------------------------------------------------------------------------- top-N unit
    def topn_synth(self, design: RtlDesign, work: Path, cache: Path | None, **kw: Any) -> dict[str, Any]:
        """Yosys synthesis of the module's top-N unit alone (HAD only: the other kinds have none)."""
        raise OpUnavailable(f"{self.kind} attention has no top-N unit")

    def topn_cache_file(self, design: RtlDesign) -> str:
        """The file name :meth:`topn_synth` keeps its result under in the cache folder."""
        raise OpUnavailable(f"{self.kind} attention has no top-N unit")

    def prepare_topn_synth(self, design: RtlDesign, folder: Path) -> Path:
        """A self-contained folder that synthesizes the top-N unit alone (see :meth:`prepare_synth`)."""
        raise OpUnavailable(f"{self.kind} attention has no top-N unit")
