"""A whole HAD encoder (patch/token embedding -> pre-LN blocks -> pooling -> classifier head) as ONE hls4ml project.

Hardware boundary: the model input is the matrix of patch (or token feature) vectors, shape (L_in, K) per sample
(K = C*P*P for a ViT); **patchify happens on the host** (``TinyViT.patchify``), because cutting an image into patches
is a re-indexing that belongs in the DMA/stream layout, not in compute. The output is the logits (num_classes,).

Supported layout (the :class:`had_hls.models.vit.TinyViT` layout; any module with these attributes converts):

    patch_embed : nn.Linear(K, E)                 token/patch embedding, one Linear per token
    pos_embed   : (1, L, E) parameter or None     positional table, added after the embedding
    cls_token   : (1, 1, E) parameter or None     prepended when pooling is "cls"
    blocks      : iterable of blocks, each        x = x + attn(norm1(x));  x = x + mlp(norm2(x))
                  norm1, norm2: nn.LayerNorm(E);  attn: had_hls.nn.HammingAttention
                  mlp: nn.Sequential(Linear(E, F), GELU | ReLU, Linear(F, E)) (Dropout/Identity ignored)
    norm        : nn.LayerNorm(E)                 final norm
    pooling     : mean over tokens, or the CLS token (``cfg.pool`` / ``pool``)
    head        : nn.Linear(E, classes)

hls4ml layers: TokenEmbedding -> HADTokenEmbed, LayerNorm -> HADLayerNorm, Linear on (L, E) -> HADDenseSeq, GELU ->
HADGELU (table), ReLU -> hls4ml Activation, residual -> hls4ml Add, pooling -> HADTokenPool, head -> hls4ml Dense;
HammingAttention -> HADAttention (binary modes) / FPAttention (float mode), bit-exact with had_hls.golden;
``attention="stock"`` builds every attention from stock hls4ml ops instead (hls4ml's own route,
had_hls.hls.stock_attention). Types: :class:`ModelPrecision` (the project's ``convert:`` section).

The generated project is io_stream (:data:`MODEL_IO_TYPE`): every layer is a DATAFLOW process reading and writing one
token a stream word, the residual branches are hls4ml Clone streams (depth L, one sequence: the attention layer
reads all L tokens before its first output), and every Linear / attention layer takes the target's ReuseFactor and
Strategy (None: matched to the attention core's H ceil(L/P) cycles a token). io_parallel would need the residual
arrays read by two DATAFLOW processes, which Vitis does not allow (one producer, one consumer per channel); the
stock-op comparison route stays io_parallel (hls4ml's einsum and softmax layers).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import hls4ml
import numpy as np
import torch
from torch import nn

from had_hls.config import ConfigError
from had_hls.errors import UserError
from had_hls.fixed import FixedType
from had_hls.hls import frontend_fixes
from had_hls.hls.convert import HLSTarget, configure_attention, target_for
from had_hls.hls.encoder_layers import (
    LUTGELU,
    EncoderHW,
    SeqLayerNorm,
    SeqLinear,
    TokenEmbedding,
    TokenPool,
    register,
)
from had_hls.hls.top_style import apply_top_style
from had_hls.nn.attention import HammingAttention
from had_hls.nn.binarize import BinarizeMode
from had_hls.spec import Precision

AttentionRoute = Literal["native", "stock"]
MODEL_IO_TYPE = "io_stream"

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


# ------------------------------------------------------------------------------------------------ hls4ml config
def _check_types(precision: ModelPrecision) -> None:
    hw = precision.encoder
    for name in ("data", "hidden"):
        t: FixedType = getattr(precision, name)
        if t.integer <= hw.gelu_range_bits + 1:
            raise UserError(
                f"convert.{name}: {t.cpp()} needs more than {hw.gelu_range_bits + 1} integer bits for the GELU range "
                f"[-2^{hw.gelu_range_bits}, 2^{hw.gelu_range_bits})"
            )
    if hw.gelu_table_bits <= hw.gelu_range_bits + 1:
        raise UserError("convert.gelu_table_bits must exceed convert.gelu_range_bits + 1")


def model_config(
    hw_model: HardwareEncoder,
    seq_shape: tuple[int, int],
    precision: ModelPrecision,
    backend: str,
    target: HLSTarget | None = None,
) -> dict[str, Any]:
    """hls4ml config (granularity 'name') with the types of ``precision`` on every layer, and ``target``'s
    ReuseFactor / Strategy / Lanes / PipelineStyle on the layers that take them."""
    target = target or HLSTarget()
    cfg = hls4ml.utils.config_from_pytorch_model(
        hw_model,
        input_shape=tuple(seq_shape),
        granularity="name",
        backend=backend,
        default_precision=precision.data.cpp(),
        channels_last_conversion="off",
    )
    layers: dict[str, dict[str, Any]] = cfg["LayerName"]
    enc = precision.encoder

    def result(name: str, t: FixedType | str) -> None:
        entry = layers.setdefault(name, {})
        prec = entry.get("Precision")
        if not isinstance(prec, dict):
            prec = {}
            entry["Precision"] = prec
        prec["result"] = t if isinstance(t, str) else t.cpp()

    for name in layers:
        result(name, precision.data)
    for i, blk in enumerate(hw_model.blocks):
        p = f"blocks_{i}"
        feeds_attention = isinstance(blk.attn, HammingAttention)
        result(f"{p}_norm1", precision.attention.input if feeds_attention else precision.norm)
        result(f"{p}_norm2", precision.norm)
        result(f"{p}_fc1", precision.hidden)
        result(f"{p}_act", precision.hidden)
        if not feeds_attention:
            _stock_attention_types(layers, blk.attn.seq_len)
    result("norm", precision.norm)
    result("head", precision.logits)
    head = layers["head"]["Precision"]
    head.update(weight=enc.weight.cpp(), bias=enc.bias.cpp(), accum=enc.accum.cpp())
    for name, t in precision.layers.items():
        if name not in layers:
            raise UserError(f"convert.layers.{name}: no such layer; layers: {', '.join(layers)}")
        result(name, t)
    _reuse_config(cfg, hw_model, seq_shape, target)
    return cfg


def _reuse_config(
    cfg: dict[str, Any], hw_model: HardwareEncoder, seq_shape: tuple[int, int], target: HLSTarget
) -> None:
    """ReuseFactor / Strategy of every Linear and attention layer, Lanes of the attention layers, the GELU tables'
    cycles a token: all matched to the attention core's row time H ceil(L/P) unless the target fixes ReuseFactor."""
    layers = cfg["LayerName"]
    seq = int(seq_shape[0]) + (1 if hw_model.embed.cls is not None else 0)
    attn = [blk.attn for blk in hw_model.blocks if isinstance(blk.attn, HammingAttention)]
    heads = attn[0].num_heads if attn else 1
    rows = target.row_cycles(seq, heads)

    def dense(name: str, n_in: int, n_out: int) -> None:
        if name in layers:
            layers[name].update(target.layer_config(name, n_in, n_out, rows))

    dense("embed", hw_model.embed.linear.in_features, hw_model.embed.linear.out_features)
    dense("head", hw_model.head.in_features, hw_model.head.out_features)
    for i, blk in enumerate(hw_model.blocks):
        p = f"blocks_{i}"
        dense(f"{p}_fc1", blk.fc1.linear.in_features, blk.fc1.linear.out_features)
        dense(f"{p}_fc2", blk.fc2.linear.in_features, blk.fc2.linear.out_features)
        if isinstance(blk.attn, HammingAttention):
            configure_attention(cfg, blk.attn, seq, target, f"{p}_attn")
        if f"{p}_act" in layers and isinstance(blk.act, LUTGELU):
            width = blk.fc1.linear.out_features
            cycles = target.reuse_factor if target.reuse_factor is not None else rows
            layers[f"{p}_act"]["ReuseFactor"] = max(1, min(cycles, width))
    cfg["Model"]["PipelineStyle"] = target.pipeline_style  # Strategy per layer: hls4ml's einsum needs Latency


