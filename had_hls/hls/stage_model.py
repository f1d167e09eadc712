"""The design check's model of an attention core: per stage function its II, trip count and unrolled operations
(:class:`StageModel`), and the memories of the layer with their bits (:class:`Buffer`).

Both are read off an :class:`~had_hls.hls.schedule.AttentionSchedule` (the stage table and FIFO depths are in that
module's docstring) and model the C++ of templates/hls/ (the numbers its config structs carry), not Vitis reports.
:mod:`had_hls.hls.check` compares them with the limits of Vitis HLS: :data:`~had_hls.hls.projection_plan.UNROLL_LIMIT`
operations in one pipelined region, :data:`PARTITION_LIMIT_BITS` for an array partitioned into registers.
"""

from __future__ import annotations

from dataclasses import dataclass

from had_hls.hls.projection_plan import ceil_div
from had_hls.hls.schedule import AttentionSchedule

PARTITION_LIMIT_BITS = 32768  # arrays above this are kept in memories, never completely partitioned into registers


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


def stage_models(sched: AttentionSchedule) -> list[StageModel]:
    """The stage functions of the core with their II, trip counts and unrolled operations."""
    s, p = sched.spec, sched.proj
    L, E, H, d = s.seq_len, s.embed_dim, s.num_heads, s.head_dim
    P, G, J = sched.lanes, sched.groups, sched.jobs
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
        J * sched.norm_cycles,
        f"{sched.norm_lanes} elements",
        H * sched.norm_cycles,
        unrolled_mults=sched.norm_lanes,
    )
    out = StageModel(
        "out_proj",
        "out_proj",
        1,
        L * sched.out_period + sched.wo_cycles,
        f"{E} x {sched.wo_lanes} MACs",
        sched.out_period,
        unrolled_mults=sched.wo.block,
    )
    if sched.kind == "had":
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
                J * G + sched.scan_cycles,
                f"{P} bin updates + {sched.scan_bins} of {bins} bins scanned",
                H * G,
                unrolled_ops=P + sched.scan_bins * P,
            ),
            StageModel("topn_keep", "topn_keep", 1, J * G, f"{P} lanes", H * G, unrolled_ops=2 * P),
            StageModel("topn_compact", "topn_compact", 1, J * G + sched.av_cycles, f"{P} slots", H * G, unrolled_ops=P),
            StageModel(
                "softmax_av_lanes",
                "softmax_av_lanes",
                1,
                J * sched.av_cycles,
                f"{sched.av_lanes} slot(s) x {d} MACs",
                H * sched.av_cycles,
                unrolled_mults=sched.av_lanes * d,
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


def core_buffers(sched: AttentionSchedule) -> list[Buffer]:
    """Memories of the layer (bits of every copy; load fills Q, K and V once per input while the stages are
    idle, as the RTL twin does, so they are single memories)."""
    s, prec, w = sched.spec, sched.spec.precision, sched.spec.widths
    L, E, d = s.seq_len, s.embed_dim, s.head_dim
    P, G = sched.lanes, sched.groups
    acc = prec.accum.width
    qw = 1 if s.kind == "had" else prec.qk.width
    vcopies = sched.av_lanes if s.kind == "had" else 1
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
            Buffer("slots", "topn_compact", 2 * P * sched.slot_rows * (w["index"] + w["ham"]), registers=True),
            Buffer("exp_table", "softmax_av_lanes", (d + 1) * prec.exp_table.width, registers=True, constant=True),
        ]
    else:
        table = prec.fp_exp_table_size * prec.exp_table.width * ceil_div(P, 2)  # a dual-port ROM per 2 lanes
        out += [Buffer("exp_table", "fp_exp_index", table, constant=True)]
    return out


__all__ = ["PARTITION_LIMIT_BITS", "Buffer", "StageModel", "core_buffers", "stage_models"]
