"""How the encoder's torch leaves reach hls4ml: the PyTorch handlers (:data:`HANDLERS`) and :func:`register`.

Each handler turns one traced leaf of :mod:`had_hls.hls.encoder_layers` into the layer dict of its IR layer
(:mod:`had_hls.hls.encoder_ir`): class name, input shape checks (``(batch, L, features)``), the leaf's ``hw``
and its float weights; the IR layer quantises them. :func:`register` registers handlers, IR layers, templates
(:mod:`had_hls.hls.encoder_templates`) and headers with hls4ml's Vivado and Vitis backends, after the attention
layers; the one entry point for all of had-hls is :mod:`had_hls.hls.registration`.
"""

from __future__ import annotations

from pathlib import Path

import hls4ml
import numpy as np

from had_hls.hls.attention_layers import BACKENDS, HLS_TEMPLATE_DIR
from had_hls.hls.encoder_ir import LAYERS
from had_hls.hls.encoder_templates import HEADERS, template_classes


def _seq_shape(layer_name: str, shape: list, what: str) -> tuple[int, int]:
    if len(shape) != 3:
        raise ValueError(f"layer {layer_name}: {what} expects a (batch, L, features) input, got {shape}")
    return int(shape[1]), int(shape[2])


def parse_token_embedding(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_in, n_in = _seq_shape(layer_name, input_shapes[0], "TokenEmbedding")
    lin = class_object.linear
    cls = class_object.cls is not None
    seq_len = seq_in + (1 if cls else 0)
    if class_object.pos is not None and class_object.pos.shape[0] != seq_len:
        raise ValueError(f"layer {layer_name}: positional table has {class_object.pos.shape[0]} rows, need {seq_len}")
    layer = {
        "class_name": "HADTokenEmbed",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_in": seq_in,
        "seq_len": seq_len,
        "n_in": n_in,
        "n_out": lin.out_features,
        "cls": cls,
        "weight_data": lin.weight.detach().double().numpy(),
        "bias2d_data": class_object.bias2d(seq_in),
    }
    return layer, [None, seq_len, lin.out_features]


def parse_seq_linear(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_len, n_in = _seq_shape(layer_name, input_shapes[0], "SeqLinear")
    lin = class_object.linear
    bias = np.zeros(lin.out_features) if lin.bias is None else lin.bias.detach().double().numpy()
    layer = {
        "class_name": "HADDenseSeq",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_len": seq_len,
        "n_in": n_in,
        "n_out": lin.out_features,
        "weight_data": lin.weight.detach().double().numpy(),
        "bias_data": bias,
    }
    return layer, [None, seq_len, lin.out_features]


def parse_layer_norm(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_len, n_in = _seq_shape(layer_name, input_shapes[0], "LayerNorm")
    norm = class_object.norm
    layer = {
        "class_name": "HADLayerNorm",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_len": seq_len,
        "n_in": n_in,
        "epsilon": float(norm.eps),
        "scale_data": norm.weight.detach().double().numpy(),
        "bias_data": norm.bias.detach().double().numpy(),
    }
    return layer, list(input_shapes[0])


def parse_gelu(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    layer = {
        "class_name": "HADGELU",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "shape": [int(s) for s in input_shapes[0][1:]],
        "approximate": class_object.approximate,
    }
    return layer, list(input_shapes[0])


def parse_token_pool(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_len, n_in = _seq_shape(layer_name, input_shapes[0], "TokenPool")
    layer = {
        "class_name": "HADTokenPool",
        "name": layer_name,
        "inputs": list(input_names),
        "hw": class_object.hw,
        "seq_len": seq_len,
        "n_in": n_in,
        "mode": class_object.mode,
    }
    return layer, [None, n_in]


HANDLERS = {
    "TokenEmbedding": parse_token_embedding,
    "SeqLinear": parse_seq_linear,
    "SeqLayerNorm": parse_layer_norm,
    "LUTGELU": parse_gelu,
    "TokenPool": parse_token_pool,
}

_registered = False


def register() -> None:
    """Register handlers, IR layers, templates and the header with hls4ml (Vivado and Vitis). Idempotent.

    Also registers the attention layers (:func:`had_hls.hls.attention_layers.register`) and the front-end fixes.
    """
    global _registered
    if _registered:
        return
    from had_hls.hls.attention_layers import register as register_attention
    from had_hls.hls.build import add_layer_classes, add_sources
    from had_hls.hls.frontend_fixes import add_had_torch_classes
    from had_hls.hls.handlers import set_pytorch_handler

    register_attention()
    add_had_torch_classes(list(HANDLERS))
    add_layer_classes(list(LAYERS))
    add_sources([Path(HLS_TEMPLATE_DIR) / header for header in HEADERS])
    for torch_class, handler in HANDLERS.items():
        set_pytorch_handler(torch_class, handler)
    for ir_name, cls in LAYERS.items():
        hls4ml.model.layers.register_layer(ir_name, cls)
    templates = template_classes()
    for name in BACKENDS:
        backend = hls4ml.backends.get_backend(name)
        for template in templates:
            backend.register_template(template)
    _registered = True


__all__ = ["HANDLERS", "register"]
