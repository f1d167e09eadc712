"""io_stream HAD attention: three hls4ml layers joined by hls::stream under the top-level DATAFLOW.

    x --HammingScore--> rows of L Hamming distances, one per (query i, head h)   [L*H, L]
      --TopNSelect--->  N slots {valid, key index, ham - ham_min} per row        [L*H, N]
      --SparseSoftmaxAV (with x again, for V)--> y                              [L, E]

Each stage is a torch leaf module (an ``HLS4MLModule``) with real semantics, so hls4ml's FX front end sees three
nodes and inserts the stream clone of ``x`` itself; :class:`StreamingHammingAttention` wires them and equals
``HammingAttention`` in hard mode. The C++ is templates/hls/nnet_had_attention_stream.h; arithmetic is the
io_parallel layer's (spec.py), so the golden model covers both.
"""

from __future__ import annotations

import hls4ml.utils.torch
import torch
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.layers import Layer
from hls4ml.model.types import IntegerPrecisionType
from torch import nn

from had_hls.fixed import bits_for_unsigned
from had_hls.hls.weights import add_projection_weights, add_table_weights, hls_precision
from had_hls.nn.attention import HammingAttention, hamming_distance
from had_hls.nn.topn import topn_keep_mask
from had_hls.spec import AttentionSpec, Precision, spec_from_module

STREAM_HEADERS = ("nnet_attention_common.h", "nnet_hamming.h", "nnet_topn_select.h", "nnet_had_attention_stream.h")


def slot_layout(seq_len: int, head_dim: int) -> tuple[int, int]:
    """(index_bits, ham_bits) of a top-N slot word: ham_bits holds 0..d+1 (d+1 marks a padded key)."""
    return bits_for_unsigned(max(seq_len - 1, 1)), bits_for_unsigned(head_dim + 1)


# ------------------------------------------------------------------------------------------------ torch stages
class HammingScoreStage(hls4ml.utils.torch.HLS4MLModule):
    """(B, L, E) [+ (B, L) padding mask] -> (B, L*H, L) Hamming distances, row r = i*H + h; padded keys -> d+1."""

    def __init__(self, attn: HammingAttention) -> None:
        super().__init__()
        self.attn = attn

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        a = self.attn
        ham = hamming_distance(a._heads(a.q_proj(x)), a._heads(a.k_proj(x)))  # (B, H, L, L)
        if key_padding_mask is not None:
            ham = ham.masked_fill(key_padding_mask[:, None, None, :].bool(), a.head_dim + 1)
        b, h, seq, _ = ham.shape
        return ham.transpose(1, 2).reshape(b, seq * h, seq).to(x.dtype)


class TopNSelectStage(hls4ml.utils.torch.HLS4MLModule):
    """(B, R, L) distances -> (B, R, N) slot words valid*2^(IB+HB) + j*2^HB + (ham_j - min kept ham), key order."""

    def __init__(self, attn: HammingAttention, seq_len: int) -> None:
        super().__init__()
        self.attn = attn
        self.seq_len = seq_len

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        d = self.attn.head_dim
        n = self.attn.top_n.keep(self.seq_len)
        ib, hb = slot_layout(self.seq_len, d)
        valid = scores <= d
        kept = topn_keep_mask(torch.where(valid, -scores, float("-inf")), n) & valid
        hmin = torch.where(kept, scores, float(d + 1)).amin(-1, keepdim=True)
        keys = torch.arange(scores.shape[-1], dtype=scores.dtype, device=scores.device)
        words = 2.0 ** (ib + hb) + keys * 2.0**hb + (scores - hmin)
        slot = torch.cumsum(kept.long(), -1) - 1  # slot of each kept key, in key order
        out = torch.zeros(*scores.shape[:-1], n + 1, dtype=scores.dtype, device=scores.device)
        out.scatter_(-1, torch.where(kept, slot, n), torch.where(kept, words, 0.0))
        return out[..., :n]


