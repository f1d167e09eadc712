"""Project YAML -> validated, frozen dataclasses.

Every error is a :class:`ConfigError` whose message is one line naming the key (dotted path), the value, and
what is allowed; the CLI prints it and exits 2 before anything is written.

Sections are plain dataclasses; a field's type annotation is its schema (int, float, str, bool, Literal[...],
X | None, list[int]); ``validate()`` methods add cross-field rules. This module holds the schema machinery and the
sections every stage reads (model, hls, csim); the one list of all sections, and the loader that uses it, is
:mod:`had_hls.project` (the sections of other rooms, e.g. ``distill:`` and ``rtl:``, are listed there).
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from had_hls.fixed import FixedType
from had_hls.precision import Precision, PrecisionError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(ValueError):
    """A bad project file: one line, naming the key, the value and what is allowed."""


# ------------------------------------------------------------------------------------------------ sections
@dataclass(frozen=True)
class ModelSection:
    """``model:`` the attention layer (or the distilled checkpoint) to put in hardware."""

    seq_len: int
    embed_dim: int
    num_heads: int
    top_n: int
    seed: int = 0
    checkpoint: str | None = None
    layer: int = 0
    sigma_q: float | None = None
    sigma_k: float | None = None
    key_padding_mask: bool = False

    def validate(self, path: str) -> None:
        _positive(self.seq_len, f"{path}.seq_len")
        _positive(self.embed_dim, f"{path}.embed_dim")
        _positive(self.num_heads, f"{path}.num_heads")
        if self.embed_dim % self.num_heads:
            raise ConfigError(
                f"{path}.embed_dim: {self.embed_dim} is not divisible by {path}.num_heads={self.num_heads}"
            )
        if not 1 <= self.top_n <= self.seq_len:
            raise ConfigError(
                f"{path}.top_n: {self.top_n} is not allowed: must be 1 <= top_n <= seq_len={self.seq_len}"
            )
        if self.layer < 0:
            raise ConfigError(f"{path}.layer: {self.layer} is not allowed: must be >= 0 (attention layer index)")
        if self.checkpoint is not None and not self.checkpoint.strip():
            raise ConfigError(
                f"{path}.checkpoint: {self.checkpoint!r} is not allowed: give a checkpoint file, or null for a seeded "
                "random layer"
            )
        if self.checkpoint is None and self.layer != 0:
            raise ConfigError(
                f"{path}.layer: {self.layer} is not allowed without {path}.checkpoint: a seeded random layer has only "
                "layer 0"
            )
        for key in ("sigma_q", "sigma_k"):
            value = getattr(self, key)
            if value is not None and not value > 0:
                raise ConfigError(f"{path}.{key}: {value} is not allowed: must be > 0")

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads


@dataclass(frozen=True)
class PrecisionSection:
    """``hls.precision:`` fixed-point types (C++ spelling) and table sizes; see README "Fixed-point types"."""

    input: str = Precision.input.cpp()
    weight: str = Precision.weight.cpp()
    bias: str = Precision.bias.cpp()
    accum: str = Precision.accum.cpp()
    value: str = Precision.value.cpp()
    qk: str = Precision.qk.cpp()
    context: str = Precision.context.cpp()
    result: str = Precision.result.cpp()
    exp_table: str = Precision.exp_table.cpp()
    recip_table: str = Precision.recip_table.cpp()
    recip_index_bits: int = Precision.recip_index_bits
    fp_exp_step_bits: int = Precision.fp_exp_step_bits
    fp_exp_table_size: int = Precision.fp_exp_table_size
    fp_inv_sqrt_frac: int = Precision.fp_inv_sqrt_frac

    def to_precision(self, path: str) -> Precision:
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in Precision.TYPE_FIELDS:
                try:
                    value = FixedType.parse(value)
                except ValueError as err:
                    why = str(err) if str(err).startswith(repr(value)) else f"{value!r} is not allowed: {err}"
                    raise ConfigError(f"{path}.{f.name}: {why}") from None
            kwargs[f.name] = value
        try:
            return Precision(**kwargs)
        except PrecisionError as err:
            raise precision_config_error(err, path) from None

    def validate(self, path: str) -> None:
        self.to_precision(path)


@dataclass(frozen=True)
class HLSSection:
    """``hls:`` hls4ml backend and target; hls4ml's Strategy / ReuseFactor / PipelineStyle of the generated
    projects (reuse_factor null: matched to the attention core, had_hls.hls.schedule); unroll_limit: operations one
    pipelined region may unroll before ``had-hls check`` calls it a violation (Vitis stops near 4096)."""

    backend: Literal["Vitis", "Vivado"] = "Vitis"
    io_type: Literal["io_parallel", "io_stream"] = "io_parallel"
    part: str = "xcvu13p-flga2577-2-e"
    clock_period: float = 5.0
    strategy: Literal["Resource", "Latency"] = "Resource"
    reuse_factor: int | None = None
    pipeline_style: Literal["dataflow", "pipeline"] = "dataflow"
    unroll_limit: int = 4096
    precision: PrecisionSection = field(default_factory=PrecisionSection)

    def validate(self, path: str) -> None:
        if not self.clock_period > 0:
            raise ConfigError(f"{path}.clock_period: {self.clock_period} is not allowed: must be > 0 (ns)")
        if not self.part.strip():
            raise ConfigError(f"{path}.part: {self.part!r} is not allowed: give an FPGA part name")
        if self.reuse_factor is not None:
            _positive(self.reuse_factor, f"{path}.reuse_factor")
        _positive(self.unroll_limit, f"{path}.unroll_limit")


@dataclass(frozen=True)
class CsimSection:
    """``csim:`` C-simulation vectors."""

    vectors: int = 64
    input_scale: float = 1.0
    mask_fraction: float = 0.25
    model: bool = True  # with a checkpoint and a dataset: also C-simulate the whole model on the test split
    samples: int | None = None  # test images for the whole-model C-sim (null: the whole split)
    baseline_samples: int | None = 1000  # the FP-attention and hls4ml-stock routes: the first of those images

    def validate(self, path: str) -> None:
        _positive(self.vectors, f"{path}.vectors")
        if self.samples is not None:
            _positive(self.samples, f"{path}.samples")
        if self.baseline_samples is not None:
            _positive(self.baseline_samples, f"{path}.baseline_samples")
        if not self.input_scale > 0:
            raise ConfigError(f"{path}.input_scale: {self.input_scale} is not allowed: must be > 0")
        if not 0 <= self.mask_fraction < 1:
            raise ConfigError(f"{path}.mask_fraction: {self.mask_fraction} is not allowed: must be in [0, 1)")


def precision_config_error(err: PrecisionError, path: str = "hls.precision") -> ConfigError:
    """A PrecisionError as a ConfigError naming the key path and the value as the project file spells it."""
    value = err.value.cpp() if isinstance(err.value, FixedType) else err.value
    return ConfigError(f"{path}.{err.key}: {value} is not allowed: {err.allowed}")


BASE_SECTIONS: dict[str, type] = {"model": ModelSection, "hls": HLSSection, "csim": CsimSection}
_REQUIRED = ("name", "model")


@dataclass(frozen=True)
class Project:
    """A validated project file."""

    name: str
    path: Path
    sections: dict[str, Any]
    present: frozenset[str] = frozenset()  # top-level keys the file itself gives (others are defaults)

    @property
    def model(self) -> ModelSection:
        return self.sections["model"]

    @property
    def hls(self) -> HLSSection:
        return self.sections["hls"]

    @property
    def csim(self) -> CsimSection:
        return self.sections["csim"]

    @property
    def precision(self) -> Precision:
        return self.hls.precision.to_precision("hls.precision")

    def section(self, key: str) -> Any:
        return self.sections[key]

    def with_checkpoint(self, checkpoint: str | Path) -> Project:
        """The same project with ``model.checkpoint`` set (e.g. to the student that ``distill`` just wrote)."""
        model = dataclasses.replace(self.model, checkpoint=str(checkpoint))
        return dataclasses.replace(self, sections={**self.sections, "model": model})

    def output_dir(self, out: str | Path | None = None) -> Path:
        """--out if given, else projects/<name>/ beside the project file's projects/ folder. An empty --out is a
        UserError (``Path('')`` would be the current folder); :func:`had_hls.io.check_output_dir` checks the rest
        before a command starts its work."""
        if out is not None:
            if not str(out).strip():
                from had_hls.errors import UserError

                raise UserError(f"--out: {str(out)!r} is not allowed: give a folder path (created if missing)")
            return Path(out)
        return self.path.parent / self.name

    def checkpoint_path(self) -> Path | None:
        ckpt = self.model.checkpoint
        if ckpt is None:
            return None
        p = Path(ckpt)
        return p if p.is_absolute() else (self.path.parent / p)


# ------------------------------------------------------------------------------------------------ loading
def read_project_file(path: str | Path) -> tuple[Any, Path]:
    """The parsed YAML of a project file. Raises ConfigError (one line): a path that is empty, a folder or missing;
    a file that is not UTF-8 text; invalid YAML, a key given twice, an infinity or NaN."""
    from had_hls.yaml_input import YamlInputError, load_yaml_text, read_text_file

    if not str(path).strip():
        raise ConfigError(f"project file {str(path)!r} is not allowed: give the path of a project YAML")
    path = Path(path)
    try:
        raw = load_yaml_text(read_text_file(path, "project file"), f"project file {str(path)!r}")
    except YamlInputError as err:
        raise ConfigError(str(err)) from None
    return raw, path


def parse_project(raw: Any, path: Path, known: dict[str, type]) -> Project:
    """Validate a parsed project file against the sections ``known`` (key -> dataclass; had_hls.project.SECTIONS
    lists them all): every rule of the schema, each a one-line ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"project file {str(path)!r}: top level must be a mapping with keys {', '.join(_REQUIRED)}, ..."
        )
    allowed = ("name", *known)
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{key}: unknown key; allowed top-level keys: {', '.join(allowed)}")
    for key in _REQUIRED:
        if key not in raw:
            raise ConfigError(f"{key}: missing required key")
    from had_hls.yaml_input import YamlInputError, check_finite

    try:
        check_finite(raw)
    except YamlInputError as err:
        raise ConfigError(str(err)) from None
    name = raw["name"]
    if not isinstance(name, str):
        raise ConfigError(f"name: {_shown(name)} is not allowed: expected a string of letters, digits, '_', '-', '.'"
                          f"{_quote_hint(name, 'name')}")
    if not NAME_RE.match(name):
        raise ConfigError(f"name: {name!r} is not allowed: letters, digits, '_', '-', '.' (no spaces or slashes)")
    sections = {key: build_section(cls, raw.get(key), key) for key, cls in known.items()}
    return Project(name=name, path=path.resolve(), sections=sections, present=frozenset(raw))


