"""templates/rtl/topn_stream.v, the standalone streaming top-N unit, against a brute-force statement of the tie rule.

The rule: of each row keep the n = min(N, valid keys) keys with the smallest score, ties to the lower key index,
padded keys never. Rows are streamed through the Verilog (Icarus) with random input stalls and back to back; every
row's emitted keys must be exactly the rule's, each once, with its score, and out_done must follow the row's last
key by one cycle with no key in that cycle. Tie-heavy rows are the normal case for Hamming scores.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from had_hls import golden
from had_hls.rtl.sim import available_simulators
from had_hls.rtl.topn_sim import TOPN_SOURCE, TopnRun, simulate_topn, topn_reference

needs_icarus = pytest.mark.skipif("icarus" not in available_simulators(), reason="iverilog/vvp not installed")

ROW_KINDS = ("all_equal", "two_values", "mostly_max", "ascending_runs", "descending_runs", "uniform", "binomial")


def make_rows(kind: str, rows: int, seq_len: int, head_dim: int, rng: np.random.Generator) -> np.ndarray:
    """Scores in [0, D] of one tie pattern."""
    if kind == "all_equal":
        return np.full((rows, seq_len), rng.integers(0, head_dim + 1))
    if kind == "two_values":
        a, b = sorted(rng.choice(head_dim + 1, 2, replace=head_dim == 0))
        return np.where(rng.random((rows, seq_len)) < 0.5, a, b)
    if kind == "mostly_max":
        out = np.full((rows, seq_len), head_dim)
        few = rng.random((rows, seq_len)) < 0.1
        return np.where(few, rng.integers(0, head_dim + 1, (rows, seq_len)), out)
    if kind in ("ascending_runs", "descending_runs"):
        run = max(1, seq_len // 4)
        base = (np.arange(seq_len) // run) % (head_dim + 1)
        if kind == "descending_runs":
            base = head_dim - base
        return np.broadcast_to(base, (rows, seq_len)).copy()
    if kind == "uniform":
        return rng.integers(0, head_dim + 1, (rows, seq_len))
    if kind == "binomial":  # Hamming distances of random codes
        return rng.binomial(head_dim, 0.5, (rows, seq_len))
    raise ValueError(kind)


def tie_heavy_rows(seq_len: int, head_dim: int, per_kind: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([make_rows(k, per_kind, seq_len, head_dim, rng) for k in ROW_KINDS])


def check_rule(run: TopnRun, scores: np.ndarray, top_n: int, pads: np.ndarray | None = None) -> None:
    """Every row: exactly the rule's keys, each once, with their scores; out_done right after the last key."""
    assert len(run.rows) == len(scores) and len(run.done_cycles) == len(scores)
    assert run.overlap == 0, "out_valid high in an out_done cycle"
    for r, got in enumerate(run.rows):
        keys = [k for k, _ in got]
        expect = topn_reference(scores[r], None if pads is None else pads[r], top_n)
        assert len(keys) == len(set(keys)), f"row {r}: a key emitted twice"
        assert sorted(keys) == expect, f"row {r}: kept {sorted(keys)}, rule {expect}"
        assert all(scores[r, k] == h for k, h in got), f"row {r}: out_h is not the key's score"
        if run.key_cycles[r]:
            assert run.done_cycles[r] == max(run.key_cycles[r]) + 1, f"row {r}: out_done not one cycle after"


# (P, L, D, N): L < N, odd L, L not a multiple of P, P in {1, 3, 8}, P > L, N = 1, d = 1
SHAPES = [
    pytest.param(1, 16, 8, 5, id="P1-L16-d8-N5"),
    pytest.param(3, 31, 8, 40, id="P3-L31(odd)-N>L"),
    pytest.param(8, 61, 16, 12, id="P8-L61-d16-N12"),
    pytest.param(3, 7, 4, 1, id="P3-L7-N1"),
    pytest.param(8, 5, 8, 3, id="P8>L5"),
    pytest.param(2, 9, 1, 4, id="P2-L9-d1"),
]


@needs_icarus
@pytest.mark.slow
@pytest.mark.parametrize("P,L,D,N", SHAPES)
def test_keeps_exactly_the_tie_rule_under_input_stalls(tmp_path, P, L, D, N):
    scores = tie_heavy_rows(L, D, per_kind=3, seed=L * 10 + P)
    run = simulate_topn(scores, lanes=P, head_dim=D, top_n=N, workdir=tmp_path, stall_pct=35, seed=P + L)
    check_rule(run, scores, N)


