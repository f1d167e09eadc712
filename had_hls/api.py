"""The documented Python API of had-hls (re-exported by ``import had_hls``).

Two levels, as in hls4ml:

**Models** (hls4ml's habits: a config dict, then a ModelGraph that you ``compile()``, ``predict()``, ``build()``)

- :func:`config_from_pytorch_model`: hls4ml's config for a torch model holding had-hls layers
  (``had_hls.nn.HammingAttention``), with the settings those layers need (``channels_last_conversion='off'``,
  the HAD input type as the default precision, the key padding mask as ``ap_uint<1>``).
- :func:`convert_from_pytorch_model`: the hls4ml ModelGraph. A HammingAttention in a binary mode becomes the HAD
  layer (Hamming scores, counting top-N, exp-table softmax; bit-exact with ``had_hls.golden``), in float mode the
  FP baseline; both layers have an io_parallel and an io_stream entry point (docs/hls.md).

hls4ml's own ``hls4ml.converters.convert_from_pytorch_model`` works on the same models once had-hls is imported,
and gives the same ModelGraph when called with ``channels_last_conversion='off'``; with hls4ml's default
(``'full'``) it stops with one error naming that setting (a transpose in front of an (L, E) layer would change the
numbers).

**Projects** (what each ``had-hls`` command runs; a project is a YAML file, see README "Project file")

:func:`load_project`, :func:`run_csim`, :func:`run_cosim`, :func:`run_report`, :func:`run_convert`,
:func:`run_distill`, :func:`run_eval`, :func:`run_pipeline` and :func:`run_sweep`. Each checks its inputs and its
output folder before any work (``had_hls.errors.UserError`` / ``had_hls.config.ConfigError``: one line naming the key,
the value and what is allowed), writes into a temporary folder beside ``out_dir`` and swaps it in whole on success
(``had_hls.io``), and returns the dict it writes as JSON. A failing external tool raises
``had_hls.procs.ToolError`` (tool, exit status or signal, log kept under ``out_dir/logs/``).
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from had_hls.config import Project
    from had_hls.precision import Precision


# ------------------------------------------------------------------------------------------------ models
def _precision(precision: Precision | dict[str, Any] | None) -> Precision:
    """A Precision from an object, or from a dict spelled like the project file's ``hls.precision``."""
    from had_hls.config import PrecisionSection, build_section
    from had_hls.precision import Precision

    if precision is None:
        return Precision()
    if isinstance(precision, Precision):
        return precision
    if isinstance(precision, dict):
        return build_section(PrecisionSection, precision, "precision").to_precision("precision")
    raise TypeError(f"precision: expected had_hls.precision.Precision or a dict, got {type(precision).__name__}")


def _shapes(input_shape: Any) -> list[tuple[int, ...]]:
    if isinstance(input_shape, tuple):
        return [tuple(int(s) for s in input_shape)]
    if isinstance(input_shape, list) and input_shape and all(isinstance(s, tuple) for s in input_shape):
        return [tuple(int(v) for v in s) for s in input_shape]
    raise ValueError(f"input_shape: {input_shape!r}: give (L, E), or [(L, E), (L,)] with a key padding mask")


def _traceable(
    model: nn.Module, io_type: str, precision: Precision | dict[str, Any] | None, shapes: list[tuple[int, ...]]
) -> tuple[nn.Module, Precision]:
    """A float64 eval copy of ``model`` ready for hls4ml's tracer: a bare HammingAttention is wrapped in a module
    (the tracer does not trace into its root; with two input shapes the second input is the key padding mask),
    every HammingAttention gets ``precision`` (one HADAttention or FPAttention
    layer each, io_parallel or io_stream)."""
    from had_hls.hls.convert import AttentionOnly, MaskedAttentionOnly
    from had_hls.nn.attention import HammingAttention

    prec = _precision(precision)
    m = copy.deepcopy(model).double().eval()
    if isinstance(m, HammingAttention):
        m = (MaskedAttentionOnly(m) if len(shapes) == 2 else AttentionOnly(m)).eval()
    for module in m.modules():
        if isinstance(module, HammingAttention):
            module.hardware_precision = prec
    return m, prec


