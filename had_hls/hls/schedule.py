"""The attention core's microarchitecture as numbers: lanes, stage trip counts, FIFO depths, projection reuse.

One place derives every parameter that the HLS layers (templates/hls/nnet_*.h, through the config structs of
had_hls.hls.attention_layers) and the design check (had_hls.hls.check) use: :func:`attention_schedule` ->
:class:`AttentionSchedule` (its config-struct lines included). The parallelism of the core (P, PA, DN, PO and the
scan's S) is the RTL twin's: :func:`had_hls.rtl.generate.design_for` derives it and this module only reads it, so
both descriptions of the machine use one value. The Q/K/V and Wo projections are
:class:`had_hls.hls.projection_plan.ProjectionPlan` s; the check's per-stage cost model (II, trip counts, unrolled
operations, memories) is :mod:`had_hls.hls.stage_model`.

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

from had_hls.hls.projection_plan import ProjectionPlan, ceil_div, matched_reuse_factor, strategy_name
from had_hls.rtl.generate import DEFAULT_LANES, design_for
from had_hls.spec import AttentionSpec


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


__all__ = ["AttentionSchedule", "Fifo", "attention_schedule"]
