"""A project -> its attention layer, the HAD and FP specs frozen from it, and its seeded input vectors.

The first step of every stage that works on the project's layer (C-sim, co-simulation, report, check, sweep): the
layer comes from ``model.checkpoint`` or is seeded random with calibrated sigma; the specs (had_hls.spec) carry the
weights and precision to golden, the hls4ml layers and the RTL; the vectors are the seeded test inputs.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import torch

from had_hls.config import ConfigError, Project, precision_config_error
from had_hls.errors import UserError
from had_hls.nn.attention import HammingAttention
from had_hls.nn.binarize import BinarizeMode
from had_hls.precision import PrecisionError
from had_hls.spec import AttentionSpec, spec_from_module

CALIBRATION_BATCHES = 8


def build_layer(project: Project) -> HammingAttention:
    """The project's HAD layer in hard mode: from ``model.checkpoint`` or seeded random weights + calibrated sigma."""
    m = project.model
    ckpt = project.checkpoint_path()
    if ckpt is not None:
        layer = _layer_from_checkpoint(project, ckpt)
    else:
        torch.manual_seed(m.seed)
        layer = HammingAttention(m.embed_dim, m.num_heads, top_n=m.top_n, mode=BinarizeMode.HARD)
        _calibrate_random(layer, project)
    if m.sigma_q is not None:
        layer.sigma_q.fill_(m.sigma_q)
    if m.sigma_k is not None:
        layer.sigma_k.fill_(m.sigma_k)
    layer.set_mode(BinarizeMode.HARD)
    return layer.double().eval()


def _calibrate_random(layer: HammingAttention, project: Project) -> None:
    """sigma = mean over calibration batches of std(Q), std(K) on inputs drawn like the test vectors."""
    gen = torch.Generator().manual_seed(project.model.seed + 1_000_003)
    layer.start_calibration()
    with torch.no_grad():
        for _ in range(CALIBRATION_BATCHES):
            x = torch.randn(8, project.model.seq_len, project.model.embed_dim, generator=gen) * project.csim.input_scale
            layer.calibrate(x)  # std(Q), std(K) as layer(x) records them, without the L x L attention
    layer.finish_calibration()


def _layer_from_checkpoint(project: Project, path: Path) -> HammingAttention:
    from had_hls.models.checkpoint import CheckpointError, attention_layers, check_checkpoint_path, load_checkpoint

    if not path.exists() and not path.is_symlink():
        from had_hls.errors import MissingPrerequisite

        raise MissingPrerequisite(
            f"model.checkpoint: {str(path)!r} does not exist: run `had-hls distill {project.path}` first "
            "(it writes the student), or give an existing checkpoint"
        )
    check_checkpoint_path(path, "model.checkpoint")
    try:
        model, _meta = load_checkpoint(path)
    except CheckpointError as err:
        raise UserError(f"model.checkpoint: {str(path)!r} is {err}") from None
    layers = attention_layers(model)
    m = project.model
    if not 0 <= m.layer < len(layers):
        raise ConfigError(
            f"model.layer: {m.layer} is not allowed: the checkpoint has attention layers 0..{len(layers) - 1}"
        )
    layer = copy.deepcopy(layers[m.layer])
    for key, have in (("embed_dim", layer.embed_dim), ("num_heads", layer.num_heads)):
        if getattr(m, key) != have:
            raise ConfigError(f"model.{key}: {getattr(m, key)} does not match the checkpoint's {have}")
    if layer.top_n.enabled and layer.top_n.keep(m.seq_len) != m.top_n:
        raise ConfigError(
            f"model.top_n: {m.top_n} does not match the checkpoint's top-N at seq_len {m.seq_len}: "
            f"{layer.top_n.keep(m.seq_len)}"
        )
    layer.top_n = type(layer.top_n)(n=m.top_n)
    return layer


def build_specs(project: Project, layer: HammingAttention | None = None) -> tuple[AttentionSpec, AttentionSpec]:
    """(HAD spec, FP-baseline spec) of the project's layer: same weights, same precision."""
    layer = layer or build_layer(project)
    return kind_spec(project, "had", layer), kind_spec(project, "fp", layer)


def kind_spec(project: Project, kind: str, layer: HammingAttention | None = None) -> AttentionSpec:
    """The spec of one kind (``"had"`` or ``"fp"``) of the project's layer (what :func:`build_specs` gives for
    it): the attention ops build their own kind only (had_hls.ops)."""
    layer = layer or build_layer(project)
    m = project.model
    try:
        return spec_from_module(layer, kind, m.seq_len, project.precision, m.key_padding_mask,
                                name=f"{project.name}_{kind}")
    except PrecisionError as err:
        raise precision_config_error(err) from None
    except ValueError as err:
        raise ConfigError(f"hls.precision: {err}") from None


def make_vectors(project: Project, k: int) -> tuple[np.ndarray, np.ndarray | None]:
    """K seeded inputs x ~ N(0, input_scale^2) of shape (K, L, E), and (K, L) trailing-padding masks if enabled.

    A mask pads the last P keys, P uniform in [0, floor(mask_fraction * L)], never all of them.
    """
    m = project.model
    rng = np.random.default_rng(m.seed + 1)
    x = rng.normal(0.0, project.csim.input_scale, size=(k, m.seq_len, m.embed_dim))
    if not m.key_padding_mask:
        return x, None
    max_pad = min(m.seq_len - 1, math.floor(project.csim.mask_fraction * m.seq_len))
    pads = rng.integers(0, max_pad + 1, size=k)
    mask = np.arange(m.seq_len)[None, :] >= (m.seq_len - pads)[:, None]
    return x, mask


def fp_layer(layer: HammingAttention) -> HammingAttention:
    """The FP baseline of a HAD layer: the same weights, float (softmax) attention, no top-N."""
    fp = copy.deepcopy(layer)
    fp.set_mode(BinarizeMode.FLOAT)
    fp.top_n = type(layer.top_n)()
    return fp