def build_section(cls: type, raw: Any, path: str) -> Any:
    """Validate a mapping against dataclass ``cls``: unknown keys, missing keys, types, then cls.validate()."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise ConfigError(f"{path}.{key}: unknown key; allowed: {', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        key = f"{path}.{name}"
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{key}: missing required key")
            continue
        kwargs[name] = _coerce(raw[name], hints[name], key)
    obj = cls(**kwargs)
    if hasattr(obj, "validate"):
        obj.validate(path)
    return obj


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return build_section(hint, value, key)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] + (" or null" if type(None) in args else ""))
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: {value!r} is not allowed; allowed: {', '.join(map(str, args))}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: {value!r} is not allowed: expected a list")
        return [_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: {value!r} is not allowed: expected a mapping")
        return {str(k): _coerce(v, args[1], f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: {value!r} is not allowed: expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: {_shown(value)} is not allowed: expected an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: {_shown(value)} is not allowed: expected a number")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: {value} is not allowed: give a finite number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: {_shown(value)} is not allowed: expected a string{_quote_hint(value, key)}")
        return value
    if hint is Any:
        return value
    raise TypeError(f"unsupported schema type {hint!r} for {key}")


def _shown(value: Any) -> str:
    """A value as the message shows it; YAML booleans (yes/no/on/off/true/false) say that they were read so."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads an unquoted yes/no/on/off/true/false as a boolean)"
    return repr(value)


def _quote_hint(value: Any, key: str) -> str:
    if isinstance(value, bool | int | float) and value is not None:
        return f"; quote it, e.g. {key.rsplit('.', 1)[-1]}: 'text'"
    return ""


def _positive(value: int, key: str) -> None:
    if value < 1:
        raise ConfigError(f"{key}: {value} is not allowed: must be >= 1")