class SparseSoftmaxAVStage(hls4ml.utils.torch.HLS4MLModule):
    """(B, L*H, N) slots + (B, L, E) x -> (B, L, E): softmax weights exp(-2 alpha delta) over the slots, AV, Wo."""

    def __init__(self, attn: HammingAttention, seq_len: int) -> None:
        super().__init__()
        self.attn = attn
        self.seq_len = seq_len

    def forward(self, selected: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        a = self.attn
        ib, hb = slot_layout(self.seq_len, a.head_dim)
        words = selected.long()
        valid = (words >> (ib + hb)) & 1
        index = (words >> hb) & ((1 << ib) - 1)
        delta = (words & ((1 << hb) - 1)).to(x.dtype)
        w = torch.exp(-2 * a.alpha * delta) * valid
        w = w / w.sum(-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)
        b, seq, _ = x.shape
        v = a._heads(a.v_proj(x))  # (B, H, L, d)
        w = w.view(b, seq, a.num_heads, -1).transpose(1, 2)  # (B, H, L, N)
        index = index.view(b, seq, a.num_heads, -1).transpose(1, 2)
        gathered = torch.gather(
            v.unsqueeze(2).expand(-1, -1, seq, -1, -1),
            3,
            index.unsqueeze(-1).expand(-1, -1, -1, -1, a.head_dim),
        )  # (B, H, L, N, d)
        ctx = (w.unsqueeze(-1) * gathered).sum(3)
        return a.out_proj(ctx.transpose(1, 2).reshape(b, seq, a.embed_dim))


class StreamingHammingAttention(nn.Module):
    """HammingAttention (hard mode, top-N on) as the three io_stream stages; same outputs."""

    def __init__(self, attn: HammingAttention, seq_len: int) -> None:
        super().__init__()
        if not attn.top_n.enabled:
            raise ValueError("streaming HAD attention needs top-N (top_n) enabled")
        self.score = HammingScoreStage(attn)
        self.topn = TopNSelectStage(attn, seq_len)
        self.softmax_av = SparseSoftmaxAVStage(attn, seq_len)

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        scores = self.score(x) if key_padding_mask is None else self.score(x, key_padding_mask)
        return self.softmax_av(self.topn(scores), x)


# ------------------------------------------------------------------------------------------------ IR layers
class _StreamStage(Layer):
    def spec(self) -> AttentionSpec:
        return self.get_attr("spec")

    def add_projection(self, key: str) -> None:
        add_projection_weights(self, self.spec(), key)


class HammingScore(_StreamStage):
    def initialize(self) -> None:
        spec = self.spec()
        _, hb = slot_layout(spec.seq_len, spec.head_dim)
        self.add_output_variable(
            [spec.seq_len * spec.num_heads, spec.seq_len], precision=IntegerPrecisionType(hb, False)
        )
        self.add_projection("q")
        self.add_projection("k")


class TopNSelect(_StreamStage):
    def initialize(self) -> None:
        spec = self.spec()
        ib, hb = slot_layout(spec.seq_len, spec.head_dim)
        self.add_output_variable(
            [spec.seq_len * spec.num_heads, spec.top_n], precision=IntegerPrecisionType(1 + ib + hb, False)
        )


class SparseSoftmaxAV(_StreamStage):
    def initialize(self) -> None:
        spec = self.spec()
        self.add_output_variable([spec.seq_len, spec.embed_dim], precision=hls_precision(spec.precision.result))
        self.add_projection("v")
        self.add_projection("o")
        add_table_weights(self, spec)


def _stream_config(node: Layer, base: str) -> str:
    from had_hls.hls.attention_layers import config_struct

    spec: AttentionSpec = node.get_attr("spec")
    ib, hb = slot_layout(spec.seq_len, spec.head_dim)
    wname = "wq" if "wq" in node.weights else ("wv" if "wv" in node.weights else None)
    weight_t = node.get_weights(wname).type.name if wname else "ap_fixed<16,6>"
    bias_t = node.get_weights("b" + wname[1]).type.name if wname else "ap_fixed<16,6>"
    struct = config_struct(spec, node.index, base, weight_t, bias_t)
    extra = (
        f"    static const unsigned ham_bits = {hb};\n"
        f"    static const unsigned index_bits = {ib};\n"
        f"    typedef ap_uint<{hb}> ham_t;\n"
    )
    # the padded-distance form needs one more ham bit than the io_parallel layer: redefine ham_t in the struct
    struct = struct.replace(f"    typedef ap_uint<{spec.widths['ham']}> ham_t;\n", "")
    return struct.replace("};\n", extra + "};\n", 1)


def _templates():
    headers = [f"nnet_utils/{h}" for h in STREAM_HEADERS]

    class HammingScoreConfigTemplate(LayerConfigTemplate):
        def __init__(self) -> None:
            super().__init__(HammingScore)

        def format(self, node: Layer) -> str:
            return _stream_config(node, "hamming_score_stream_config")

    class HammingScoreFunctionTemplate(FunctionCallTemplate):
        def __init__(self) -> None:
            super().__init__(HammingScore, include_header=headers)

        def format(self, node: Layer) -> str:
            p = self._default_function_params(node)
            w = ", ".join(node.get_weights(n).name for n in ("wq", "bq", "wk", "bk"))
            if len(node.inputs) == 2:
                mask = node.get_input_variable(node.inputs[1])
                return (
                    f"nnet::hamming_score_stream_masked<{p['input_t']}, {mask.type.name}, {p['output_t']}, "
                    f"{p['config']}>({p['input']}, {mask.name}, {p['output']}, {w});"
                )
            return (
                f"nnet::hamming_score_stream<{p['input_t']}, {p['output_t']}, {p['config']}>"
                f"({p['input']}, {p['output']}, {w});"
            )

    class TopNSelectConfigTemplate(LayerConfigTemplate):
        def __init__(self) -> None:
            super().__init__(TopNSelect)

        def format(self, node: Layer) -> str:
            return _stream_config(node, "hamming_score_stream_config")

    class TopNSelectFunctionTemplate(FunctionCallTemplate):
        def __init__(self) -> None:
            super().__init__(TopNSelect, include_header=headers)

        def format(self, node: Layer) -> str:
            p = self._default_function_params(node)
            return (
                f"nnet::topn_select_stream<{p['input_t']}, {p['output_t']}, {p['config']}>"
                f"({p['input']}, {p['output']});"
            )

    class SparseSoftmaxAVConfigTemplate(LayerConfigTemplate):
        def __init__(self) -> None:
            super().__init__(SparseSoftmaxAV)

        def format(self, node: Layer) -> str:
            return _stream_config(node, "hamming_score_stream_config")

    class SparseSoftmaxAVFunctionTemplate(FunctionCallTemplate):
        def __init__(self) -> None:
            super().__init__(SparseSoftmaxAV, include_header=headers)

        def format(self, node: Layer) -> str:
            p = self._default_function_params(node)
            sel = node.get_input_variable(node.inputs[0])
            x = node.get_input_variable(node.inputs[1])
            w = ", ".join(node.get_weights(n).name for n in ("wv", "bv", "wo", "bo", "exp_table", "recip_table"))
            return (
                f"nnet::sparse_softmax_av_stream<{sel.type.name}, {x.type.name}, {p['output_t']}, {p['config']}>"
                f"({sel.name}, {x.name}, {p['output']}, {w});"
            )

    return [
        HammingScoreConfigTemplate,
        HammingScoreFunctionTemplate,
        TopNSelectConfigTemplate,
        TopNSelectFunctionTemplate,
        SparseSoftmaxAVConfigTemplate,
        SparseSoftmaxAVFunctionTemplate,
    ]


# ------------------------------------------------------------------------------------------------ parsers
def _spec_for(stage, layer_name: str, seq_len: int, masked: bool) -> AttentionSpec:
    attn = stage.attn
    precision = getattr(attn, "hardware_precision", None) or Precision()
    return spec_from_module(attn, "had", seq_len, precision=precision, key_padding_mask=masked, name=layer_name)


def parse_score(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    seq_len = int(input_shapes[0][1])
    spec = _spec_for(class_object, layer_name, seq_len, len(input_names) > 1)
    layer = {"class_name": "HammingScore", "name": layer_name, "inputs": list(input_names), "spec": spec}
    return layer, [None, seq_len * spec.num_heads, seq_len]


def parse_topn(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    spec = _spec_for(class_object, layer_name, class_object.seq_len, False)
    layer = {"class_name": "TopNSelect", "name": layer_name, "inputs": list(input_names), "spec": spec}
    return layer, [None, spec.seq_len * spec.num_heads, spec.top_n]


def parse_softmax_av(operation, layer_name, input_names, input_shapes, node, class_object, data_reader, config):
    spec = _spec_for(class_object, layer_name, class_object.seq_len, False)
    layer = {"class_name": "SparseSoftmaxAV", "name": layer_name, "inputs": list(input_names), "spec": spec}
    return layer, [None, spec.seq_len, spec.embed_dim]


HANDLERS = {
    "HammingScoreStage": parse_score,
    "TopNSelectStage": parse_topn,
    "SparseSoftmaxAVStage": parse_softmax_av,
}
LAYERS = {"HammingScore": HammingScore, "TopNSelect": TopNSelect, "SparseSoftmaxAV": SparseSoftmaxAV}
