"""The attention core's microarchitecture as numbers: lanes, stage trip counts, FIFO depths, projection reuse.

One place derives every parameter that the HLS layers (templates/hls/nnet_*.h, through the config structs of
had_hls.hls.attention_layers) and the design check (had_hls.hls.check) use. The parallelism of the core (P, PA, DN,
PO and the scan's S) is the RTL twin's: :func:`had_hls.rtl.generate.design_for` derives it and this module only
reads it, so both descriptions of the machine use one value.

One job per (query row i, head h), G = ceil(L / P) beats of P keys; a job enters every G cycles, so a query row
costs H G cycles in steady state. Stages (HLS function = RTL module, see docs/hls.md):

    load             tokens -> Q sign bits, K sign bits banked by lane (key j in bank j mod P, row j div P), key-valid
                     bits (same banking), V; the Q/K/V projections with hls4ml's ReuseFactor (RF cycles a token).
                     It runs before the stages (single memories, as in the RTL twin): an input takes about
                     L RF + L H G cycles
    hamming_unit     P lanes a cycle: ham = popcount(q xor k) in [0, d]                     G cycles a job
    topn_hist        P lane histograms of d bins (ping-pong by job parity; bin d is implied); then a scan of S bins a
                     cycle (the RTL twin's S: the smallest power of two with ceil(d / S) <= G; SC = ceil(d / S) <= G
                     cycles, overlapping the next job): T, take, hmin
    topn_keep        second pass over the job's G stored beats: kept = valid & (ham < T | (ham == T & rank < take))
    topn_compact     the kept keys of a beat at consecutive positions of N slots (ping-pong per job)
    softmax_av_lanes PA = max(1, ceil(min(N, L) / G)) slots a cycle: e = exp_table[ham - hmin], S += e, acc += e v
                     (NA = ceil(min(N, L) / PA) <= G cycles)
    normalise_row    DN elements a cycle (DN = smallest divisor of d with d / DN <= G): NC = d / DN cycles a job
    out_proj         Wo, PO = min(E, ceil(E / (H G))) inputs a cycle: WC = ceil(E / PO) <= H G cycles a row

The FP baseline core has the same load (Q/K as qk_t words, V banked by lane), fp_score_unit (P lanes of d-term dot
products), fp_max_tree (running row max), fp_exp_index + softmax_av_lanes over all L keys with P lanes,
normalise_row and out_proj.

FIFO depths (hls::stream channels of the DATAFLOW region; all linear in L / P, none holds a row of L scores):

    beats        hamming_unit -> topn_hist (fp_score_unit -> fp_max_tree)      2
    scores       topn_hist -> topn_keep: the job's G beats wait for its threshold, which the scan finishes SC cycles
                 into the next job, so the producer must be able to run G + SC beats ahead (a shallower FIFO deadlocks):
                 depth 2 G + SC (FP: 2 G + 1, the max is ready after the job's last beat)
    thresholds   one word a job                                                   2
    kept         topn_keep -> topn_compact                                        2
    av           one {S, acc[d]} word a job -> normalise_row                      2
    context      normalise_row -> out_proj: one row of H NC words, so that out_proj's MAC-only cycles never stall
                 the core                                                         H NC
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from had_hls.rtl.generate import DEFAULT_LANES, design_for
from had_hls.spec import AttentionSpec

Strategy = Literal["latency", "resource"]
STRATEGIES: tuple[str, ...] = ("Latency", "Resource")
UNROLL_LIMIT = 4096  # operations in one pipelined region: Vivado/Vitis HLS stop with XFORM 203-504 above it
PARTITION_LIMIT_BITS = 32768  # arrays above this are kept in memories, never completely partitioned into registers


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def strategy_name(value: str) -> Strategy:
    """hls4ml's Strategy spelling (Latency, Resource, any case) -> 'latency' / 'resource'; ValueError otherwise."""
    s = str(value).lower()
    if s not in ("latency", "resource"):
        raise ValueError(f"Strategy {value!r} is not allowed; allowed: {', '.join(STRATEGIES)}")
    return s  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------------ projections
