"""``had-hls check``, the stage: convert (not write) every hls4ml project had-hls generates for a project (hls/had,
hls/fp and, with a checkpoint and a dataset, hls/model) and check them with the rules of had_hls.hls.check;
writes DIR/check.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from had_hls.hls.check import check_graphs, check_report, write_check


def project_graphs(project: Any) -> dict[str, Any]:
    """Every hls4ml ModelGraph had-hls generates for ``project`` (converted, not written): hls/had and hls/fp (the
    layer C-sim), and hls/model (the whole encoder) when the project has a checkpoint and a dataset."""
    import tempfile

    from had_hls.hls.convert import target_for
    from had_hls.layer import build_layer, build_specs
    from had_hls.ops import pair

    target = target_for(project)
    layer = build_layer(project)
    build_specs(project, layer)  # bad precision settings: one line, exit 2
    graphs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="had-hls-check-") as tmp:
        for kind, op in pair().items():  # the HAD and FP ops (had_hls.ops): their hls4ml conversion
            graphs[f"hls/{kind}"] = _converted(
                lambda op=op, kind=kind: op.convert(
                    layer,
                    project.model.seq_len,
                    Path(tmp) / kind,
                    project.precision,
                    target,
                    with_mask=project.model.key_padding_mask,
                    project_name=f"{kind}_attention",
                )
            )
        if wants_model_project(project):
            graphs["hls/model"] = _model_graph(project, Path(tmp) / "model")
    return graphs


def wants_model_project(project: Any) -> bool:
    """``had-hls convert`` (and ``run``'s convert stage) writes hls/model: a checkpoint and a dataset section."""
    return project.model.checkpoint is not None and "teacher" in project.present


def _converted(fn: Any) -> Any:
    from had_hls.errors import UserError

    try:
        return fn()
    except ValueError as err:
        raise UserError(f"hls4ml conversion failed: {err}") from None


def _model_graph(project: Any, folder: Path) -> Any:
    from had_hls.hls.convert import target_for
    from had_hls.hls.model_config import convert_section
    from had_hls.hls.model_convert import MODEL_IO_TYPE, convert_model
    from had_hls.hls.model_project import load_models, test_set

    models = load_models(project)
    patches, _ = test_set(project, models.student, 1)
    precision = convert_section(project).model_precision(project)
    target = target_for(project, io_type=MODEL_IO_TYPE)
    return convert_model(models.student, patches.shape[1:], folder, precision, target).hls_model


def run_check(project: Any, out: str | Path | None = None) -> dict[str, Any]:
    """``had-hls check``: every generated project of ``project`` checked -> DIR/check.json (returned)."""
    out_dir = project.output_dir(out)
    report = check_report(check_graphs(project, project_graphs(project)))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_check(report, out_dir)
    return report
