"""Strict reading of YAML input: UTF-8 text only, no duplicate keys, no infinity or NaN.

PyYAML's ``safe_load`` lets the last of two equal keys win silently, reads ``.inf``/``.nan`` as floats, and
fails with a traceback on a byte that is not UTF-8. :func:`load_yaml_text` turns each of these into a
:class:`YamlInputError` of one line naming the key path (``hls.clock_period``), the value and what is allowed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml


class YamlInputError(ValueError):
    """Bad YAML input (one line)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (checked on the node tree, with line numbers)."""


def read_text_file(path: Path, what: str) -> str:
    """The file's text; YamlInputError if it is missing, a folder, empty-named, binary or not UTF-8."""
    text_path = str(path)
    if not text_path.strip():
        raise YamlInputError(f"{what} '' is not allowed: give the path of a YAML file")
    if path.is_dir():
        raise YamlInputError(f"{what} {text_path!r} is a folder, not a YAML file")
    if not path.exists():
        raise YamlInputError(f"{what} {text_path!r} does not exist")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise YamlInputError(f"{what} {text_path!r} cannot be read ({err.strerror})") from None
    if b"\0" in data:
        raise YamlInputError(f"{what} {text_path!r} is not a text file (it holds NUL bytes): give a YAML file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise YamlInputError(
            f"{what} {text_path!r} is not UTF-8 text: byte 0x{data[err.start]:02x} at line {line}; save it as UTF-8"
        ) from None


def load_yaml_text(text: str, source: str) -> Any:
    """Parse ``text`` (``source`` names it in messages): duplicate keys and non-finite numbers are errors."""
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
    except yaml.YAMLError as err:
        raise YamlInputError(f"{source} is not valid YAML{_where(err)}") from None
    if node is None:
        return None
    _check_duplicates(node, "", source)
    try:
        loader = _StrictLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise YamlInputError(f"{source} is not valid YAML{_where(err)}") from None
    check_finite(data, "")
    return data


def _where(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return where + (f": {problem}" if problem else "")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _check_duplicates(node: yaml.Node, path: str, source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, str] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key != "<<":
                where = f"line {key_node.start_mark.line + 1}, column {key_node.start_mark.column + 1}"
                if key in seen:
                    raise YamlInputError(
                        f"{_join(path, key)}: duplicate key at {where} (first at {seen[key]}) in {source}: "
                        "each key may appear once"
                    )
                seen[key] = where
            _check_duplicates(value_node, _join(path, key if key is not None else "?"), source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(item, f"{path}[{i}]", source)


def check_finite(data: Any, path: str = "") -> None:
    """YamlInputError naming the first infinity or NaN in ``data`` (nested dicts/lists) by its key path."""
    if isinstance(data, float) and not math.isfinite(data):
        raise YamlInputError(f"{path or 'value'}: {data} is not allowed: give a finite number")
    if isinstance(data, dict):
        for key, value in data.items():
            check_finite(value, _join(path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            check_finite(value, f"{path}[{i}]")
