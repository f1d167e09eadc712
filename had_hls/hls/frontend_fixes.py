"""Fixes for hls4ml 1.3.0's PyTorch front end with ``[seq, feature]`` (transformer-style) inputs, applied only
where had-hls converts.

hls4ml's PyTorch converter was written for CNN/MLP models. With a per-sample input of shape ``(S, D)`` (a sequence
of S tokens with D features, the transformer case) three of its layer handlers silently produce a wrong model.
:func:`install_frontend_fixes` wraps those stock handlers in the registry that ``parse_pytorch_model`` looks
handlers up in (``hls4ml.converters.pytorch_to_hls.layer_handlers``; ``hls4ml.utils.config_from_pytorch_model``
runs the same handlers). Each wrapper calls the stock handler first and returns its result untouched unless the
fixes apply to this conversion (:func:`fixes_apply`):

1. inside :func:`enabled` (a context manager; had-hls's own conversions run in it: ``had_hls.hls.convert``,
   ``model_convert``, ``stock_attention`` and ``had_hls.convert_from_pytorch_model``), or after
   :func:`set_enabled` ``(True)`` (the explicit, documented opt-in for a user's own models), or
2. the model being converted holds a had-hls module (a torch class whose handler had-hls registered, e.g.
   ``HammingAttention``), so that hls4ml's own ``convert_from_pytorch_model`` on such a model gives exactly what
   had-hls's route gives.

Every other model is converted by hls4ml's handlers as if had-hls were not installed (checked by
``benchmarks/hls4ml_pytorch_tests.py`` against hls4ml's own PyTorch tests).

had-hls converts with ``channels_last_conversion='off'`` (``(S, D)`` is already channels-last: D is the channel axis;
``'full'``/``'internal'`` treat S as the channel axis and transpose the data, and in 1.3.0 fail with
``ValueError: array split does not result in an equal division`` on a Linear over ``(4, 8)``; that error is loud,
so it is left alone and only pinned by a test).

The fixes (reproducers: docs/hls4ml-frontend-bugs.md; pinned by tests/test_frontend_fixes.py):

``Linear`` (:func:`_fixed_linear`)
    Bug: the handler stores ``weight`` in torch order ``(out, in)``; hls4ml's Dense wants ``(in, out)``. The only
    transpose is in the ``ChannelsLastConverter`` optimizer pass, which does nothing when
    ``ChannelsLastConversion`` is ``'off'``. Symptom: wrong outputs (max error ~1.3-1.7 on random unit-scale
    weights), for ``(S, D)`` inputs and, measured, for 1-D ``(D,)`` inputs as well. Fix: when the conversion mode is
    ``'off'`` store ``weight.T``; with ``'full'``/``'internal'`` the converter pass transposes, so nothing changes.

``Softmax`` (:func:`_fixed_softmax`; ``nn.Softmax``, ``F.softmax``/``torch.softmax`` and ``Tensor.softmax``)
    Bug: the handler records ``axis`` but not ``n_outer``/``n_inner``, so the Vivado/Vitis template calls the plain
    ``nnet::softmax`` over all ``n_in = S*D`` values. Symptom: ``Softmax(dim=-1)`` on ``(S, D)`` normalises over the
    whole tensor (each row sums to ~1/S). A positional ``dim`` (``torch.softmax(x, -1)``) is not even recorded.
    Fix: set ``n_outer`` (product of the axes before the softmax axis) and ``n_inner`` (after it), in hls4ml's memory
    order, as hls4ml's Keras v3 handler does, and ``parallelization_factor = n_outer * n_inner`` (all rows in
    parallel, hls4ml's HGQ2 default); the template then calls ``nnet::softmax_multidim`` (io_parallel) which applies
    the softmax per slice. 1-D inputs keep ``n_outer = n_inner = 1`` (unchanged). In io_stream each stream element is
    one row, so the last-axis softmax was already per row there; the attributes are only used by io_parallel.

``einsum`` (:func:`_fixed_einsum`)
    Bug: the handler computes the correct output shape (``layer['out_shape']``) but returns its first *input's*
    shape to the parser, which hands it to later handlers as their input shape. Symptom: any later layer whose
    handler reads the shape is built for the wrong shape: e.g. a second einsum of attention
    (``scores @ v``) fails validation or, when the sizes happen to fit, is given a wrong recipe; the Softmax fix above
    would get wrong ``n_outer``. Fix: return the einsum's real output shape. The wrapper also drops the batch
    axis (kept by the stock handler as a dummy ``1``) from the equation and the IR shapes when the batch is the first
    axis of both operands and of the output and every operand and the output keep at least one axis without it
    (always so for batch-first attention), so an einsum's output variable is ``(S, S)`` like every other layer's,
    not ``(1, S, S)``; a Linear after it then becomes the same Conv1D as any other Linear on ``(S, D)``. An einsum
    such as ``'ij,ij->i'`` (a per-sample dot product: without the batch letter nothing is left) keeps the stock
    layer. Einsums that move or sum the batch axis are rejected with a clear error (their IR was already
    meaningless).

Use::

    from had_hls.hls import frontend_fixes
    with frontend_fixes.enabled():          # a user's own (S, D) model, converted with hls4ml's API
        cfg = hls4ml.utils.config_from_pytorch_model(model, (S, D), channels_last_conversion="off")
        hls_model = hls4ml.converters.convert_from_pytorch_model(model, hls_config=cfg, ...)

:func:`stock_frontend` temporarily restores the original handlers (tests use it to show each upstream bug).
"""