def _stock_attention_types(layers: dict[str, dict[str, Any]], seq: int) -> None:
    """The fine softmax settings of had_hls.hls.stock_attention on every stock attention layer (FX names them
    ``blocks_<i>_attn_*`` for modules and ``einsum[_k]``/``softmax[_k]``/``view[_k]``/... for functions)."""
    inv_inp_int = max(5, math.ceil(math.log2(seq + 1)) + 1)
    for name, entry in layers.items():
        is_fn = name.split("_")[0] in ("einsum", "softmax", "view", "flatten")
        if "_attn_" not in name and not is_fn:
            continue
        prec = entry.setdefault("Precision", {})
        prec["result"] = "ap_fixed<32,12>"
        if name.startswith("einsum") and int((name.split("_") + ["0"])[1]) % 2 == 0:
            prec["result"] = "ap_fixed<24,6,AP_RND,AP_SAT>"
        if name.startswith("softmax"):
            entry["TableSize"] = 4096
            entry["exp_table_t"] = "ap_ufixed<18,1,AP_RND,AP_SAT>"
            entry["inv_table_t"] = "ap_ufixed<18,2,AP_RND,AP_SAT>"
            entry["inv_inp_t"] = f"ap_ufixed<18,{inv_inp_int},AP_RND,AP_SAT>"
            prec["accum"] = f"ap_ufixed<24,{inv_inp_int + 1}>"
            prec["result"] = "ap_ufixed<18,1,AP_RND,AP_SAT>"
        if name.endswith(("q_proj", "k_proj", "v_proj", "out_proj")):
            prec.update(weight="ap_fixed<18,4>", bias="ap_fixed<18,6>", accum="ap_fixed<40,16>")