def config_from_pytorch_model(
    model: nn.Module,
    input_shape: tuple[int, ...] | list[tuple[int, ...]],
    granularity: str = "model",
    backend: str = "Vitis",
    default_precision: str | None = None,
    default_reuse_factor: int = 1,
    precision: Precision | dict[str, Any] | None = None,
    io_type: str = "io_parallel",
) -> dict[str, Any]:
    """hls4ml's config (``hls4ml.utils.config_from_pytorch_model``) for ``model`` with had-hls's settings.

    ``input_shape``: ``(L, E)`` (one sample, no batch axis), or ``[(L, E), (L,)]`` for a model whose second input is
    the key padding mask (True = padded key; typed ``ap_uint<1>``). Every argument has hls4ml's default but
    ``channels_last_conversion``, which is always ``'off'``: (L, E) is already channels-last.
    ``default_precision`` defaults to the HAD layer's input type (``precision.input``, ``ap_fixed<16,6>``, also
    hls4ml's default), so the model input is quantized exactly as the layer expects. ``precision``: the attention
    datapath types (:class:`had_hls.precision.Precision`, or a dict spelled like the project file's
    ``hls.precision``). Edit the returned dict as with hls4ml, then pass it as ``hls_config``.
    """
    import contextlib
    import io

    import hls4ml

    from had_hls.hls import frontend_fixes
    from had_hls.hls.registration import register

    register()
    shapes = _shapes(input_shape)
    traced, prec = _traceable(model, io_type, precision, shapes)
    with contextlib.redirect_stdout(io.StringIO()), frontend_fixes.enabled():
        cfg = hls4ml.utils.config_from_pytorch_model(
            traced,
            input_shape=shapes[0] if len(shapes) == 1 else shapes,
            granularity=granularity,
            backend=backend,
            default_precision=default_precision or prec.input.cpp(),
            default_reuse_factor=default_reuse_factor,
            channels_last_conversion="off",
        )
    if len(shapes) == 2:
        names = [p for p in inspect.signature(traced.forward).parameters][:2]
        layers = cfg.setdefault("LayerName", {})
        layers.setdefault(names[1], {})["Precision"] = {"result": "ap_uint<1>"}
    return cfg


def convert_from_pytorch_model(
    model: nn.Module,
    input_shape: tuple[int, ...] | list[tuple[int, ...]] | None = None,
    output_dir: str | Path = "my-hls-test",
    project_name: str = "myproject",
    backend: str = "Vitis",
    io_type: str = "io_parallel",
    hls_config: dict[str, Any] | None = None,
    precision: Precision | dict[str, Any] | None = None,
    part: str = "xcvu13p-flga2577-2-e",
    clock_period: float = 5,
    **kwargs: Any,
):
    """Convert a torch model holding had-hls layers to an hls4ml ``ModelGraph`` (written by ``compile()``, as in
    hls4ml; ``predict(x)`` takes ``x`` of shape (N, L*E) or (N, L, E), float64 recommended; ``build()`` needs Vitis).

    ``hls_config`` defaults to :func:`config_from_pytorch_model` ``(model, input_shape, backend=backend,
    precision=precision, io_type=io_type)``; a config of your own must use ``channels_last_conversion='off'``.
    Every HammingAttention becomes one HAD layer (binary modes) or one FP
    layer (float mode), whose C-simulation equals ``had_hls.golden`` bit for bit. Other layers are hls4ml's, with
    had-hls's [seq, feature] front-end fixes (had_hls.hls.frontend_fixes). ``kwargs`` go to hls4ml's
    ``convert_from_pytorch_model`` (e.g. ``input_data_tb``, ``output_data_tb``).
    """
    import contextlib
    import io

    import hls4ml

    from had_hls.hls import frontend_fixes
    from had_hls.hls.registration import register
    from had_hls.hls.top_style import apply_top_style

    register()
    if hls_config is None:
        if input_shape is None:
            raise ValueError("input_shape: give (L, E) (or [(L, E), (L,)] with a mask), or pass hls_config")
        hls_config = config_from_pytorch_model(
            model, input_shape, backend=backend, precision=precision, io_type=io_type
        )
        shapes = _shapes(input_shape)
    else:
        shapes = _shapes(input_shape) if input_shape is not None else _shapes(_config_shape(hls_config))
    traced, _ = _traceable(model, io_type, precision, shapes)
    with contextlib.redirect_stdout(io.StringIO()), frontend_fixes.enabled():
        hls_model = hls4ml.converters.convert_from_pytorch_model(
            traced,
            output_dir=str(output_dir),
            project_name=project_name,
            backend=backend,
            hls_config=hls_config,
            io_type=io_type,
            part=part,
            clock_period=clock_period,
            **kwargs,
        )
    apply_top_style(hls_model)  # DATAFLOW top, memory ports for large io_parallel tensors, FIFO depths (top_style)
    return hls_model


def _config_shape(cfg: dict[str, Any]) -> Any:
    shape = cfg.get("InputShape")
    if shape is None:
        raise ValueError("input_shape: the hls_config has no InputShape; give input_shape=(L, E)")
    return shape


# ------------------------------------------------------------------------------------------------ projects
def load_project(path: str | Path) -> Project:
    """Read and validate a project YAML (every section, every rule; ConfigError with one line on the first
    problem). The result is immutable; ``project.model``, ``project.hls``, ``project.precision`` etc. read it."""
    from had_hls.project import load_project as _load

    return _load(path)


def _project(project: str | Path | Project) -> Project:
    from had_hls.config import Project

    return project if isinstance(project, Project) else load_project(project)


def run_csim(
    project: str | Path | Project,
    out_dir: str | Path | None = None,
    vectors: int | None = None,
    samples: int | None = None,
    quiet: bool = True,
) -> dict[str, Any]:
    """``had-hls csim``: the project's attention layer (HAD and the FP baseline) through hls4ml and g++, compared
    bit for bit with the golden model on ``vectors`` seeded inputs (default ``csim.vectors``), and with torch
    against the proven error bound; with a checkpoint and a dataset also the whole model on ``samples`` test images.
    Writes ``out_dir`` (default projects/<name>/): csim.json (returned), csim_vectors.npz, hls/{had,fp}/."""
    from had_hls.verify.csim import run_csim as _run

    return _run(_project(project), out_dir, vectors, quiet=quiet, samples=samples)


