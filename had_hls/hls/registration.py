"""had-hls's layers in hls4ml: one entry point, cheap at ``import had_hls``, and scoped to had-hls's models.

:func:`register` (idempotent) registers every PyTorch handler, IR layer, template and header of had-hls with hls4ml
(Vivado and Vitis backends): ``attention_layers.register()`` (HAD/FP attention) and
``encoder_parsers.register()`` (the whole-encoder layers). What it changes for models that hold no had-hls layer:
nothing (the front-end fixes, headers and build script apply to had-hls models only; see
:mod:`had_hls.hls.frontend_fixes` and :mod:`had_hls.hls.build`).

``import had_hls`` calls :func:`register_when_hls4ml_loads`, which imports neither hls4ml nor torch: if hls4ml is
already imported it installs the light part at once, otherwise right after hls4ml's own import finishes (a
post-import hook on ``sys.meta_path``). The light part is the front-end fix wrappers and, for every torch class of
:data:`TORCH_CLASSES`, a stand-in handler that runs :func:`register` on first use and hands over to the real handler.
So ``import had_hls; import hls4ml`` finds HammingAttention supported, as a user of hls4ml expects, and the
heavy registration (it imports torch and had_hls.nn, which itself imports hls4ml) never runs in the middle of an
import.

:func:`require_conversion_off` is the check of the HammingAttention handler: had-hls layers take ``(L, E)``
token-major tensors, and hls4ml's default ``channels_last_conversion='full'`` would treat L as channels and insert
a transpose in front of them (silently wrong numbers), so any other setting stops with one clear error.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
import warnings
from typing import Any

from had_hls.hls.handlers import _STUB, _handlers

_lock = threading.RLock()
_registered = False
_light = False
_hook: _AfterImport | None = None

#: Every torch class had-hls registers a PyTorch handler for (checked against the real registration by
#: tests/test_api.py): the user-facing layer and the whole-encoder leaves.
TORCH_CLASSES = (
    "HammingAttention",
    "TokenEmbedding",
    "SeqLinear",
    "SeqLayerNorm",
    "LUTGELU",
    "TokenPool",
)


def register() -> None:
    """Register all of had-hls with hls4ml (handlers, IR layers, templates, headers, build wrappers). Idempotent."""
    global _registered
    with _lock:
        if _registered:
            return
        _remove_hook()
        from had_hls.hls import encoder_parsers

        encoder_parsers.register()  # registers the attention layers first
        _registered = True


def _stub(name: str):
    def handler(*args: Any, **kwargs: Any) -> Any:
        register()
        return _handlers()[name](*args, **kwargs)

    handler.__name__ = f"had_hls_lazy_{name}"
    setattr(handler, _STUB, True)
    return handler


def _install_light() -> None:
    """The front-end fix wrappers and the stand-in handlers (no torch, no had_hls.nn)."""
    global _light
    with _lock:
        if _light or _registered:
            return
        from had_hls.hls import frontend_fixes

        frontend_fixes.install_frontend_fixes()
        frontend_fixes.add_had_torch_classes(TORCH_CLASSES)
        handlers = _handlers()
        for name in TORCH_CLASSES:
            handlers.setdefault(name, _stub(name))
        _light = True


def is_registered() -> bool:
    return _registered


# ------------------------------------------------------------------------------------------------ import hook
class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; when ``hls4ml`` is about to be imported it wraps the real loader so that
    :func:`register` runs right after hls4ml's ``__init__`` has finished, then removes itself."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):  # noqa: D102
        if fullname != "hls4ml":
            return None
        _remove_hook()
        spec = importlib.util.find_spec("hls4ml")
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        real_exec = loader.exec_module

        def exec_module(module: Any) -> None:
            real_exec(module)
            loader.exec_module = real_exec
            _install_quietly()

        loader.exec_module = exec_module
        return spec


def _remove_hook() -> None:
    global _hook
    with _lock:
        if _hook is not None and _hook in sys.meta_path:
            sys.meta_path.remove(_hook)
        _hook = None


def _install_quietly() -> None:
    try:
        _install_light()
    except Exception as err:  # noqa: BLE001 - a broken registration must not break `import hls4ml`
        warnings.warn(f"had-hls could not register its layers with hls4ml: {err}", RuntimeWarning, stacklevel=2)


def register_when_hls4ml_loads() -> None:
    """Install the light registration now if hls4ml is imported, else right after it is (module docstring)."""
    global _hook
    with _lock:
        if _registered or _light:
            return
        if "hls4ml" in sys.modules:
            _install_quietly()
            return
        if _hook is None:
            _hook = _AfterImport()
            sys.meta_path.insert(0, _hook)
