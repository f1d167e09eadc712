"""had-hls: Hamming Attention Distillation models to verified FPGA attention accelerators.

``import had_hls`` is cheap (no torch, no hls4ml): the API below loads on first use, and had-hls's layers are
registered with hls4ml as soon as hls4ml is (or already was) imported (had_hls.hls.registration), so hls4ml's own
converters know ``had_hls.nn.HammingAttention``. Every name is documented in :mod:`had_hls.api`; the README's
"Python API" section has a runnable example.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "config_from_pytorch_model",
    "convert_from_pytorch_model",
    "load_project",
    "run_convert",
    "run_cosim",
    "run_csim",
    "run_distill",
    "run_eval",
    "run_pipeline",
    "run_report",
    "run_sweep",
    "layer_spec",
    "register",
    "HammingAttention",
    "Precision",
    "UserError",
    "ConfigError",
    "ToolError",
]

_LAZY = {
    "config_from_pytorch_model": "had_hls.api",
    "convert_from_pytorch_model": "had_hls.api",
    "load_project": "had_hls.api",
    "run_convert": "had_hls.api",
    "run_cosim": "had_hls.api",
    "run_csim": "had_hls.api",
    "run_distill": "had_hls.api",
    "run_eval": "had_hls.api",
    "run_pipeline": "had_hls.api",
    "run_report": "had_hls.api",
    "run_sweep": "had_hls.api",
    "layer_spec": "had_hls.hls.convert",
    "register": "had_hls.hls.registration",
    "HammingAttention": "had_hls.nn.attention",
    "Precision": "had_hls.precision",
    "UserError": "had_hls.errors",
    "ConfigError": "had_hls.config",
    "ToolError": "had_hls.procs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'had_hls' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _register_with_hls4ml() -> None:
    from had_hls.hls.registration import register_when_hls4ml_loads

    register_when_hls4ml_loads()


_register_with_hls4ml()
