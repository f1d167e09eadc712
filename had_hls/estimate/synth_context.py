"""A part of the hierarchical synthesis flow in the context of its instances, as flat synthesis sees it.

Flat synthesis optimises across module boundaries; a part synthesised alone cannot, unless its run is told how
the instances' parents use its ports. From Yosys JSON of the elaborated core (:func:`part_contexts`), the part's
run synthesises a wrapper (:func:`context_wrapper`, RTLIL: Yosys's own netlist text) holding one instance of the
part module in that context:

- an input bit that every instance ties to the same constant is tied to it;
- an output bit that no instance's parent reads is left unconnected, so the logic behind it is removed;
- a bit on which the instances differ keeps its port: the part stays a superset of each instance.

Nothing here runs Yosys (had_hls.estimate.synth does). What stays lost across a boundary: logic packed into one
LUT across it, redundancy that only technology mapping (ABC) finds, and the other direction (the rest keeps logic
that feeds a part input the part never reads; tried as word-level "shells" of the parts in the rest's run, it did
not shrink the rest at the paper's point and was left out). docs/report.md ("Hierarchical synthesis") gives what
the flow measured against flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTEXT_FILE = "part_context.il"  # in each part's folder: the part in its instances' context


@dataclass
class PortContext:
    """One port of a part as its instances drive it.

    ``direction`` and ``width`` are the port's. ``const[i]`` is the constant ('0', '1', 'x', 'z') that every
    instance ties input bit i to, else None. ``used[i]`` is True when some instance's parent reads output bit i."""

    direction: str
    width: int
    const: list[str | None]
    used: list[bool]


def rtlil_id(json_name: str) -> str:
    """An RTLIL identifier from a Yosys JSON name (JSON drops the leading backslash of public names)."""
    return json_name if json_name.startswith("$") else "\\" + json_name


def _sig(bits: list[str]) -> str:
    """RTLIL sigspec of ``bits`` (LSB first): one bit, or a concatenation (MSB first)."""
    return bits[0] if len(bits) == 1 else "{ " + " ".join(reversed(bits)) + " }"


def _pin_counts(module: dict[str, Any]) -> dict[Any, int]:
    """net -> its occurrences on the module's cell pins and ports."""
    counts: dict[Any, int] = {}
    for c in module.get("cells", {}).values():
        for bits in c["connections"].values():
            for b in bits:
                counts[b] = counts.get(b, 0) + 1
    for v in module.get("ports", {}).values():
        for b in v["bits"]:
            counts[b] = counts.get(b, 0) + 1
    return counts


# ------------------------------------------------------------------------------------------------ into the part
def part_contexts(design: dict[str, Any], parts: set[str]) -> dict[str, dict[str, PortContext]]:
    """{part: {port: PortContext}} from the elaborated design (``write_json`` after ``proc; opt_clean``: bits are
    net numbers, constants strings). ``parts`` are RTLIL names, as ``choose_parts`` gives them. Over every instance
    of a part in every module that is not a part itself: constants that agree, outputs read anywhere."""
    mods = {rtlil_id(k): v for k, v in design["modules"].items()}
    out: dict[str, dict[str, PortContext]] = {}
    for m in parts:
        out[m] = {p: PortContext(v["direction"], len(v["bits"]), [None] * len(v["bits"]), [False] * len(v["bits"]))
                  for p, v in mods[m]["ports"].items()}
    seen = {m: False for m in parts}
    for parent_name, parent in mods.items():
        if parent_name in parts:
            continue
        cells = [c for c in parent.get("cells", {}).values() if rtlil_id(c["type"]) in parts]
        if not cells:
            continue
        pins = _pin_counts(parent)
        for c in cells:
            m = rtlil_id(c["type"])
            ctx, first = out[m], not seen[m]
            seen[m] = True
            for port, bits in c["connections"].items():
                pc = ctx[port]
                for i, b in enumerate(bits):
                    if pc.direction == "input":
                        const = b if isinstance(b, str) else None
                        pc.const[i] = const if first or pc.const[i] == const else None
                    else:  # read when the net has a pin besides this output (an inout is always kept)
                        pc.used[i] = pc.used[i] or pc.direction != "output" or (
                            isinstance(b, int) and pins.get(b, 0) > 1)
    for m, ctx in out.items():
        if not seen[m]:  # no instance where the flow looks: no context
            for pc in ctx.values():
                pc.const, pc.used = [None] * pc.width, [True] * pc.width
    return out


def context_wrapper(name: str, module: str, ctx: dict[str, PortContext]) -> str:
    """RTLIL of module ``name``: one instance of ``module`` with its context applied. Inputs keep their ports (a
    tied bit leaves its port bit dangling); an output port carries only the bits some instance reads."""
    wires, pins, assigns = [], [], []
    for k, (port, pc) in enumerate(ctx.items(), start=1):
        w = "\\" + port
        if pc.direction == "output":
            full = f"\\{port}__all"
            wires.append(f"  wire width {pc.width} {full}")
            used = [f"{full} [{i}]" for i in range(pc.width) if pc.used[i]]
            if used:
                wires.append(f"  wire width {len(used)} output {k} {w}")
                assigns.append(f"  connect {w} {_sig(used)}")
            pins.append(f"    connect {w} {full}")
            continue
        wires.append(f"  wire width {pc.width} {pc.direction} {k} {w}")
        if all(c is None for c in pc.const):
            pins.append(f"    connect {w} {w}")
        else:
            pins.append(f"    connect {w} " + _sig([f"1'{c}" if c is not None else f"{w} [{i}]"
                                                    for i, c in enumerate(pc.const)]))
    return "\n".join([f"# had_hls.estimate.synth_context: {module} in the context of its instances",
                      f"module \\{name}", *wires, f"  cell {module} \\part", *pins, "  end", *assigns, "end", ""])


def context_summary(ctx: dict[str, PortContext]) -> dict[str, int]:
    """For the job file: input bits tied to a constant, output bits cut."""
    return {"tied_input_bits": sum(c is not None for pc in ctx.values() for c in pc.const),
            "cut_output_bits": sum(pc.direction == "output" and not u for pc in ctx.values() for u in pc.used)}