from __future__ import annotations

import functools
import importlib
import math
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from hls4ml.utils.einsum_utils import _validate_einsum_expr

# ``hls4ml.converters.pytorch_to_hls`` the *module*: the package re-exports a function of the same name.
pytorch_to_hls = importlib.import_module("hls4ml.converters.pytorch_to_hls")

Handler = Callable[..., tuple[dict[str, Any], list[Any]]]

#: Attribute set on every wrapper, pointing at the stock handler it wraps.
_ORIGINAL = "_had_hls_original"
#: Nesting depth of :func:`stock_frontend` blocks; install_frontend_fixes() waits while > 0.
_stock_depth = 0
#: :func:`set_enabled` (process-wide opt-in) and the :func:`enabled` depth of each thread.
_enabled_everywhere = False
_scope = threading.local()
#: Torch class names whose presence in a model makes it a had-hls model (the handlers had-hls registers).
_HAD_TORCH_CLASSES: set[str] = set()
_holds_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# ------------------------------------------------------------------------------------------------ scope
@contextmanager
def enabled() -> Iterator[None]:
    """Apply the fixes to every conversion in this thread while inside (nestable)."""
    install_frontend_fixes()
    _scope.depth = getattr(_scope, "depth", 0) + 1
    try:
        yield
    finally:
        _scope.depth -= 1


def set_enabled(on: bool = True) -> None:
    """Process-wide opt-in: apply the fixes to every PyTorch conversion (or stop doing so with ``False``)."""
    global _enabled_everywhere
    install_frontend_fixes()
    _enabled_everywhere = bool(on)


def add_had_torch_classes(names: list[str] | tuple[str, ...]) -> None:
    """Torch class names (as hls4ml dispatches handlers) that mark a model as a had-hls model."""
    _HAD_TORCH_CLASSES.update(names)


def holds_had_module(model: Any) -> bool:
    """True when the torch model (or one of its submodules) is of a had-hls class in :func:`add_had_torch_classes`."""
    if model is None or not hasattr(model, "modules"):
        return False
    try:
        return _holds_cache[model]
    except (KeyError, TypeError):
        pass
    found = any(_is_had_module(m) for m in model.modules())
    try:
        _holds_cache[model] = found
    except TypeError:
        pass
    return found