@dataclass
class ConvertedModel:
    """An hls4ml ModelGraph (written, not compiled) and the torch graph it was traced from."""

    hls_model: Any
    torch_model: HardwareEncoder
    config: dict[str, Any]
    seq_shape: tuple[int, int]
    attention_layers: list[str]

    def torch_logits(self, patches: np.ndarray) -> np.ndarray:
        """Float64 reference logits of the traced graph (binary attention in hard mode as the source)."""
        with torch.no_grad():
            return self.torch_model(torch.as_tensor(patches, dtype=torch.float64)).numpy()


def convert_model(
    model: nn.Module,
    seq_shape: tuple[int, int],
    output_dir: str | Path,
    precision_cfg: ModelPrecision | None = None,
    target: HLSTarget | None = None,
    route: AttentionRoute = "native",
    project_name: str = "had_encoder",
    tb_inputs: np.ndarray | None = None,
    tb_outputs: np.ndarray | None = None,
    trace_attention: bool = False,
) -> ConvertedModel:
    """Convert a supported HAD encoder (module docstring) to one hls4ml project; ``seq_shape`` = (L_in, K).

    HammingAttention layers keep their mode: binary -> HADAttention (bit-exact with golden), float -> FPAttention;
    ``route='stock'`` builds them from stock hls4ml ops (float attention, no top-N). ``tb_inputs`` (N, L_in, K) /
    ``tb_outputs`` (N, classes) become the project's tb_data. ``target.io_type``: io_stream for the generated
    projects (module docstring); the stock route needs io_parallel.
    """
    register()
    target = target or HLSTarget(io_type=MODEL_IO_TYPE)
    precision = precision_cfg or ModelPrecision()
    if route == "stock" and target.io_type != "io_parallel":
        raise UserError(f"hls.io_type: {target.io_type!r} is not supported by the stock-op route; allowed: io_parallel")
    _check_types(precision)
    seq_in, k = (int(s) for s in seq_shape)
    parts = encoder_parts(model)
    if parts.patch_embed.in_features != k:
        raise UserError(f"input features {k} != patch_embed.in_features {parts.patch_embed.in_features}")
    hw_model = hardware_encoder(model, seq_in, precision, route)
    if route == "stock":
        for blk in hw_model.blocks:
            if isinstance(blk.attn, HammingAttention):
                raise UserError("stock route: internal error, attention not replaced")
    out = Path(output_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()), frontend_fixes.enabled():
        try:
            cfg = model_config(hw_model, (seq_in, k), precision, target.backend, target)
        except ConfigError:
            raise
        except ValueError as err:  # a layer hls4ml or our handlers reject (e.g. types too wide for golden)
            raise UserError(f"hls4ml conversion failed: {err}") from None
        attn_names = [f"blocks_{i}_attn" for i in range(len(hw_model.blocks))] if route == "native" else []
        if trace_attention:
            for i, name in enumerate(attn_names):
                cfg["LayerName"][name]["Trace"] = True
                cfg["LayerName"][f"blocks_{i}_norm1"]["Trace"] = True
        kwargs: dict[str, Any] = {}
        tb_dir = out.parent / f".{out.name}.tb"
        if tb_inputs is not None:
            tb_dir.mkdir(parents=True, exist_ok=True)
            np.save(tb_dir / "input.npy", np.asarray(tb_inputs, dtype=np.float64).reshape(len(tb_inputs), -1))
            kwargs["input_data_tb"] = str(tb_dir / "input.npy")
            if tb_outputs is not None:
                np.save(tb_dir / "output.npy", np.asarray(tb_outputs, dtype=np.float64).reshape(len(tb_outputs), -1))
                kwargs["output_data_tb"] = str(tb_dir / "output.npy")
        try:
            try:
                hls_model = hls4ml.converters.convert_from_pytorch_model(
                    hw_model,
                    hls_config=cfg,
                    output_dir=str(out),
                    project_name=project_name,
                    backend=target.backend,
                    io_type=target.io_type,
                    part=target.part,
                    clock_period=target.clock_period,
                    **kwargs,
                )
            except ConfigError:
                raise
            except ValueError as err:  # a layer hls4ml or our handlers reject (e.g. types too wide for golden)
                raise UserError(f"hls4ml conversion failed: {err}") from None
            apply_top_style(hls_model, target.pipeline_style)
            hls_model.write()
            # tb_data is written now; later writes (compile() writes again) must not look for the temporary files
            hls_model.config.config["InputData"] = None
            hls_model.config.config["OutputPredictions"] = None
        finally:
            if tb_dir.exists():
                for f in tb_dir.iterdir():
                    f.unlink()
                tb_dir.rmdir()
    return ConvertedModel(hls_model, hw_model, cfg, (seq_in, k), attn_names)


