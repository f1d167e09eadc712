"""Switching activity read from a VCD. ``vcd_header`` walks the declarations once for every reader: the variables
of the first scope with a given name (the attention core), each with its path inside that scope. ``vcd_bit_toggles``
counts the toggles of every net declared in that scope and how many rising clock edges find each sampled net high;
it serves the FPGA gate-level power model (had_hls.estimate.netlist_power) and the ASIC cross-check
(had_hls.estimate.asic_activity). The RTL-activity model (had_hls.estimate.power.vcd_activity) reads the same header
through ``vcd_header``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# $var <type> <width> <id> <name> [<msb>[:<lsb>]] $end   (Icarus and Verilator write the range apart from the name)
_VAR = r"\$var\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)(?:\s+\[([^\]:]*)(?::([^\]]*))?\])?\s+\$end"
_HEADER = re.compile(r"\$scope\s+\S+\s+(\S+)\s+\$end|\$upscope\s+\$end|" + _VAR)


@dataclass(frozen=True)
class VcdVar:
    """One ``$var`` inside the chosen scope: ``scope`` is its path below that scope ("" directly in it), ``msb`` and
    ``lsb`` the declared range (None when the VCD gives none)."""

    scope: str
    vtype: str
    width: int
    ident: str
    name: str
    msb: int | None
    lsb: int | None


def vcd_header(head: str, scope: str) -> tuple[str, list[VcdVar]] | None:
    """The first scope named ``scope`` of a VCD header (the text before ``$enddefinitions``): its dotted path from
    the top, and the variables declared in it or below it, in file order. None when no scope has that name."""
    scopes: list[str] = []
    target: str | None = None
    out: list[VcdVar] = []
    for m in _HEADER.finditer(head):
        tok = m.group(0)
        if tok.startswith("$scope"):
            scopes.append(m.group(1))
            if target is None and m.group(1) == scope:
                target = ".".join(scopes)
        elif tok.startswith("$upscope"):
            scopes.pop()
        elif target is not None:
            here = ".".join(scopes)
            if here == target or here.startswith(target + "."):
                msb, lsb = _index(m.group(6)), _index(m.group(7))
                out.append(VcdVar(here[len(target):].lstrip("."), m.group(2), int(m.group(3)), m.group(4),
                                  m.group(5), msb, lsb))
    return None if target is None else (target, out)


def _index(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def vcd_bit_toggles(
    path: Path, scope: str = "core", sample: set[str] | None = None
) -> tuple[int, dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """(cycles, toggles per (net, bit), cycles high at a rising clock edge per (net, bit) of the nets in ``sample``)
    of the nets declared directly in the first scope named ``scope``. Cycles are rising edges of its ``clk``; the
    values dumped first are the initial state, not toggles. Nets dumped under one VCD id (aliases) share counts."""
    with path.open("r", errors="replace") as fh:
        text = fh.read()
    head, _, body = text.partition("$enddefinitions")
    found = vcd_header(head, scope)
    if found is None:
        raise RuntimeError(f"{path}: no scope named {scope!r}")
    ids: dict[str, list[list[tuple[str, int]]]] = {}  # VCD id -> for each alias: (net, bit) per bit, LSB first
    for v in found[1]:
        if v.scope:  # nets of submodules: not this scope's
            continue
        msb = v.msb if v.msb is not None else v.width - 1
        lsb = v.lsb if v.lsb is not None else (msb if v.msb is not None else 0)
        step = 1 if msb >= lsb else -1
        ids.setdefault(v.ident, []).append([(v.name, lsb + i * step) for i in range(v.width)])
    clk = next((i for i, al in ids.items() if any(b == [("clk", 0)] for b in al)), None)
    if clk is None:
        raise RuntimeError(f"{path}: scope {scope!r} has no clk")
    width_of = {i: len(al[0]) for i, al in ids.items()}
    sampled = [i for i, al in ids.items() if sample and any(n in sample for bits in al for n, _ in bits[:1])]
    value: dict[str, int] = {}
    toggles: dict[str, np.ndarray] = {i: np.zeros(w, dtype=np.int64) for i, w in width_of.items()}
    high: dict[str, np.ndarray] = {i: np.zeros(width_of[i], dtype=np.int64) for i in sampled}
    cycles = 0
    first = True
    pending: str | None = None
    for tok in body.split():
        if pending is not None:
            if tok in ids:
                v = int(pending.translate(_XZ), 2)
                old = value.get(tok)
                if old is not None and not first:
                    _count(toggles[tok], old ^ v)
                value[tok] = v
            pending = None
            continue
        c = tok[0]
        if c == "#":
            first = first and not value
            continue
        if c in "bB":
            pending = tok[1:]
            continue
        if c in "01xzXZ" and tok[1:] in ids:
            ident = tok[1:]
            v = 1 if c == "1" else 0
            old = value.get(ident)
            if old is not None and not first:
                toggles[ident][0] += old ^ v
                if ident == clk and v == 1 and old == 0:
                    cycles += 1
                    for j in sampled:  # the value of each sampled bit at this rising edge
                        _count(high[j], value.get(j, 0))
            value[ident] = v
    out_t: dict[tuple[str, int], int] = {}
    out_h: dict[tuple[str, int], int] = {}
    for ident, aliases in ids.items():
        for bits in aliases:
            for k, b in enumerate(bits):
                out_t[b] = int(toggles[ident][k])
                if ident in high:
                    out_h[b] = int(high[ident][k])
    return cycles, out_t, out_h


_XZ = str.maketrans({"x": "0", "z": "0", "X": "0", "Z": "0"})


def _count(acc: np.ndarray, x: int) -> None:
    """acc[i] += bit i of x."""
    while x:
        low = x & -x
        i = low.bit_length() - 1
        if i < len(acc):
            acc[i] += 1
        x ^= low

