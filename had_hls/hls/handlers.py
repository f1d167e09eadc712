"""The low-level hooks into hls4ml's PyTorch front end that had-hls's layers use when they register
(had_hls.hls.attention_layers, had_hls.hls.encoder_parsers): one handler per torch class, and the
channels-last check. The entry point that registers everything is had_hls.hls.registration (above these)."""

from __future__ import annotations

from typing import Any

_STUB = "_had_hls_stub"  # marks registration's stand-in handlers (replaced by the real ones)


class ChannelsLastError(ValueError):
    """A had-hls layer converted with hls4ml's ``channels_last_conversion`` other than ``'off'``."""


def set_pytorch_handler(torch_class: str, handler: Any) -> None:
    """hls4ml's ``register_pytorch_layer_handler``, except that it replaces had-hls's stand-in for ``torch_class``
    (hls4ml refuses a second handler for a name). Idempotent for the same handler."""
    import hls4ml

    handlers = _handlers()
    current = handlers.get(torch_class)
    if current is handler:
        return
    if getattr(current, _STUB, False):
        del handlers[torch_class]
    hls4ml.converters.register_pytorch_layer_handler(torch_class, handler)


def _handlers() -> dict[str, Any]:
    import importlib

    return importlib.import_module("hls4ml.converters.pytorch_to_hls").layer_handlers


def require_conversion_off(config: dict[str, Any], layer_name: str, torch_class: str) -> None:
    """ChannelsLastError unless the conversion's ``ChannelsLastConversion`` is ``'off'``
    (see had_hls.hls.registration)."""
    from had_hls.hls.frontend_fixes import conversion_mode

    mode = conversion_mode(config)
    if mode != "off":
        raise ChannelsLastError(
            f"layer {layer_name!r} ({torch_class}): channels_last_conversion={mode!r} is not supported: had-hls "
            "layers take (L, E) token-major inputs; pass channels_last_conversion='off' to "
            "hls4ml.utils.config_from_pytorch_model, or use had_hls.convert_from_pytorch_model"
        )