def _is_had_module(module: Any) -> bool:
    """A module of a had-hls class: registered name *and* defined in the had_hls package (a user's own class of the
    same name is not one)."""
    cls = type(module)
    return cls.__name__ in _HAD_TORCH_CLASSES and cls.__module__.split(".")[0] == "had_hls"


def fixes_apply(config: dict[str, Any], data_reader: Any = None) -> bool:
    """Whether the wrappers change this conversion's layers (module docstring: scope, opt-in, had-hls model)."""
    if _enabled_everywhere or getattr(_scope, "depth", 0) > 0:
        return True
    model = config.get("PytorchModel") if isinstance(config, dict) else None
    if model is None:
        model = getattr(data_reader, "torch_model", None)
    return holds_had_module(model)


def conversion_mode(config: dict[str, Any]) -> str:
    """``ChannelsLastConversion`` of a handler's ``config``, ``'off'`` when absent (as hls4ml's converter pass).

    During ``convert_from_pytorch_model`` the model config sits under ``config['HLSConfig']['Model']``; during
    ``config_from_pytorch_model`` (which runs the same handlers) under ``config['Model']``.
    """
    model_cfg = (config.get("HLSConfig") or {}).get("Model") or config.get("Model") or {}
    return str(model_cfg.get("ChannelsLastConversion", "off")).lower()


