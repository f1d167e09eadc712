"""A whole HAD encoder read into its parts and rebuilt as the traced hardware graph (the model side of
``had-hls convert``; had_hls.hls.model_convert turns the graph into one hls4ml project).

:func:`encoder_parts` checks the supported layout (see had_hls.hls.model_convert) and collects the embedding, the
blocks, the final norm, the pooling and the head; :class:`HardwareEncoder` is the same float model built from
hardware leaves (had_hls.hls.encoder_layers) that hls4ml traces; :class:`ModelPrecision` holds its types.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from had_hls.errors import UserError
from had_hls.fixed import FixedType
from had_hls.hls.encoder_layers import LUTGELU, EncoderHW, SeqLayerNorm, SeqLinear, TokenEmbedding, TokenPool
from had_hls.nn.attention import HammingAttention
from had_hls.nn.binarize import BinarizeMode
from had_hls.precision import Precision

AttentionRoute = Literal["native", "stock"]

SUPPORTED = (
    "Linear (token/patch embedding, FFN, classifier head), LayerNorm, HammingAttention, GELU, ReLU, "
    "residual add, mean or CLS pooling (Dropout/Identity are skipped)"
)
_SKIPPED = (nn.Dropout, nn.Identity)


@dataclass(frozen=True)
class ModelPrecision:
    """Fixed-point types of a whole-model project (the attention layers' types are ``attention``).

    data     : residual stream, embedding output, FFN output, adds, pooled vector, the model input
    hidden   : FFN hidden layer (after the first Linear and after the activation)
    norm     : LayerNorm outputs that do not feed an attention layer (those get ``attention.input``)
    logits   : classifier output
    weight/bias/accum : Linear and LayerNorm parameters and accumulators
    layers   : per hls4ml layer name overrides of ``result`` (e.g. {"blocks_0_fc1": "ap_fixed<20,8>"})
    """

    attention: Precision = field(default_factory=Precision)
    data: FixedType = FixedType(18, 8)
    hidden: FixedType = FixedType(18, 8)
    norm: FixedType = FixedType(16, 6)
    logits: FixedType = FixedType(18, 8)
    encoder: EncoderHW = field(default_factory=EncoderHW)
    layers: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ structure
@dataclass
class _Block:
    norm1: nn.LayerNorm
    attn: HammingAttention
    norm2: nn.LayerNorm
    fc1: nn.Linear
    act: nn.Module
    fc2: nn.Linear


@dataclass
class EncoderParts:
    """The pieces of a supported encoder, checked."""

    patch_embed: nn.Linear
    pos_embed: torch.Tensor | None
    cls_token: torch.Tensor | None
    blocks: list[_Block]
    norm: nn.LayerNorm
    head: nn.Linear
    pool: str

    @property
    def seq_len(self) -> int:
        return self.pos_embed.shape[-2] if self.pos_embed is not None else -1


def _unsupported(name: str, module: Any) -> UserError:
    return UserError(
        f"layer '{name}' ({type(module).__name__}) is not supported by had-hls convert; supported: {SUPPORTED}"
    )


def check_supported(model: nn.Module) -> None:
    """Raise UserError naming the first module that is not a supported layer (inside HammingAttention: not checked)."""
    allowed = (nn.Linear, nn.LayerNorm, HammingAttention, nn.GELU, nn.ReLU, nn.Sequential, nn.ModuleList, *_SKIPPED)
    inside_attention: list[str] = []
    for name, module in model.named_modules():
        if not name:
            continue
        if any(name.startswith(prefix + ".") for prefix in inside_attention):
            continue
        if isinstance(module, HammingAttention):
            inside_attention.append(name)
            continue
        if isinstance(module, allowed):
            continue
        if list(module.children()) and not list(module.parameters(recurse=False)):
            continue  # a container (e.g. an encoder block): its children are checked
        raise _unsupported(name, module)


def encoder_parts(model: nn.Module) -> EncoderParts:
    """Check ``model`` against the supported layout (module docstring) and return its parts; UserError otherwise."""
    check_supported(model)

    def need(obj: Any, attr: str, kind: type | tuple[type, ...], where: str) -> Any:
        value = getattr(obj, attr, None)
        if not isinstance(value, kind):
            got = "missing" if value is None else type(value).__name__
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise UserError(f"model.{where}{attr}: expected {names}, got {got}; supported encoder layers: {SUPPORTED}")
        return value

    patch = need(model, "patch_embed", nn.Linear, "")
    norm = need(model, "norm", nn.LayerNorm, "")
    head = need(model, "head", nn.Linear, "")
    blocks_raw = getattr(model, "blocks", None)
    if blocks_raw is None:
        raise UserError(f"model.blocks: missing; supported encoder layers: {SUPPORTED}")
    blocks = []
    for i, blk in enumerate(blocks_raw):
        where = f"blocks.{i}."
        mlp = [m for m in need(blk, "mlp", nn.Sequential, where) if not isinstance(m, _SKIPPED)]
        if len(mlp) != 3 or not isinstance(mlp[0], nn.Linear) or not isinstance(mlp[2], nn.Linear):
            raise UserError(f"model.{where}mlp: expected Sequential(Linear, GELU|ReLU, Linear), got {mlp}")
        if not isinstance(mlp[1], nn.GELU | nn.ReLU):
            raise _unsupported(f"{where}mlp.1", mlp[1])
        blocks.append(
            _Block(
                norm1=need(blk, "norm1", nn.LayerNorm, where),
                attn=need(blk, "attn", HammingAttention, where),
                norm2=need(blk, "norm2", nn.LayerNorm, where),
                fc1=mlp[0],
                act=mlp[1],
                fc2=mlp[2],
            )
        )
    cfg = getattr(model, "cfg", None)
    pool = getattr(cfg, "pool", None) or getattr(model, "pool", None) or "mean"
    if pool not in ("mean", "cls"):
        raise UserError(f"model pooling {pool!r} is not supported; supported: mean, cls")
    cls_token = getattr(model, "cls_token", None)
    if (pool == "cls") != (cls_token is not None):
        raise UserError("model: pool 'cls' needs a cls_token (and a cls_token needs pool 'cls')")
    pos = getattr(model, "pos_embed", None)
    return EncoderParts(
        patch_embed=patch,
        pos_embed=None if pos is None else pos.detach(),
        cls_token=None if cls_token is None else cls_token.detach(),
        blocks=blocks,
        norm=norm,
        head=head,
        pool=pool,
    )


# ------------------------------------------------------------------------------------------------ hardware graph
class HardwareBlock(nn.Module):
    """One pre-LN block built from hardware leaves."""

    def __init__(self, blk: _Block, attn: nn.Module) -> None:
        super().__init__()
        self.norm1 = SeqLayerNorm(blk.norm1)
        self.attn = attn
        self.norm2 = SeqLayerNorm(blk.norm2)
        self.fc1 = SeqLinear(blk.fc1)
        self.act = LUTGELU(blk.act.approximate) if isinstance(blk.act, nn.GELU) else nn.ReLU()
        self.fc2 = SeqLinear(blk.fc2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


class HardwareEncoder(nn.Module):
    """The traced model: (B, L_in, K) patch vectors -> (B, classes) logits; same float semantics as the source."""

    def __init__(self, parts: EncoderParts, seq_in: int, route: AttentionRoute = "native") -> None:
        super().__init__()
        self.embed = TokenEmbedding(parts.patch_embed, parts.pos_embed, parts.cls_token)
        seq_len = seq_in + (1 if parts.cls_token is not None else 0)
        blocks = []
        for blk in parts.blocks:
            attn: nn.Module = blk.attn
            if route == "stock":
                from had_hls.hls.stock_attention import StockAttention

                attn = StockAttention(blk.attn, seq_len)
            blocks.append(HardwareBlock(blk, attn))
        self.blocks = nn.ModuleList(blocks)
        self.norm = SeqLayerNorm(parts.norm)
        self.pool = TokenPool(parts.pool)
        self.head = parts.head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.embed(x)
        for blk in self.blocks:
            t = blk(t)
        return self.head(self.pool(self.norm(t)))


def hardware_encoder(
    model: nn.Module, seq_in: int, precision: ModelPrecision, route: AttentionRoute = "native"
) -> HardwareEncoder:
    """A float64 copy of ``model`` as the traced hardware graph, with the hardware knobs set on its leaves."""
    parts = encoder_parts(copy.deepcopy(model).double().eval())
    hw_model = HardwareEncoder(parts, seq_in, route).double().eval()
    for m in hw_model.modules():
        if hasattr(m, "hw") and not isinstance(m, HardwareEncoder):
            m.hw = precision.encoder
        if isinstance(m, HammingAttention):
            m.hardware_precision = precision.attention
    return hw_model


def hard_student(model: nn.Module) -> nn.Module:
    """A copy whose attention layers run in hard mode (what the hardware computes), top-N kept."""
    m = copy.deepcopy(model).eval()
    for layer in m.modules():
        if isinstance(layer, HammingAttention) and layer.mode is not BinarizeMode.FLOAT:
            layer.set_mode(BinarizeMode.HARD)
    return m