@needs_icarus
@pytest.mark.slow
@pytest.mark.parametrize("P,L,D,N", [SHAPES[1], SHAPES[2], SHAPES[4]])
def test_padded_keys_are_never_kept(tmp_path, P, L, D, N):
    rng = np.random.default_rng(L + P)
    scores = tie_heavy_rows(L, D, per_kind=2, seed=L + 1)
    pads = rng.random(scores.shape) < 0.3
    pads[0] = True  # a row with nothing to keep: only out_done
    pads[1] = False
    pads[1, -1] = True  # only the last key padded
    run = simulate_topn(scores, lanes=P, head_dim=D, top_n=N, workdir=tmp_path, pads=pads, stall_pct=20)
    check_rule(run, scores, N, pads)
    assert run.rows[0] == []


@needs_icarus
@pytest.mark.slow
@pytest.mark.parametrize(
    "P,L,D,N",
    [(8, 512, 64, 64), (8, 512, 64, 16), (1, 64, 16, 8), (3, 31, 8, 8), (4, 49, 16, 16)],
    ids=["paper-P8-N64", "P8-N16", "P1", "P3-odd", "P4-N>G"],
)
def test_rows_back_to_back_at_one_row_per_max_of_beats_and_keys(tmp_path, P, L, D, N):
    """Without stalls a row costs max(ceil(L/P), n + 1) cycles in steady state (n keys, then the out_done cycle),
    within a small constant; the input is taken at that rate too."""
    rows = 10
    scores = np.random.default_rng(7).binomial(D, 0.5, (rows, L))
    run = simulate_topn(scores, lanes=P, head_dim=D, top_n=N, workdir=tmp_path)
    check_rule(run, scores, N)
    groups = -(-L // P)
    ideal = max(groups, min(N, L) + 1)
    done = np.asarray(run.done_cycles)
    period = (done[-1] - done[2]) / (rows - 3)
    assert ideal - 1 <= period <= ideal + 3, (period, ideal)
    beats = np.asarray(run.in_cycles)
    assert (beats[-1] - beats[groups]) / (rows - 1) <= ideal + 1


def test_reference_rule_matches_golden_counting_select():
    """topn_reference (sort by (score, index)) and golden.topn_select (counting) state the same rule."""
    rng = np.random.default_rng(0)
    for kind in ROW_KINDS:
        scores = make_rows(kind, 4, 23, 6, rng)
        pads = rng.random(scores.shape) < 0.2
        for r in range(len(scores)):
            kept = golden.topn_select(scores[r][None, None, :], ~pads[r], 5, 6)[0, 0]
            assert sorted(np.flatnonzero(kept).tolist()) == topn_reference(scores[r], pads[r], 5)


@needs_icarus
@pytest.mark.slow
def test_a_mutated_tie_rule_is_caught(tmp_path):
    """The checks can fail: a unit that keeps every key tied at the threshold (<= instead of <) is rejected."""
    src = TOPN_SOURCE.read_text()
    mutant, count = re.subn(r"\(h\[p\*HW \+: HW\] < t\)", "(h[p*HW +: HW] <= t)", src)
    assert count == 1
    (tmp_path / "topn_mutant.v").write_text(mutant)
    scores = tie_heavy_rows(16, 4, per_kind=2, seed=3)
    # the mutant keeps too many keys: the rule check fails, or the row never ends (its key count is off)
    with pytest.raises((AssertionError, RuntimeError)):
        run = simulate_topn(
            scores, lanes=2, head_dim=4, top_n=5, workdir=tmp_path / "sim", dut_sources=[tmp_path / "topn_mutant.v"]
        )
        check_rule(run, scores, 5)


@needs_icarus
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")
def test_gate_level_netlist_keeps_the_same_keys(tmp_path):
    """The Yosys netlist (synth_xilinx, cell models of share/xilinx/cells_sim.v) of one configuration obeys the rule."""
    from had_hls.rtl.synth import synthesize_topn

    P, L, D, N = 3, 20, 8, 5
    netlist = synthesize_topn(P, L, D, N, tmp_path / "syn")
    scores = tie_heavy_rows(L, D, per_kind=2, seed=11)
    run = simulate_topn(
        scores,
        lanes=P,
        head_dim=D,
        top_n=N,
        workdir=tmp_path / "sim",
        dut_sources=netlist,
        gate_level=True,
        stall_pct=25,
    )
    check_rule(run, scores, N)
    assert Path(netlist[0]).read_text().count("FDRE") > 50  # a real mapped netlist, not the RTL


@needs_icarus
def test_insertion_sort_baseline_keeps_the_same_keys(tmp_path):
    """The baseline of benchmarks/topn_synth.py (a register insertion sort, one key per clock) obeys the rule too."""
    from had_hls.estimate.synth import INSERTION_SORT_SOURCE

    L, D, N = 19, 6, 5
    scores = tie_heavy_rows(L, D, per_kind=2, seed=5)
    run = simulate_topn(
        scores,
        lanes=1,
        head_dim=D,
        top_n=N,
        workdir=tmp_path,
        dut_sources=[INSERTION_SORT_SOURCE],
        module="insertion_topn",
        stall_pct=20,
    )
    check_rule(run, scores, N)