# ------------------------------------------------------------------------------------------------ Linear
def _fixed_linear(original: Handler) -> Handler:
    @functools.wraps(original)
    def handler(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
        layer, output_shape = original(
            operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config
        )
        if fixes_apply(config, data_reader) and conversion_mode(config) == "off":
            # torch Linear weight is (out, in); hls4ml Dense (and the Conv1D it becomes on (S, D)) wants (in, out).
            layer["weight_data"] = np.ascontiguousarray(np.asarray(layer["weight_data"]).T)
        return layer, output_shape

    return handler


# ------------------------------------------------------------------------------------------------ Softmax
def _softmax_dim(node: Any, class_object: Any) -> int:
    """The torch ``dim`` of a softmax node (module, function or method); ``-1`` when torch leaves it implicit."""
    if node.op == "call_module":
        dim = getattr(class_object, "dim", None)
    elif "dim" in node.kwargs:
        dim = node.kwargs["dim"]
    elif len(node.args) > 1:
        dim = node.args[1]
    else:
        dim = None
    return -1 if dim is None else int(dim)


def softmax_slices(shape: list[Any], dim: int, mode: str) -> tuple[int, int]:
    """``(n_outer, n_inner)`` of a softmax over torch axis ``dim`` of a batch-first ``shape`` (batch included).

    hls4ml lays the sample out in torch order when the conversion is ``'off'`` and channels-last otherwise
    (torch ``(C, *rest)`` -> memory ``(*rest, C)``).
    """
    rank = len(shape)
    axis = dim % rank
    if axis == 0:
        raise ValueError(f"softmax over the batch axis (dim={dim}) is not supported by hls4ml")
    sample = [int(s) for s in shape[1:]]
    pos = axis - 1
    if mode != "off" and len(sample) > 1:
        sample = sample[1:] + sample[:1]
        pos = len(sample) - 1 if pos == 0 else pos - 1
    return math.prod(sample[:pos]), math.prod(sample[pos + 1 :])


def _fixed_softmax(original: Handler) -> Handler:
    @functools.wraps(original)
    def handler(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
        layer, output_shape = original(
            operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config
        )
        if operation != "Softmax" or len(input_shapes[0]) <= 2 or not fixes_apply(config, data_reader):
            return layer, output_shape  # other activations share this handler; 1-D softmax was already right
        dim = _softmax_dim(node, class_object)
        n_outer, n_inner = softmax_slices(list(input_shapes[0]), dim, conversion_mode(config))
        layer["axis"] = dim
        layer["n_outer"] = n_outer
        layer["n_inner"] = n_inner
        layer["parallelization_factor"] = n_outer * n_inner
        return layer, output_shape

    return handler


# ------------------------------------------------------------------------------------------------ einsum
def _fixed_einsum(original: Handler) -> Handler:
    @functools.wraps(original)
    def handler(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
        layer, stock_shape = original(
            operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config
        )
        if not fixes_apply(config, data_reader):
            return layer, stock_shape
        equation: str = layer["equation"]  # validated: '...' already expanded to letters
        ins, out = equation.split("->")
        in0, in1 = ins.split(",")
        batch = in0[:1]
        if batch and in1[:1] == batch and out[:1] == batch and not (in0[1:] and in1[1:] and out[1:]):
            # e.g. 'ij,ij->i': without the batch letter an operand or the output has no axis left; keep the stock
            # layer (batch kept as a dummy 1), only report its real output shape
            return layer, [None, *layer["out_shape"]]
        if not (batch and in1[:1] == batch and out[:1] == batch):
            raise ValueError(
                f"layer {layer_name}: einsum '{node.args[0]}' (resolved '{equation}') must keep the batch axis "
                "first in both operands and in the output; hls4ml evaluates one sample at a time"
            )
        inp0, inp1 = tuple(layer["inp0_shape"][1:]), tuple(layer["inp1_shape"][1:])
        new_equation = f"{in0[1:]},{in1[1:]}->{out[1:]}"
        new_equation, out_shape = _validate_einsum_expr(new_equation, inp0, inp1)
        layer.update(equation=new_equation, inp0_shape=inp0, inp1_shape=inp1, out_shape=tuple(out_shape))
        return layer, [None, *out_shape]

    return handler


# ------------------------------------------------------------------------------------------------ install
_FIXES: dict[str, Callable[[Handler], Handler]] = {
    "Linear": _fixed_linear,
    "Softmax": _fixed_softmax,
    "einsum": _fixed_einsum,
}


def install_frontend_fixes() -> None:
    """Wrap hls4ml's stock PyTorch ``Linear``, ``Softmax`` and ``einsum`` handlers in place. Idempotent. A wrapper
    changes a conversion only where :func:`fixes_apply` says so (module docstring); elsewhere it returns the stock
    handler's result as it is.

    A no-op inside :func:`stock_frontend` (so code that installs the fixes on its way, e.g.
    ``had_hls.hls.attention_layers.register()``, cannot undo a deliberate reproduction of the upstream bugs).
    """
    if _stock_depth:
        return
    handlers = pytorch_to_hls.layer_handlers
    for name, make in _FIXES.items():
        current = handlers[name]
        if hasattr(current, _ORIGINAL):
            continue
        wrapper = make(current)
        setattr(wrapper, _ORIGINAL, current)
        handlers[name] = wrapper


def fixes_installed() -> bool:
    """True when every handler in the registry is the had-hls wrapper."""
    return all(hasattr(pytorch_to_hls.layer_handlers[name], _ORIGINAL) for name in _FIXES)


@contextmanager
def stock_frontend(*names: str) -> Iterator[None]:
    """Temporarily restore hls4ml's original handlers (all, or just ``names`` of ``'Linear'``, ``'Softmax'``,
    ``'einsum'``) to reproduce the upstream bugs; the registry is put back as it was on exit."""
    handlers = pytorch_to_hls.layer_handlers
    unknown = set(names) - set(_FIXES)
    if unknown:
        raise KeyError(f"no front-end fix for {sorted(unknown)}; known: {sorted(_FIXES)}")
    global _stock_depth
    saved = {name: handlers[name] for name in (names or tuple(_FIXES))}
    _stock_depth += 1
    try:
        for name, current in saved.items():
            handlers[name] = getattr(current, _ORIGINAL, current)
        yield
    finally:
        _stock_depth -= 1
        handlers.update(saved)
