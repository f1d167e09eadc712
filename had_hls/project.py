"""The project file: the one place that lists its sections, and the one entry that loads it.

Every command, the API and the pipeline load a project through :func:`load_project`; nothing registers itself on
import. A new section is a dataclass in its room (``validate()`` for cross-field rules) and one line in
:data:`SECTIONS`. :func:`check_datapath` holds the rules that join sections (memory, lanes, precision), for the
stages that build the hardware layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from had_hls.config import (
    BASE_SECTIONS,
    ConfigError,
    Project,
    precision_config_error,
    read_project_file,
)
from had_hls.config import parse_project as _parse_with
from had_hls.data.listops import ListOpsSection
from had_hls.distill.config import DistillSection, TeacherSection
from had_hls.hls.model_config import ConvertSection
from had_hls.precision import PrecisionError
from had_hls.rtl.config import RtlSection, check_lanes
from had_hls.widths import check_precision

# Top-level key -> section dataclass, in the order the "allowed top-level keys" message lists them.
SECTIONS: dict[str, type] = {
    **BASE_SECTIONS,  # model, hls, csim (had_hls.config)
    "teacher": TeacherSection,  # had_hls.distill.config
    "distill": DistillSection,  # had_hls.distill.config
    "listops": ListOpsSection,  # had_hls.data.listops, for dataset: listops
    "rtl": RtlSection,  # had_hls.rtl.config
    "convert": ConvertSection,  # had_hls.hls.model_config
}


def load_project(path: str | Path) -> Project:
    """Read and validate a project YAML. Raises ConfigError (one line) on any problem: a path that is empty, a
    folder or missing; a file that is not UTF-8 text; invalid YAML, a key given twice, an infinity or NaN; then
    every rule of the schema (:func:`parse_project`)."""
    raw, path = read_project_file(path)
    return parse_project(raw, path)


def parse_project(raw: Any, path: Path) -> Project:
    """A parsed project file (a dict, e.g. built by the sweep) -> the validated Project, every section known."""
    return _parse_with(raw, path, SECTIONS)


def check_datapath(project: Project, vectors: int | None = None, vectors_key: str = "csim.vectors") -> None:
    """The rules that join sections, for the commands that build the hardware layer (csim, cosim, report, sweep):
    the memory the layer's simulation on ``vectors`` inputs (default ``csim.vectors``) needs against this machine's
    (had_hls.limits), rtl.lanes against seq_len, and the precision against the layer's shape (internal widths,
    shifts), each a ConfigError naming the key. Memory first: a seq_len of 10^9 is too large, whatever the types.
    (Not part of :func:`parse_project`: distill and eval never build the hardware layer.)"""
    from had_hls.errors import UserError
    from had_hls.limits import check_layer_memory

    m = project.model
    try:
        k = project.csim.vectors if vectors is None else vectors
        check_layer_memory(m.seq_len, m.embed_dim, m.num_heads, k, vectors_key)
    except UserError as err:
        raise ConfigError(str(err)) from None
    rtl = project.sections.get("rtl")
    if rtl is not None and "rtl" in project.present:
        check_lanes(rtl.lanes, m.seq_len)
    prec = project.precision
    for kind in ("had", "fp"):
        try:
            check_precision(kind, m.seq_len, m.head_dim, m.top_n, prec)
        except PrecisionError as err:
            raise precision_config_error(err) from None