def hard_student(model: nn.Module) -> nn.Module:
    """A copy whose attention layers run in hard mode (what the hardware computes), top-N kept."""
    m = copy.deepcopy(model).eval()
    for layer in m.modules():
        if isinstance(layer, HammingAttention) and layer.mode is not BinarizeMode.FLOAT:
            layer.set_mode(BinarizeMode.HARD)
    return m


def precision_with(precision: ModelPrecision, **changes: Any) -> ModelPrecision:
    """``dataclasses.replace`` for ModelPrecision (convenience for callers and tests)."""
    return replace(precision, **changes)


# ------------------------------------------------------------------------------------------------ project command
BUILD_OPTS = """array set opt {
    reset      0
    csim       1
    synth      1
    cosim      1
    validation 1
    export     1
    vsynth     0
    fifo_opt   0
}
"""

VITIS_COMMAND = "vitis-run --mode hls --tcl build_prj.tcl"
VITIS_HLS_COMMAND = "vitis_hls -f build_prj.tcl"


def _readme(name: str, samples: int, agree: float, acc: float) -> str:
    return f"""# {name}: whole HAD encoder, hls4ml project (Vitis HLS, io_parallel)

Input: the patch vectors of one image, (L, C*P*P) row-major (patchify on the host, TinyViT.patchify).
Output: the logits. Top function: `had_encoder` in firmware/had_encoder.cpp.

Run C simulation, C synthesis, RTL co-simulation and IP export (needs AMD Vitis on PATH):

    {VITIS_COMMAND}        # Vitis >= 2024.2
    {VITIS_HLS_COMMAND}                       # older Vitis HLS

tb_data/tb_input_features.dat holds {samples} real test-set inputs; tb_data/tb_output_predictions.dat the logits
of had-hls's g++ C-simulation of this very code (the Vitis C-sim and co-sim must reproduce them; build_opt.tcl has
validation on, which compares co-sim with C-sim). tb_data/labels.dat: true classes; tb_data/torch_logits.dat: the
float HAD student's logits. At convert time: C-sim argmax == student argmax on {agree:.1%}, accuracy {acc:.1%}.
See docs/vitis.md in the had-hls repository.
"""


