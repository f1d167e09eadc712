"""AttentionSpec -> RTL parameters, table/weight memory files and test vectors for the layer of templates/rtl/.

Everything the Verilog computes with comes from the spec as integers:
  exp_table.hex   = spec.exp_table (HAD: d+1 entries; FP: fp_exp_table_size entries), EW = precision.exp_table.width
  recip_table.hex = spec.recip_table (2^R entries)
  wo.hex          = spec.o.weight, (out, in) row-major, two's complement WW bits
  bo_acc.hex      = accum.from_mantissa(spec.o.bias, F_bias): the bias already converted to the accumulator (the
                    value golden.project starts each accumulator from), two's complement ACCW bits
The vectors fed to the core are the projection outputs of golden.attention_trace (see docs/rtl.md for why):
HAD: q/k = sign bits (q_acc < 0, k_acc < 0); FP: q/k = qk.from_mantissa(acc, F_acc); both: v = trace.v.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from had_hls.fixed import OVERFLOW_MODES, QUANT_MODES, FixedType, bits_for_unsigned
from had_hls.golden import GoldenTrace
from had_hls.rtl.derive import (
    RtlLimitError,
    check_parameters,
    clog2,
    hamming_latency,
    mul_wide_latency,
    topn_hist_pipe,
    topn_keep_stages,
    topn_scan_bins,
    tree_latency,
)
from had_hls.spec import AttentionSpec

RTL_TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "rtl"
TB_DIR = Path(__file__).resolve().parents[2] / "verification" / "rtl"
RTL_SOURCES = (
    "hamming_unit.v",
    "topn_stream.v",
    "softmax_av.v",
    "attention_common.v",
    "attention_control.v",
    "fp_score_unit.v",
    "had_attention_core.v",
    "fp_attention_core.v",
    "out_proj.v",
)
TB_SOURCE = "tb_attention.v"
# the sources each core reads (synthesis reads only these; its cache key hashes only these)
CORE_SOURCES = {
    "had": ("hamming_unit.v", "topn_stream.v", "softmax_av.v", "attention_common.v", "attention_control.v",
            "had_attention_core.v"),
    "fp": ("fp_score_unit.v", "softmax_av.v", "attention_common.v", "attention_control.v", "fp_attention_core.v"),
}
# the parameters of each core module, in its header's order (the rest of RtlDesign.params belongs to
# out_proj); every one is derived in design_for and none in the Verilog
CORE_PARAMS = {
    "had": ("L", "E", "H", "P", "N", "D", "G", "NK", "PA", "NA", "DN", "NC", "HB", "KW", "S", "TPIPE", "KST", "BD",
            "CDEP", "CRB", "KB", "XB", "LASTW", "EW", "RW", "R", "SUMW", "AVW", "NPW", "VW", "CW", "VF", "RF", "CF"),
    "fp": ("L", "E", "H", "P", "D", "G", "DN", "NC", "BD", "XB", "LASTW", "QW", "SW", "IPW", "INV", "ISH", "T", "TB",
           "EW", "RW", "R", "SUMW", "AVW", "NPW", "VW", "CW", "VF", "RF", "CF", "PACK", "ESH"),
}
CORE_MODULE = {"had": "had_attention_core", "fp": "fp_attention_core"}
# the parameters of out_proj (Wo), in its header's order
OUT_PARAMS = ("E", "PO", "CW", "WW", "ACCW", "YW", "SH_A", "SH_P", "ACC_Q", "ACC_O", "Y_RSH", "Y_LSH", "Y_Q", "Y_O",
              "Y_SIGNED")
DEFAULT_LANES = 4


@dataclass
class RtlDesign:
    """One spec frozen into Verilog parameters at ``lanes`` = P parallel keys per cycle."""

    spec: AttentionSpec
    lanes: int
    params: dict[str, int] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def groups(self) -> int:
        """G = ceil(L / P): cycles of one stage per (query, head) job."""
        return self.params["G"]

    @property
    def av_lanes(self) -> int:
        """PA: AV lanes of the HAD core's sparse AV, max(1, ceil(min(N, L) / ceil(L/P))) (the FP core: P)."""
        return self.params.get("PA", self.lanes)

    @property
    def av_cycles(self) -> int:
        """NA: cycles of the HAD core's sparse AV per job, ceil(min(N, L) / PA) <= ceil(L/P) (the FP core: G)."""
        return self.params.get("NA", self.groups)

    @property
    def norm_lanes(self) -> int:
        """DN: elements normalised per cycle (the smallest divisor of d with d / DN <= ceil(L/P))."""
        return self.params["DN"]

    @property
    def norm_cycles(self) -> int:
        """NC = d / DN: normalisation cycles per job (<= ceil(L/P))."""
        return self.params["NC"]

    @property
    def pipeline_depth(self) -> int:
        """Cycles from the last key loaded to the last context row of an input, beyond L H ceil(L/P): the register
        stages of the cores' pipelines (headers of templates/rtl/*_attention_core.v), stage by stage."""
        s, g = self.spec, self.groups
        d = s.head_dim
        av = 2 + tree_latency(self.av_lanes)  # softmax_av_lanes: products, lane sum, accumulate
        norm = mul_wide_latency(s.widths["av_acc"]) + 3 + self.norm_cycles  # normalise_row: steps + pipeline
        if self.kind == "had":
            bins = self.params["S"]
            scan = -(-d // bins) + 2 + self.params["TPIPE"] + (bins > 1)  # topn_hist: words, sums, result
            keep = self.params["KST"]
            # A1, Hamming lanes, scan, B0 beats, B1, keep, compaction, AV0..AV2, AV, normaliser, context register
            return 1 + hamming_latency(d) + scan + g + 1 + keep + 1 + self.av_cycles + 2 + av + norm + 1
        score = 1 + self.params["PACK"] + tree_latency(d)  # fp_score_unit: products, [unpack], adder tree
        index = 3 + mul_wide_latency(s.widths["score"] + 1)  # fp_exp_index: diff, product, shift, clamp
        # A1, score lanes, max tree, B0 beats, B1, exp index, table + V read, AV, normaliser, context register
        return 1 + score + tree_latency(self.lanes) + g + 1 + index + 1 + av + norm + 1

    @property
    def query_latency(self) -> int:
        """Cycles from the last key loaded to the first context row (H jobs of G cycles + the pipeline depth)."""
        return self.spec.num_heads * self.groups + self.pipeline_depth

    @property
    def wo_lanes(self) -> int:
        """PO: inputs per cycle of the Wo MAC (E * PO multipliers)."""
        return self.params["PO"]

    @property
    def qk_width(self) -> int:
        return self.params["QW"]

    @property
    def in_width(self) -> int:
        """Bits of one input beat {pad, v, k, q}."""
        e = self.spec.embed_dim
        return 1 + e * self.spec.precision.value.width + 2 * e * self.qk_width

    # ------------------------------------------------------------------------------------------ files
    def write(self, folder: Path) -> None:
        """Write cosim_dut.v (the parameterised wrapper) and the table / weight memory files into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        p = self.spec.precision
        _write_hex(folder / "exp_table.hex", self.spec.exp_table, p.exp_table.width)
        _write_hex(folder / "recip_table.hex", self.spec.recip_table, p.recip_table.width)
        _write_hex(folder / "wo.hex", self.spec.o.weight.reshape(-1), p.weight.width)
        bias_acc = p.accum.from_mantissa(self.spec.o.bias, p.bias.frac)
        _write_hex(folder / "bo_acc.hex", bias_acc, p.accum.width)
        (folder / "cosim_dut.v").write_text(self.wrapper())

    def core_instance(self, name: str = "core") -> str:
        """The core module instantiated with every one of its parameters (CORE_PARAMS) and the table files of
        ``write``, its ports on nets of the same names (clk, rst, in_*, ctx_valid, ctx_ready, ctx_data, busy)."""
        plist = _param_list([*(f".{k}({self.params[k]})" for k in CORE_PARAMS[self.kind]),
                             '.EXP_FILE("exp_table.hex")', '.RECIP_FILE("recip_table.hex")'])
        return f"""{CORE_MODULE[self.kind]} #(
        {plist}
    ) {name} (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_q(in_q), .in_k(in_k), .in_v(in_v),
        .in_pad(in_pad), .ctx_valid(ctx_valid), .ctx_ready(ctx_ready), .ctx_data(ctx_data), .busy(busy));"""

    def dut_header(self) -> str:
        """The test bench's DUT, ``module cosim_dut`` and its ports (the RTL layer's and a synthesized netlist's)."""
        e, q, v, c, y = (
            self.spec.embed_dim,
            self.qk_width,
            self.spec.precision.value.width,
            self.spec.precision.context.width,
            self.spec.precision.result.width,
        )
        return f"""`default_nettype none
module cosim_dut (
    input  wire clk, input wire rst,
    input  wire in_valid, output wire in_ready,
    input  wire [{e * q - 1}:0] in_q, input wire [{e * q - 1}:0] in_k, input wire [{e * v - 1}:0] in_v,
    input  wire in_pad,
    output wire out_valid, input wire out_ready, output wire [{e * y - 1}:0] out_data,
    output wire ctx_mon_valid, output wire [{e * c - 1}:0] ctx_mon_data, output wire busy
);"""

    def wrapper(self) -> str:
        """``module cosim_dut``, the layer: the core (every parameter of this spec), a context FIFO of L rows (the C++
        keeps ctx[L][E] too) and the output projection Wo (out_proj, PO inputs a cycle); ``ctx_mon_*`` is a monitor
        of the core -> FIFO handshake (context rows, for co-simulation)."""
        e, c = self.spec.embed_dim, self.spec.precision.context.width
        wo = _param_list([*(f".{k}({self.params[k]})" for k in OUT_PARAMS), '.W_FILE("wo.hex")',
                          '.B_FILE("bo_acc.hex")'])
        title = f"spec {self.spec.name!r} ({self.kind}, P = {self.lanes} lanes, Wo PO = {self.wo_lanes})"
        return f"""// Generated by had_hls.rtl from {title}. Do not edit.
{self.dut_header()}
    wire ctx_valid, ctx_ready, f_valid, f_ready;
    wire [{e * c - 1}:0] ctx_data, f_data;
    assign ctx_mon_valid = ctx_valid && ctx_ready;
    assign ctx_mon_data = ctx_data;
    {self.core_instance()}
    stream_fifo #(.W({e * c}), .DEPTH({self.spec.seq_len})) ctx_fifo (
        .clk(clk), .rst(rst), .in_valid(ctx_valid), .in_ready(ctx_ready), .in_data(ctx_data),
        .out_valid(f_valid), .out_ready(f_ready), .out_data(f_data));
    out_proj #(
        {wo}
    ) wo (
        .clk(clk), .rst(rst), .in_valid(f_valid), .in_ready(f_ready), .in_data(f_data),
        .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));
endmodule
`default_nettype wire
"""

    # ------------------------------------------------------------------------------------------ vectors
    def encode_inputs(self, traces: list[GoldenTrace], masks: list[np.ndarray | None]) -> list[str]:
        """One hex word per token: {pad, v, k, q} (q at bit 0). L words per trace."""
        s, p = self.spec, self.spec.precision
        e, qw, vw = s.embed_dim, self.qk_width, p.value.width
        digits = -(-self.in_width // 4)
        lines = []
        for tr, mask in zip(traces, masks, strict=True):
            if s.kind == "had":
                q = (tr.q_acc < 0).astype(np.int64)
                k = (tr.k_acc < 0).astype(np.int64)
            else:
                q = p.qk.from_mantissa(tr.q_acc, p.accum.frac)
                k = p.qk.from_mantissa(tr.k_acc, p.accum.frac)
            pad = np.zeros(s.seq_len, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
            for t in range(s.seq_len):
                word = _pack(q[t], qw) | (_pack(k[t], qw) << (e * qw)) | (_pack(tr.v[t], vw) << (2 * e * qw))
                word |= int(pad[t]) << (self.in_width - 1)
                lines.append(f"{word:0{digits}x}")
        return lines

    def decode_row(self, text: str, which: str) -> np.ndarray:
        """A 'C' (context) or 'Y' (result) hex row -> E signed/unsigned mantissas."""
        t: FixedType = self.spec.precision.context if which == "C" else self.spec.precision.result
        word = int(text, 16)
        w = t.width
        vals = [(word >> (o * w)) & ((1 << w) - 1) for o in range(self.spec.embed_dim)]
        if t.signed:
            vals = [v - (1 << w) if v >> (w - 1) else v for v in vals]
        return np.asarray(vals, dtype=np.int64)


FP_BASELINES = ("standard", "strong")


def design_for(spec: AttentionSpec, lanes: int = DEFAULT_LANES, fp_baseline: str = "standard") -> RtlDesign:
    """Freeze ``spec`` into the parameters of the core (templates/rtl/{had,fp}_attention_core.v, their shared
    attention_control.v) and of out_proj.v: every derived number (G, PA, NA, DN, NC, buffer depths, counter widths)
    is derived here, once, and the Verilog takes it as a parameter.

    FP core: Q/K of at most 8 bits share each score multiplier between two lanes (PACK, the DSP48E2 INT8 packing);
    ``fp_baseline = "strong"`` also shares each exp table between a pair of lanes (ESH = 2: two read ports of one
    block RAM). The strong baseline's 8-bit Q/K come from its spec (``strong_fp_precision``)."""
    if fp_baseline not in FP_BASELINES:
        raise ValueError(f"fp_baseline {fp_baseline!r} is not one of {FP_BASELINES}")
    if lanes < 1:
        raise ValueError(f"lanes (P) must be >= 1, got {lanes}")
    p, w = spec.precision, spec.widths
    acc, ctx, wt, res = p.accum, p.context, p.weight, p.result
    prod_frac = ctx.frac + wt.frac
    full = max(acc.frac, prod_frac)
    groups = -(-spec.seq_len // lanes)
    params: dict[str, int] = {
        # Wo inputs per cycle: ceil(E / PO) cycles per row <= H ceil(L/P), the core's cycles per query row
        "PO": min(spec.embed_dim, -(-spec.embed_dim // (spec.num_heads * groups))),
        "L": spec.seq_len,
        "E": spec.embed_dim,
        "H": spec.num_heads,
        "P": lanes,
        "N": spec.top_n,
        "QW": 1 if spec.kind == "had" else p.qk.width,
        "HB": w["ham"],
        "EW": p.exp_table.width,
        "RW": p.recip_table.width,
        "R": p.recip_index_bits,
        "SUMW": w["sum"],
        "AVW": w["av_acc"],
        "NPW": w["norm_prod"],
        "VW": p.value.width,
        "CW": ctx.width,
        "VF": p.value.frac,
        "RF": p.recip_table.frac,
        "CF": ctx.frac,
        "WW": wt.width,
        "ACCW": acc.width,
        "YW": res.width,
        "SH_A": full - acc.frac,
        "SH_P": full - prod_frac,
        "ACC_Q": QUANT_MODES.index(acc.quant),
        "ACC_O": OVERFLOW_MODES.index(acc.overflow),
        "Y_RSH": max(acc.frac - res.frac, 0),
        "Y_LSH": max(res.frac - acc.frac, 0),
        "Y_Q": QUANT_MODES.index(res.quant),
        "Y_O": OVERFLOW_MODES.index(res.overflow),
        "Y_SIGNED": int(res.signed),
    }
    # the schedule of both cores (templates/rtl/attention_control.v): D elements a head, G beats of P keys a job,
    # counters of XB bits, LASTW lanes holding a key in the last beat
    d = spec.head_dim
    params.update(
        D=d,
        G=groups,
        XB=clog2(spec.seq_len * lanes + spec.embed_dim + groups + 2) + 1,
        LASTW=spec.seq_len - (groups - 1) * lanes,
    )
    # normaliser lanes: one head's d elements over at most ceil(L/P) cycles (a job's time), DN dividing d
    params["DN"] = min(k for k in range(1, d + 1) if d % k == 0 and d // k <= groups)
    params["NC"] = d // params["DN"]
    if spec.kind == "had":
        keep = min(spec.top_n, spec.seq_len)
        # sparse AV: PA lanes read the V rows of the kept keys only; a job keeps <= min(N, L) keys and must finish
        # within ceil(L/P) cycles, so PA = ceil(min(N, L) / ceil(L/P)) (<= P), at least 1; NA cycles a job
        params["NK"] = keep
        params["PA"] = max(1, -(-keep // groups))
        params["NA"] = max(1, -(-keep // params["PA"]))
        params["KW"] = bits_for_unsigned(keep)
        params["S"] = topn_scan_bins(d, groups)
        params["TPIPE"] = topn_hist_pipe(lanes)
        params["KST"] = topn_keep_stages(lanes)
        # hbuf: a beat is read back G + ceil(d / S) + TPIPE + (S > 1) + 2 cycles after it is written; JS jobs of G
        # rows hold that
        scan = -(-d // params["S"]) + params["TPIPE"] + (params["S"] > 1) + 2
        params["BD"] = (2 + scan // groups) * groups
        # cbuf: CDEP rows of P banks per ping-pong half hold the <= min(N, L) kept keys of a job
        params["CDEP"] = max(1, -(-keep // lanes))
        params["CRB"] = max(1, clog2(params["CDEP"]))
        params["KB"] = max(1, clog2(spec.seq_len))
    if spec.kind == "fp":
        params.update(
            # sbuf: scores held from the score lanes until the second pass reads them (max tree + 3 cycles)
            BD=(2 + (tree_latency(lanes) + 3) // groups) * groups,  # fp_max_tree: tree_latency(P)
            SW=w["score"],
            IPW=w["fp_index_prod"],
            INV=spec.fp_inv_sqrt_d,
            ISH=spec.fp_index_shift,
            T=p.fp_exp_table_size,
            TB=w["fp_index"],
            PACK=int(p.qk.width <= 8 and lanes >= 2),
            ESH=2 if fp_baseline == "strong" else 1,
        )
    if not acc.signed or not ctx.signed or not p.value.signed:
        raise RtlLimitError("hls.precision", "the RTL twin needs signed accum, value and context types")
    check_parameters(params)
    return RtlDesign(spec=spec, lanes=lanes, params=params)


def _param_list(items: list[str], width: int = 108) -> str:
    """``.A(1), .B(2), ...`` wrapped to ``width`` columns (continuation lines indented for the instance)."""
    lines, cur = [], ""
    for it in items:
        if cur and len(cur) + len(it) + 2 > width:
            lines.append(cur.rstrip())
            cur = ""
        cur += it + ", "
    lines.append(cur.rstrip(", "))
    return "\n        ".join(lines)


def _pack(values: np.ndarray, width: int) -> int:
    word = 0
    mask = (1 << width) - 1
    for i, v in enumerate(np.asarray(values).tolist()):
        word |= (int(v) & mask) << (i * width)
    return word


def _write_hex(path: Path, values: np.ndarray, width: int) -> None:
    digits = -(-width // 4)
    mask = (1 << width) - 1
    path.write_text("".join(f"{int(v) & mask:0{digits}x}\n" for v in np.asarray(values).reshape(-1).tolist()))
