"""The standalone streaming top-N unit (templates/rtl/topn_stream.v): its reference rule and its simulation.

Rule (:func:`topn_reference`): of a row of L scores in [0, D] keep the n = min(N, valid keys) keys with the smallest
score, ties to the lower key index; padded keys are never kept. :func:`simulate_topn` streams rows through the
Verilog unit (Icarus or Verilator, verification/rtl/tb_topn_stream.v) with random input stalls and returns what it
emitted per row and when, so that tests and benchmarks check the rule, the interface and the throughput.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from had_hls.rtl.generate import RTL_TEMPLATE_DIR, TB_DIR
from had_hls.rtl.sim import find_simulator, run_tool

TOPN_SOURCE = RTL_TEMPLATE_DIR / "topn_stream.v"
TOPN_TB = TB_DIR / "tb_topn_stream.v"


def score_bits(head_dim: int) -> int:
    """HW = $clog2(D + 1): bits of a score in [0, D]."""
    return max(1, math.ceil(math.log2(head_dim + 1)))


def index_bits(seq_len: int) -> int:
    """IW = $clog2(L), 1 when L = 1."""
    return max(1, math.ceil(math.log2(seq_len))) if seq_len > 1 else 1


def topn_reference(scores: np.ndarray, pad: np.ndarray | None, top_n: int) -> list[int]:
    """Brute-force statement of the had-hls tie rule: the kept key indices of one row, in key order.

    Sort the valid keys by (score, index) and keep the first min(N, valid) of them."""
    scores = np.asarray(scores)
    valid = np.ones(len(scores), dtype=bool) if pad is None else ~np.asarray(pad, dtype=bool)
    order = sorted((int(scores[j]), j) for j in range(len(scores)) if valid[j])
    return sorted(j for _, j in order[: min(top_n, len(order))])


@dataclass
class TopnRun:
    """What the unit emitted: per row the (key, score) pairs in emission order and the out_done cycle."""

    rows: list[list[tuple[int, int]]]
    done_cycles: list[int]
    in_cycles: list[int]  # cycle of every accepted beat
    key_cycles: list[list[int]]  # per row, the cycle of every emitted key
    overlap: int  # cycles with out_valid and out_done both high (must be 0)
    end_cycle: int
    build_s: float
    run_s: float


def encode_beats(scores: np.ndarray, pads: np.ndarray | None, lanes: int, head_dim: int) -> list[str]:
    """Rows (R, L) -> hex beats {pad[P-1:0], h[P*HW-1:0]}, lane p of beat g = key g P + p (lanes past L: 0)."""
    rows, seq_len = scores.shape
    hw = score_bits(head_dim)
    groups = -(-seq_len // lanes)
    width = lanes * hw + lanes
    digits = -(-width // 4)
    out = []
    for r in range(rows):
        for g in range(groups):
            word = 0
            for p in range(lanes):
                j = g * lanes + p
                if j >= seq_len:
                    continue
                word |= int(scores[r, j]) << (p * hw)
                if pads is not None and pads[r, j]:
                    word |= 1 << (lanes * hw + p)
            out.append(f"{word:0{digits}x}")
    return out


def simulate_topn(
    scores: np.ndarray,
    *,
    lanes: int,
    head_dim: int,
    top_n: int,
    workdir: Path,
    pads: np.ndarray | None = None,
    simulator: str = "icarus",
    stall_pct: int = 0,
    seed: int = 1,
    dut_sources: list[Path] | None = None,
    gate_level: bool = False,
    module: str = "topn_stream",
    max_cycles: int | None = None,
) -> TopnRun:
    """Stream rows ``scores`` (R, L) through topn_stream #(P=lanes, L, D=head_dim, N=top_n) and parse the output.

    ``pads`` (R, L) bool makes the unit MASKED (a padding bit per lane). ``dut_sources`` replaces topn_stream.v;
    ``gate_level``: they are a synthesised netlist of these parameters (instantiated without parameters).
    ``module``: the unit's module name (another unit with topn_stream's ports and parameters L, D, N)."""
    scores = np.asarray(scores, dtype=np.int64)
    rows, seq_len = scores.shape
    if scores.min(initial=0) < 0 or scores.max(initial=0) > head_dim:
        raise ValueError(f"scores must lie in [0, {head_dim}]")
    tools = find_simulator(simulator)
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    beats = encode_beats(scores, pads, lanes, head_dim)
    (workdir / "beats.hex").write_text("\n".join(beats) + "\n")
    groups = -(-seq_len // lanes)
    if max_cycles is None:
        max_cycles = 8 * rows * (max(groups, min(top_n, seq_len)) + head_dim + 32) + 200
    masked = pads is not None
    cfg = [
        f"`define P {lanes}",
        f"`define L {seq_len}",
        f"`define D {head_dim}",
        f"`define N {top_n}",
        f"`define MASKED {int(masked)}",
        f"`define NBEATS {len(beats)}",
        f"`define ROWS {rows}",
        f"`define STALL_PCT {int(stall_pct)}",
        f"`define SEED {int(seed)}",
        f"`define MAX_CYCLES {max_cycles}",
        '`define BEAT_FILE "beats.hex"',
        '`define OUT_FILE "topn_out.txt"',
    ]
    if masked:
        cfg.append("`define HAS_PAD")
    if gate_level:
        cfg.append("`define GATE")
    if module != "topn_stream":
        cfg.append(f"`define DUT {module}")
    (workdir / "topn_config.vh").write_text("\n".join(cfg) + "\n")
    srcs = [str(p) for p in (dut_sources or [TOPN_SOURCE])]
    out = workdir / "topn_out.txt"
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    if simulator == "icarus":
        run_tool(
            [tools["iverilog"], "-g2005", "-I", str(workdir), "-s", "tb", "-o", "topn.vvp", str(TOPN_TB), *srcs],
            workdir,
        )
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        run_tool([tools["vvp"], "-n", "topn.vvp"], workdir)
    else:
        run_tool(
            [
                tools["verilator"],
                "--cc",
                "--exe",
                "--build",
                "--timing",
                "--main",
                "-Wno-fatal",
                "-Wno-lint",
                "-Wno-style",
                "--top-module",
                "tb",
                "-I" + str(workdir),
                "--Mdir",
                "obj_topn",
                "-o",
                "Vtb",
                str(TOPN_TB),
                *srcs,
            ],
            workdir,
        )
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        run_tool([str(workdir / "obj_topn" / "Vtb")], workdir)
    return _parse(out, rows, simulator, build_s, time.perf_counter() - t1)


def _parse(path: Path, rows: int, simulator: str, build_s: float, run_s: float) -> TopnRun:
    if not path.is_file():
        raise RuntimeError(f"{simulator}: the top-N test bench wrote no {path.name}")
    got: list[list[tuple[int, int]]] = [[]]
    key_cycles: list[list[int]] = [[]]
    dones: list[int] = []
    ins: list[int] = []
    key_at: set[int] = set()
    end = -1
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        tag = parts[0]
        if tag == "I":
            ins.append(int(parts[1]))
        elif tag == "K":
            got[-1].append((int(parts[2]), int(parts[3])))
            key_cycles[-1].append(int(parts[1]))
            key_at.add(int(parts[1]))
        elif tag == "D":
            dones.append(int(parts[1]))
            got.append([])
            key_cycles.append([])
        elif tag == "END":
            end = int(parts[1])
        elif tag == "TIMEOUT":
            raise RuntimeError(
                f"{simulator}: top-N simulation timed out at cycle {parts[1]} after {len(dones)} of {rows} rows"
            )
    return TopnRun(
        rows=got[:rows],
        done_cycles=dones,
        in_cycles=ins,
        key_cycles=key_cycles[:rows],
        overlap=len(key_at.intersection(dones)),
        end_cycle=end,
        build_s=build_s,
        run_s=run_s,
    )