def run_cosim(
    project: str | Path | Project,
    out_dir: str | Path | None = None,
    vectors: int | None = None,
    simulator: str | None = None,
    lanes: int | None = None,
    csim: bool = True,
    quiet: bool = True,
) -> dict[str, Any]:
    """``had-hls cosim``: the Verilog twins of the HAD and FP layers (``simulator``: 'verilator' or 'icarus'; P =
    ``lanes`` keys per cycle, 1..L) on the C-sim vectors of :func:`run_csim` (run it first, or ``csim=False``:
    seeded vectors), compared element by element with golden and the C-sim; cycles per query. Writes cosim.json
    (returned) and rtl/{had,fp}/."""
    from had_hls.verify.cosim import run_cosim as _run

    return _run(_project(project), out_dir, vectors, simulator, lanes, csim=csim, quiet=quiet)


def run_report(
    project: str | Path | Project,
    out_dir: str | Path | None = None,
    lanes: int | None = None,
    fmax: bool | None = None,
    fmax_timeout: float | None = None,
    jobs: int = 2,
    quiet: bool = True,
) -> dict[str, Any]:
    """``had-hls report``: Yosys resources, the optional nextpnr-ecp5 Fmax proxy, power from the co-simulation's
    activity and cycles of the HAD core against the FP core. Reads cosim.json of :func:`run_cosim` (run it first);
    writes report.json (returned), report.md and plots."""
    import math

    from had_hls.errors import UserError
    from had_hls.estimate.report import run_report as _run
    from had_hls.io import check_output_dir
    from had_hls.project import check_datapath
    from had_hls.rtl.config import check_lanes

    p = _project(project)
    check_datapath(p)
    if lanes is not None:
        check_lanes(lanes, p.model.seq_len, "lanes")
    if fmax_timeout is not None and not (math.isfinite(fmax_timeout) and fmax_timeout >= 0):
        raise UserError(f"fmax_timeout: {fmax_timeout} is not allowed: give a finite number >= 0 (0 = no limit)")
    check_output_dir(p.output_dir(out_dir))
    return _run(p, out_dir, lanes=lanes, fmax=fmax, fmax_timeout=fmax_timeout, jobs=jobs, quiet=quiet)


def run_convert(project: str | Path | Project, out_dir: str | Path | None = None) -> dict[str, Any]:
    """``had-hls convert``: the project's distilled encoder as one Vitis-ready hls4ml project (hls/model/),
    C-simulated on test images; returns convert.json."""
    from had_hls.hls.model_stage import run_convert as _run

    return _run(_project(project), out_dir)


def run_distill(
    project: str | Path | Project, out_dir: str | Path | None = None, restart: bool = False, quiet: bool = True
) -> dict[str, Any]:
    """``had-hls distill``: teacher (trained or cached), sigma calibration, the four HAD stages (resumable);
    writes student.pt and distill.json (returned)."""
    from had_hls.distill.trainer import run_distill as _run

    return _run(_project(project), out_dir, restart=restart, quiet=quiet)


def run_eval(
    project: str | Path | Project, out_dir: str | Path | None = None, student: str | Path | None = None
) -> dict[str, Any]:
    """``had-hls eval``: held-out test accuracy of the teacher and the HAD student; returns eval.json."""
    from had_hls.distill.evaluate import run_eval as _run

    return _run(_project(project), out_dir, student)


def run_pipeline(project: str | Path | Project, out_dir: str | Path | None = None) -> list[Any]:
    """``had-hls run``: distill (without a checkpoint) -> convert -> csim -> cosim -> report; one
    ``had_hls.pipeline.StageResult`` per stage (``status`` 'ok', 'failed' or 'skipped')."""
    from had_hls.io import check_output_dir
    from had_hls.pipeline import run_pipeline as _run

    p = _project(project)
    out = p.output_dir(out_dir)
    check_output_dir(out)
    return _run(p, out, echo=lambda _line: None)


def run_sweep(
    seq_lens: list[int],
    head_dims: list[int],
    out_dir: str | Path,
    top_ns: list[int] | None = None,
    lanes: list[int] | tuple[int, ...] = (4,),
    jobs: int | None = None,
    cluster: str | None = None,
    quiet: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """``had-hls sweep``: HAD vs FP cores over every (L, d, N, P) (N defaults to L/8), cached per point under
    ``out_dir/cache`` (a stopped sweep resumes); ``options`` are :class:`had_hls.estimate.sweep.SweepOptions`
    fields (``power``, ``fmax``, ``precision``, ...). Returns sweep.json."""
    from had_hls.estimate.sweep import SweepOptions, grid
    from had_hls.estimate.sweep import run_sweep as _run

    points = grid(list(seq_lens), list(head_dims), list(top_ns) if top_ns else None, list(lanes))
    return _run(points, out_dir, SweepOptions(**options), jobs=jobs, cluster=cluster, quiet=quiet)