def run_convert(project: Any, out: str | Path | None = None, quiet: bool = True) -> dict[str, Any]:
    """`had-hls convert`: the project's distilled encoder -> projects/<name>/hls/model/ (Vitis-ready, C-simulated).

    Writes the hls4ml project, tb_data from real test-set inputs with the C-sim logits as expected outputs, a
    build_opt.tcl with csim/csynth/cosim/export on, README.md and convert.json (returned, plus ``headline``).
    """
    import time

    from had_hls.hls.check import check_graphs, update_check
    from had_hls.hls.model_config import convert_section
    from had_hls.hls.model_project import load_models, parallel_predict, test_set
    from had_hls.io import check_output_dir, staged_output, write_json
    from had_hls.procs import require_tool
    from had_hls.verify.testbench import write_dat

    sec = convert_section(project)
    precision = sec.model_precision(project)
    target = target_for(project, io_type=MODEL_IO_TYPE)
    out_dir = project.output_dir(out)
    check_output_dir(out_dir)
    require_tool("g++", "the C-simulation build")
    models = load_models(project)
    patches, labels = test_set(project, models.student, sec.testbench_samples)
    with staged_output(out_dir) as stage:
        prj = stage / "hls" / "model"
        t0 = time.perf_counter()
        cm = convert_model(models.student, patches.shape[1:], prj, precision, target, tb_inputs=patches)
        convert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            cm.hls_model.compile()  # ToolError (compiler, status or signal, log kept under <out>/logs/) on failure
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        y = parallel_predict(cm.hls_model, patches)
        run_s = time.perf_counter() - t0
        ref = cm.torch_logits(patches)
        write_dat(prj / "tb_data" / "tb_output_predictions.dat", y)
        write_dat(prj / "tb_data" / "torch_logits.dat", ref)
        write_dat(prj / "tb_data" / "labels.dat", labels[:, None])
        (prj / "build_opt.tcl").write_text(BUILD_OPTS)
        agree = float(np.mean(y.argmax(1) == ref.argmax(1)))
        acc = float(np.mean(y.argmax(1) == labels))
        (prj / "README.md").write_text(_readme(project.name, len(patches), agree, acc))
        layers = [
            {"name": layer.name, "class": layer.class_name, "result": str(layer.get_output_variable().type.precision)}
            for layer in cm.hls_model.get_layers()
        ]
        report = {
            "name": project.name,
            "project_dir": str(out_dir / "hls" / "model"),
            "top_function": cm.hls_model.config.get_project_name(),
            "backend": target.backend,
            "io_type": target.io_type,
            "part": target.part,
            "clock_period": target.clock_period,
            "input_shape": list(cm.seq_shape),
            "input_note": "patch vectors (L, C*P*P); patchify runs on the host",
            "checkpoint": str(models.student_path),
            "testbench_samples": len(patches),
            "testbench_csim_vs_student_argmax_agreement": agree,
            "testbench_csim_accuracy": acc,
            "testbench_student_accuracy": float(np.mean(ref.argmax(1) == labels)),
            "max_abs_logit_err_vs_student": float(np.abs(y - ref).max()),
            "convert_s": round(convert_s, 2),
            "compile_s": round(compile_s, 2),
            "csim_s": round(run_s, 2),
            "vitis_command": f"cd {out_dir / 'hls' / 'model'} && {VITIS_COMMAND}",
            "layers": layers,
        }
        checks = check_graphs(project, {"hls/model": cm.hls_model})
        report["check"] = {"ok": not checks[0].violations, "violations": list(checks[0].violations)}
        write_json(prj / "convert.json", report)
    write_json(out_dir / "check.json", update_check(out_dir, checks))  # beside csim's entries for hls/had, hls/fp
    report["headline"] = (
        f"{out_dir / 'hls' / 'model'}: {len(layers)} layers, compile {compile_s:.0f} s, tb C-sim accuracy "
        f"{acc:.3f} (student {report['testbench_student_accuracy']:.3f}, argmax agreement {agree:.3f})"
    )
    return report