def valid_reuse_factors(n_in: int, n_out: int) -> list[int]:
    """hls4ml's valid ReuseFactors of an n_in x n_out dense (FPGABackend._validate_reuse_factor): RF divides
    n_in * n_out, and either RF divides n_in (RF <= n_in) or RF is a multiple of n_in dividing n_in * n_out."""
    total = n_in * n_out
    out = [rf for rf in range(1, n_in + 1) if n_in % rf == 0]
    out += [k * n_in for k in range(2, n_out + 1) if n_out % k == 0]
    return sorted(rf for rf in set(out) if total % rf == 0)


def matched_reuse_factor(n_in: int, n_out: int, budget: int, copies: int = 1, limit: int = UNROLL_LIMIT) -> int:
    """The ReuseFactor had-hls picks when the project gives none: among the valid ones whose pipelined loop body
    (``copies`` projections of n_in n_out / RF MACs) stays within the unroll limit, the largest <= ``budget`` cycles
    a token (the fewest multipliers that keep up with the core); when none keeps up, the smallest (the fastest one
    Vitis can build; the design check then shows the slower stage)."""
    valid = valid_reuse_factors(n_in, n_out)
    buildable = [rf for rf in valid if copies * (n_in * n_out // rf) <= limit] or [max(valid)]
    fast = [rf for rf in buildable if rf <= max(1, budget)]
    return max(fast) if fast else min(buildable)


@dataclass(frozen=True)
class ProjectionPlan:
    """One token through an n_out x n_in projection: ``cycles`` steps of ``block`` MACs each.

    inputs_per_cycle > 0 (RF <= n_in, and Wo): step t multiplies inputs t BI .. t BI + BI - 1 with every output;
    otherwise (RF = c n_in): step t = ob n_in + i multiplies input i with outputs ob BO .. ob BO + BO - 1.
    Every output accumulates its inputs in order 0..n_in-1 (golden.project's order, so any accum type is bit-exact).
    The weights are emitted cycle-major (:meth:`layout`): step t reads the ``block`` words w[t B .. t B + B - 1],
    one ARRAY_RESHAPE word. Latency strategy: one step of n_in n_out MACs at II = RF (hls4ml's dense_latency).
    """

    n_in: int
    n_out: int
    reuse_factor: int
    strategy: Strategy = "resource"
    inputs_per_cycle: int = 0  # BI; 0 = output blocks (RF > n_in)

    @staticmethod
    def for_reuse(n_in: int, n_out: int, reuse_factor: int, strategy: Strategy) -> ProjectionPlan:
        if reuse_factor not in valid_reuse_factors(n_in, n_out):
            valid = valid_reuse_factors(n_in, n_out)
            raise ValueError(
                f"ReuseFactor {reuse_factor} is not allowed for a {n_in} x {n_out} projection; "
                f"allowed: {', '.join(map(str, valid))}"
            )
        bi = n_in if strategy == "latency" else (n_in // reuse_factor if reuse_factor <= n_in else 0)
        return ProjectionPlan(n_in, n_out, reuse_factor, strategy, bi)

    @staticmethod
    def inputs_per_step(n_in: int, n_out: int, inputs: int) -> ProjectionPlan:
        """A Resource-style projection taking ``inputs`` inputs a cycle (ceil(n_in / inputs) cycles, Wo)."""
        inputs = max(1, min(inputs, n_in))
        return ProjectionPlan(n_in, n_out, ceil_div(n_in, inputs), "resource", inputs)

    @property
    def outputs_per_cycle(self) -> int:
        """BO: outputs touched by one step."""
        return self.n_out if self.inputs_per_cycle else self.n_out * self.n_in // self.reuse_factor

    @property
    def cycles(self) -> int:
        """Steps (loop iterations) a token; Latency: 1 (at II = RF)."""
        if self.strategy == "latency":
            return 1
        return ceil_div(self.n_in, self.inputs_per_cycle) if self.inputs_per_cycle else self.reuse_factor

    @property
    def block(self) -> int:
        """MACs of one step (the unrolled multiplications of the pipelined loop body)."""
        return self.n_out * self.inputs_per_cycle if self.inputs_per_cycle else self.outputs_per_cycle

    @property
    def ii(self) -> int:
        return self.reuse_factor if self.strategy == "latency" else 1

    @property
    def cycles_per_token(self) -> int:
        return self.cycles * self.ii

    @property
    def multipliers(self) -> int:
        """Multiplier instances: n_in n_out / RF (Latency: the ALLOCATION limit of dense_latency)."""
        return ceil_div(self.n_in * self.n_out, self.cycles_per_token)

    @property
    def weight_words(self) -> int:
        return self.cycles * self.block

    def lane_index(self, step: int, lane: int) -> tuple[int, int]:
        """(output o, input i) multiplied at ``step`` by ``lane``; i >= n_in marks a padding lane."""
        if self.inputs_per_cycle:
            bi = self.inputs_per_cycle
            return lane // bi, step * bi + lane % bi
        return (step // self.n_in) * self.outputs_per_cycle + lane, step % self.n_in

    def layout(self, weight: np.ndarray) -> np.ndarray:
        """Weights (n_out, n_in) -> the flat cycle-major array the C++ reads (padding lanes hold 0)."""
        weight = np.asarray(weight)
        t = np.arange(self.cycles)[:, None]
        lane = np.arange(self.block)[None, :]
        if self.inputs_per_cycle:
            bi = self.inputs_per_cycle
            o, i = np.broadcast_arrays(lane // bi, t * bi + lane % bi)
        else:
            o, i = np.broadcast_arrays((t // self.n_in) * self.outputs_per_cycle + lane, t % self.n_in)
        out = np.zeros((self.cycles, self.block), dtype=weight.dtype)
        real = i < self.n_in
        out[real] = weight[o[real], i[real]]
        return out.reshape(-1)

    def config_lines(self, indent: str = "    ") -> list[str]:
        """The static consts of a C++ projection config (nnet::dense_token_config)."""
        return [
            f"{indent}static const unsigned n_in = {self.n_in};",
            f"{indent}static const unsigned n_out = {self.n_out};",
            f"{indent}static const unsigned reuse_factor = {self.reuse_factor};",
            f"{indent}static const unsigned strategy = nnet::{self.strategy};",
            f"{indent}static const unsigned n_zeros = 0;",
            f"{indent}static const unsigned inputs_per_cycle = {self.inputs_per_cycle};",
            f"{indent}static const unsigned outputs_per_cycle = {self.outputs_per_cycle};",
            f"{indent}static const unsigned cycles = {self.cycles};",
            f"{indent}static const unsigned block = {self.block};",
            f"{indent}static const unsigned multiplier_limit = {self.multipliers};",
            f"{indent}static const unsigned ii = {self.ii};",
        ]


# ------------------------------------------------------------------------------------------------ the core
@dataclass(frozen=True)
class Fifo:
    """One hls::stream channel: ``width`` bits a word, ``depth`` words."""

    name: str
    width: int
    depth: int

    @property
    def bits(self) -> int:
        return self.width * self.depth


@dataclass(frozen=True)
class Buffer:
    """A memory of the layer: ``bits`` in all (every copy); ``registers`` = completely partitioned."""

    name: str
    function: str
    bits: int
    registers: bool = False
    constant: bool = False  # a table of constants (not data)


@dataclass(frozen=True)
class StageModel:
    """One stage function: II, iterations of its pipelined loop per input, operations its loop body unrolls."""

    function: str
    rtl_module: str
    ii: int
    trip_count: int
    unroll: str
    cycles_per_row: int
    unrolled_mults: int = 0
    unrolled_popcounts: int = 0
    unrolled_ops: int = 0  # every other unrolled operation that counts towards the unroll limit (adds, compares)


@dataclass(frozen=True)
class AttentionSchedule:
    """Every derived parameter of one attention layer's core (module docstring)."""

    spec: AttentionSpec
    lanes: int  # P
    groups: int  # G = ceil(L / P)
    av_lanes: int  # PA (FP: P)
    av_cycles: int  # NA (FP: G)
    norm_lanes: int  # DN
    norm_cycles: int  # NC = d / DN
    wo_lanes: int  # PO
    scan_bins: int  # S
    scan_cycles: int  # SC
    proj: ProjectionPlan
    wo: ProjectionPlan
    fifos: tuple[Fifo, ...] = field(default_factory=tuple)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def jobs(self) -> int:
        return self.spec.seq_len * self.spec.num_heads

    @property
    def keys_kept(self) -> int:
        """NK = min(N, L): keys one job keeps at most (FP: all L)."""
        return min(self.spec.top_n, self.spec.seq_len)

    @property
    def slot_rows(self) -> int:
        """Rows of each of the P slot banks: ceil(NK / P)."""
        return max(1, ceil_div(self.keys_kept, self.lanes))

    @property
    def wo_cycles(self) -> int:
        """WC = ceil(E / PO)."""
        return self.wo.cycles

    @property
    def row_cycles(self) -> int:
        """H G: cycles a query row costs in steady state."""
        return self.spec.num_heads * self.groups

    @property
    def out_period(self) -> int:
        """out_proj's loop period per row: max(H NC, WC) cycles (context words in, MAC steps of the row before)."""
        return max(self.spec.num_heads * self.norm_cycles, self.wo_cycles)

    @property
    def row_banks(self) -> int:
        """Cyclic banks of out_proj's context row buffer: max(DN, PO) consecutive elements are written / read a
        cycle, so that many banks serve them (E: completely partitioned)."""
        return min(self.spec.embed_dim, max(self.norm_lanes, self.wo_lanes))

    def fifo(self, name: str) -> Fifo:
        return next(f for f in self.fifos if f.name == name)

    def fifo_minimum(self, name: str) -> int:
        """The smallest depth of FIFO ``name`` that keeps the stages from deadlocking (see the module docstring)."""
        if name == "scores":
            return self.groups + (self.scan_cycles if self.kind == "had" else 1)
        return 1

    def config_lines(self, indent: str = "    ") -> list[str]:
        """Static consts of the layer's config struct (microarchitecture and FIFO depths)."""
        lines = [
            f"{indent}static const unsigned lanes = {self.lanes};",
            f"{indent}static const unsigned groups = {self.groups};",
            f"{indent}static const unsigned jobs = {self.jobs};",
            f"{indent}static const unsigned keys_kept = {self.keys_kept};",
            f"{indent}static const unsigned av_lanes = {self.av_lanes};",
            f"{indent}static const unsigned av_cycles = {self.av_cycles};",
            f"{indent}static const unsigned norm_lanes = {self.norm_lanes};",
            f"{indent}static const unsigned norm_cycles = {self.norm_cycles};",
            f"{indent}static const unsigned wo_lanes = {self.wo_lanes};",
            f"{indent}static const unsigned wo_cycles = {self.wo_cycles};",
            f"{indent}static const unsigned out_period = {self.out_period};",
            f"{indent}static const unsigned scan_bins = {self.scan_bins};",
            f"{indent}static const unsigned scan_cycles = {self.scan_cycles};",
            f"{indent}static const unsigned slot_rows = {self.slot_rows};",
            f"{indent}static const unsigned row_banks = {self.row_banks};",
            f"{indent}static const unsigned reuse_factor = {self.proj.reuse_factor};",
            f"{indent}static const unsigned strategy = nnet::{self.proj.strategy};",
        ]
        lines += [f"{indent}static const unsigned {f.name}_fifo_depth = {f.depth};" for f in self.fifos]
        return lines

    # -------------------------------------------------------------------------------------- the check's model
    def stages(self) -> list[StageModel]:
        """The stage functions of the core with their II, trip counts and unrolled operations."""
        s, p = self.spec, self.proj
        L, E, H, d = s.seq_len, s.embed_dim, s.num_heads, s.head_dim
        P, G, J = self.lanes, self.groups, self.jobs
        mults = 3 * p.block
        load = StageModel(
            "load",
            "-",  # the RTL core is fed the projections (docs/rtl.md)
            p.ii,
            L * p.cycles,
            f"3 x {p.block} MACs ({p.strategy}, RF {p.reuse_factor})",
            p.cycles_per_token,
            unrolled_mults=mults,
        )
        norm = StageModel(
            "normalise_row",
            "normalise_row",
            1,
            J * self.norm_cycles,
            f"{self.norm_lanes} elements",
            H * self.norm_cycles,
            unrolled_mults=self.norm_lanes,
        )
        out = StageModel(
            "out_proj",
            "out_proj",
            1,
            L * self.out_period + self.wo_cycles,
            f"{E} x {self.wo_lanes} MACs",
            self.out_period,
            unrolled_mults=self.wo.block,
        )
        if self.kind == "had":
            bins = d
            core = [
                StageModel(
                    "hamming_unit",
                    "hamming_unit",
                    1,
                    J * G,
                    f"{P} lanes x {d}-bit popcount",
                    H * G,
                    unrolled_popcounts=P,
                ),
                StageModel(
                    "topn_hist",
                    "topn_hist",
                    1,
                    J * G + self.scan_cycles,
                    f"{P} bin updates + {self.scan_bins} of {bins} bins scanned",
                    H * G,
                    unrolled_ops=P + self.scan_bins * P,
                ),
                StageModel("topn_keep", "topn_keep", 1, J * G, f"{P} lanes", H * G, unrolled_ops=2 * P),
                StageModel(
                    "topn_compact", "topn_compact", 1, J * G + self.av_cycles, f"{P} slots", H * G, unrolled_ops=P
                ),
                StageModel(
                    "softmax_av_lanes",
                    "softmax_av_lanes",
                    1,
                    J * self.av_cycles,
                    f"{self.av_lanes} slot(s) x {d} MACs",
                    H * self.av_cycles,
                    unrolled_mults=self.av_lanes * d,
                ),
            ]
        else:
            core = [
                StageModel(
                    "fp_score_unit",
                    "fp_score_unit",
                    1,
                    J * G,
                    f"{P} lanes x {d}-term dot product",
                    H * G,
                    unrolled_mults=P * d,
                ),
                StageModel("fp_max_tree", "fp_max_tree", 1, J * G, f"{P} lanes", H * G, unrolled_ops=P),
                StageModel("fp_exp_index", "fp_exp_index", 1, J * G, f"{P} lanes", H * G, unrolled_mults=P),
                StageModel(
                    "softmax_av_lanes",
                    "softmax_av_lanes",
                    1,
                    J * G,
                    f"{P} keys x {d} MACs",
                    H * G,
                    unrolled_mults=P * d,
                ),
            ]
        return [load, *core, norm, out]

    def buffers(self) -> list[Buffer]:
        """Memories of the layer (bits of every copy; load fills Q, K and V once per input while the stages are
        idle, as the RTL twin does, so they are single memories)."""
        s, prec, w = self.spec, self.spec.precision, self.spec.widths
        L, E, d = s.seq_len, s.embed_dim, s.head_dim
        P, G = self.lanes, self.groups
        acc = prec.accum.width
        qw = 1 if s.kind == "had" else prec.qk.width
        vcopies = self.av_lanes if s.kind == "had" else 1
        out = [
            Buffer("q", "load", L * E * qw),
            Buffer("k", "load", P * G * E * qw),
            Buffer("key_valid", "load", P * G),
            Buffer("v", "load", vcopies * L * E * prec.value.width),
            *(Buffer(f"{p}_acc", "load", E * acc, registers=True) for p in "qkv"),
            Buffer("av_acc", "softmax_av_lanes", d * w["av_acc"], registers=True),
            Buffer(
                "context_row",
                "out_proj",
                2 * E * prec.context.width,
                registers=2 * E * prec.context.width <= PARTITION_LIMIT_BITS,
            ),
            Buffer("wo_acc", "out_proj", E * acc, registers=True),
        ]
        if s.kind == "had":
            bins = d
            out += [
                Buffer("histograms", "topn_hist", 2 * P * bins * w["count"], registers=True),
                Buffer("slots", "topn_compact", 2 * P * self.slot_rows * (w["index"] + w["ham"]), registers=True),
                Buffer("exp_table", "softmax_av_lanes", (d + 1) * prec.exp_table.width, registers=True, constant=True),
            ]
        else:
            table = prec.fp_exp_table_size * prec.exp_table.width * ceil_div(P, 2)  # a dual-port ROM per 2 lanes
            out += [Buffer("exp_table", "fp_exp_index", table, constant=True)]
        return out


def _fifos(
    kind: str,
    *,
    groups: int,
    scan_cycles: int,
    lanes: int,
    heads: int,
    norm_cycles: int,
    norm_lanes: int,
    widths: dict[str, int],
    ctx_width: int,
    head_dim: int,
) -> tuple[Fifo, ...]:
    """The DATAFLOW channels of the core with their word widths and depths (module docstring)."""
    if kind == "had":
        beat = lanes * (widths["ham"] + 1)
        thresh = 2 * widths["ham"] + widths["count"]
        kept = lanes * (widths["ham"] + 1)
        scores_depth = 2 * groups + scan_cycles
    else:
        beat = lanes * (widths["score"] + 1)
        thresh = widths["score"]
        kept = beat
        scores_depth = 2 * groups + 1
    fifos = [
        Fifo("beats", beat, 2),
        Fifo("scores", beat, scores_depth),
        Fifo("thresholds", thresh, 2),
    ]
    if kind == "had":
        fifos.append(Fifo("kept", kept, 2))
    fifos += [
        Fifo("av", widths["sum"] + head_dim * widths["av_acc"], 2),
        Fifo("context", norm_lanes * ctx_width, heads * norm_cycles),
    ]
    return tuple(fifos)


def attention_schedule(
    spec: AttentionSpec,
    lanes: int = DEFAULT_LANES,
    reuse_factor: int | None = None,
    strategy: str = "resource",
) -> AttentionSchedule:
    """Derive the core of ``spec`` at P = ``lanes``; ``reuse_factor`` None = matched to the core
    (:func:`matched_reuse_factor` with the budget H G: the projections of a token take no longer than the core spends
    on its query row)."""
    design = design_for(spec, lanes)  # P, PA, DN, PO: the RTL twin's values
    strat = strategy_name(strategy)
    E, H, d = spec.embed_dim, spec.num_heads, spec.head_dim
    G = design.groups
    if reuse_factor is None:
        reuse_factor = matched_reuse_factor(E, E, H * G, copies=3)
    proj = ProjectionPlan.for_reuse(E, E, reuse_factor, strat)
    wo = ProjectionPlan.inputs_per_step(E, E, design.wo_lanes)
    # topn_hist scans the d stored bins (bin d is implied), S a cycle: the RTL twin's S (design_for)
    scan_bins = design.params.get("S", 1)
    scan_cycles = ceil_div(d, scan_bins) if spec.kind == "had" else 0
    if spec.kind == "had":
        av_lanes, av_cycles = design.av_lanes, design.av_cycles
    else:
        av_lanes, av_cycles = lanes, G
    fifos = _fifos(
        spec.kind,
        groups=G,
        scan_cycles=scan_cycles,
        lanes=lanes,
        heads=H,
        norm_cycles=design.norm_cycles,
        norm_lanes=design.norm_lanes,
        widths=spec.widths,
        ctx_width=spec.precision.context.width,
        head_dim=d,
    )
    return AttentionSchedule(
        spec=spec,
        lanes=lanes,
        groups=G,
        av_lanes=av_lanes,
        av_cycles=av_cycles,
        norm_lanes=design.norm_lanes,
        norm_cycles=design.norm_cycles,
        wo_lanes=design.wo_lanes,
        scan_bins=scan_bins,
        scan_cycles=scan_cycles,
        proj=proj,
        wo=wo,
        fifos=fifos,
    )


__all__ = [
    "PARTITION_LIMIT_BITS",
    "UNROLL_LIMIT",
    "AttentionSchedule",
    "Buffer",
    "Fifo",
    "ProjectionPlan",
    "StageModel",
    "attention_schedule",
    "ceil_div",
    "matched_reuse_factor",
    "strategy_name",
    "valid_reuse_factors",
]
