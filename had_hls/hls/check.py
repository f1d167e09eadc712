"""``had-hls check``: a pre-synthesis design-rule check of the hls4ml projects had-hls generates.

What Vitis HLS will be asked to build, computed from the hls4ml ModelGraph (our layers carry their
:class:`had_hls.hls.schedule.AttentionSchedule` / :class:`~had_hls.hls.projection_plan.ProjectionPlan`, read
through :mod:`had_hls.hls.stage_model`; hls4ml's own layers their attributes and variable pragmas): per function
(a stage of an attention core, or a layer) the operations its pipelined loop body unrolls, the largest array it
partitions completely into registers, the FIFO bits it writes, its II and the cycles it spends per row (token /
query row) in steady state. Rules (UG1399 and the hls4ml issues on XFORM 203-504):

- no pipelined region unrolls more than ``unroll_limit`` operations (multiplications + popcounts + the other unrolled
  operations of the loop body). A top function with PipelineStyle 'pipeline' unrolls every loop below it (UG1399:
  "when a function is pipelined, all the loops in the function body and in the hierarchy below are automatically
  unrolled"), so each function then counts its whole work per input;
- no array above :data:`PARTITION_LIMIT_BITS` is completely partitioned (with a pipelined top, every array is);
- every FIFO is at least as deep as the schedule needs to be deadlock-free (the score FIFO of an attention core:
  G + SC; a residual branch of an io_stream model: one sequence).

Numbers are models of the C++ (the same numbers the config structs carry), not Vitis reports: docs/hls.md says what
could not be verified without Vitis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from had_hls.hls.projection_plan import UNROLL_LIMIT, ProjectionPlan, ceil_div
from had_hls.hls.schedule import AttentionSchedule
from had_hls.hls.stage_model import PARTITION_LIMIT_BITS, core_buffers, stage_models
from had_hls.hls.top_style import stream_words

# FIFO of an attention core -> the stage that writes it
_FIFO_WRITERS = {
    "had": {
        "beats": "hamming_unit",
        "scores": "topn_hist",
        "thresholds": "topn_hist",
        "kept": "topn_keep",
        "av": "softmax_av_lanes",
        "context": "normalise_row",
    },
    "fp": {
        "beats": "fp_score_unit",
        "scores": "fp_max_tree",
        "thresholds": "fp_max_tree",
        "av": "softmax_av_lanes",
        "context": "normalise_row",
    },
}


@dataclass
class FunctionCheck:
    """One function of a generated project (check.json ``functions[]``)."""

    name: str
    unrolled_mults: int = 0
    unrolled_popcounts: int = 0
    partitioned_array_bits_max: int = 0
    fifo_bits: int = 0
    estimated_ii: int = 1
    estimated_cycles_per_row: int = 0
    unrolled_other: int = 0  # adds / compares / table reads of the loop body (counted in the unroll rule)

    @property
    def unrolled_ops(self) -> int:
        return self.unrolled_mults + self.unrolled_popcounts + self.unrolled_other

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("unrolled_other")
        return out


@dataclass
class ProjectCheck:
    """One generated project (check.json ``projects[]``)."""

    name: str
    io_type: str
    top_style: str
    functions: list[FunctionCheck] = field(default_factory=list)
    buffer_bits_total: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def fifo_bits_total(self) -> int:
        return sum(f.fifo_bits for f in self.functions)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "io_type": self.io_type,
            "top_style": self.top_style,
            "functions": [f.as_json() for f in self.functions],
            "fifo_bits_total": self.fifo_bits_total,
            "buffer_bits_total": self.buffer_bits_total,
            "violations": list(self.violations),
        }


# ------------------------------------------------------------------------------------------------ per layer
def _attention(layer: Any, pipelined_top: bool) -> tuple[list[FunctionCheck], int, list[str]]:
    """The stage functions of an attention layer, its buffer bits and its FIFO-depth violations."""
    sched: AttentionSchedule = layer.get_attr("schedule")
    writers = _FIFO_WRITERS[sched.kind]
    fifo_bits: dict[str, int] = {}
    for f in sched.fifos:
        fifo_bits[writers[f.name]] = fifo_bits.get(writers[f.name], 0) + f.bits
    buffers = core_buffers(sched)
    functions = []
    for st in stage_models(sched):
        regs = [b.bits for b in buffers if b.function == st.function and (b.registers or pipelined_top)]
        fn = FunctionCheck(
            name=f"{layer.name}.{st.function}",
            unrolled_mults=st.unrolled_mults,
            unrolled_popcounts=st.unrolled_popcounts,
            partitioned_array_bits_max=max(regs, default=0),
            fifo_bits=fifo_bits.get(st.function, 0),
            estimated_ii=st.ii,
            estimated_cycles_per_row=st.cycles_per_row,
            unrolled_other=st.unrolled_ops,
        )
        if pipelined_top:  # every loop below a pipelined top is unrolled: the whole work of an input at once
            n = ceil_div(st.trip_count, st.ii)
            fn.unrolled_mults *= n
            fn.unrolled_popcounts *= n
            fn.unrolled_other *= n
        functions.append(fn)
    violations = []
    for f in sched.fifos:
        need = sched.fifo_minimum(f.name)
        if f.depth < need:
            violations.append(
                f"{layer.name}: FIFO {f.name} has depth {f.depth} < {need} (the schedule's minimum): the stages "
                "would deadlock"
            )
    return functions, sum(b.bits for b in buffers if not b.constant), violations


def _plan_function(name: str, plan: ProjectionPlan, in_width: int, acc_width: int) -> FunctionCheck:
    return FunctionCheck(
        name=name,
        unrolled_mults=plan.block if plan.strategy == "resource" else plan.n_in * plan.n_out,
        partitioned_array_bits_max=max(plan.n_out * acc_width, plan.n_in * in_width),
        estimated_ii=plan.ii,
        estimated_cycles_per_row=plan.cycles_per_token,
    )


def _hls4ml_dense(layer: Any, seq_len: int) -> FunctionCheck:
    n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
    rf = int(layer.get_attr("reuse_factor", 1))
    resource = str(layer.get_attr("strategy", "latency")).lower() == "resource"
    acc = layer.get_attr("accum_t").precision.width
    return FunctionCheck(
        name=layer.name,
        unrolled_mults=ceil_div(n_in * n_out, rf) if resource else n_in * n_out,
        partitioned_array_bits_max=n_out * acc,
        estimated_ii=1 if resource else rf,
        estimated_cycles_per_row=ceil_div(rf, seq_len),
    )


def _layer(layer: Any, seq_len: int) -> FunctionCheck:
    """A non-attention layer as one function."""
    cls = layer.class_name
    out = layer.get_output_variable()
    width = out.type.precision.width
    token = int(out.shape[-1])
    if cls in ("HADTokenEmbed", "HADDenseSeq"):
        hw = layer.get_attr("hw")
        inp = layer.get_input_variable()
        return _plan_function(layer.name, layer.get_attr("plan"), inp.type.precision.width, hw.accum.width)
    if cls == "HADLayerNorm":
        acc = layer.get_attr("hw").accum.width
        return FunctionCheck(
            layer.name,
            unrolled_mults=3 * token,
            partitioned_array_bits_max=token * acc,
            estimated_cycles_per_row=1,
            unrolled_other=2 * token,
        )
    if cls == "HADGELU":
        cycles = max(1, min(int(layer.get_attr("reuse_factor", 1)), token))
        lanes = ceil_div(token, cycles)
        return FunctionCheck(
            layer.name,
            estimated_cycles_per_row=ceil_div(token, lanes),
            unrolled_other=lanes,
            partitioned_array_bits_max=token * width,
        )
    if cls == "HADTokenPool":
        acc = layer.get_attr("hw").accum.width
        inp = layer.get_input_variable()
        return FunctionCheck(
            layer.name,
            unrolled_other=int(inp.shape[-1]),
            estimated_cycles_per_row=1,
            partitioned_array_bits_max=int(inp.shape[-1]) * acc,
        )
    if cls == "Dense":
        return _hls4ml_dense(layer, seq_len)
    # hls4ml Merge / Clone / Activation on a token: one operation per element, II = 1
    return FunctionCheck(layer.name, unrolled_other=token, estimated_cycles_per_row=1)


def _stream_fifo_bits(layer: Any) -> int:
    bits = 0
    for var in layer.variables.values():
        if isinstance(var.pragma, tuple) and var.pragma[0] == "stream":
            bits += int(var.pragma[1]) * int(var.shape[-1]) * var.type.precision.width
    return bits


def _port_check(hls_model: Any) -> FunctionCheck:
    """The top function's array ports (io_parallel): the largest completely reshaped / partitioned one."""
    name = hls_model.config.get_project_name()
    fn = FunctionCheck(name, estimated_cycles_per_row=1)
    if hls_model.config.get_config_value("IOType") != "io_parallel":
        return fn
    for var in [*hls_model.get_input_variables(), *hls_model.get_output_variables()]:
        complete = not (isinstance(var.pragma, tuple) and len(var.pragma) > 1 and var.pragma[1] != "complete")
        if complete:
            bits = math.prod(var.shape) * var.type.precision.width
            fn.partitioned_array_bits_max = max(fn.partitioned_array_bits_max, bits)
    return fn


def _residual_violations(hls_model: Any, name: str) -> list[str]:
    """io_stream: a residual (Clone -> Merge) FIFO must hold a sequence (the other branch may read all of it)."""
    out = []
    for layer in hls_model.get_layers():
        if layer.class_name != "Clone":
            continue
        for output, var in layer.variables.items():
            readers = [n for n in hls_model.get_layers() if output in n.inputs]
            need = stream_words(var)
            if any(n.class_name == "Merge" for n in readers) and isinstance(var.pragma, tuple):
                if int(var.pragma[1]) < need:
                    out.append(f"{name}: FIFO {output} (residual branch) has depth {var.pragma[1]} < {need}: deadlock")
    return out


def check_model(
    hls_model: Any, name: str, unroll_limit: int = UNROLL_LIMIT, partition_limit: int = PARTITION_LIMIT_BITS
) -> ProjectCheck:
    """Check one hls4ml ModelGraph (converted by had-hls; not necessarily written or compiled)."""
    io_type = hls_model.config.get_config_value("IOType")
    top_style = str(hls_model.config.pipeline_style)
    pipelined_top = top_style == "pipeline"
    report = ProjectCheck(name=name, io_type=io_type, top_style=top_style)
    report.functions.append(_port_check(hls_model))
    seq_len = 1
    for layer in hls_model.get_layers():
        if layer.class_name in ("HADAttention", "FPAttention"):
            seq_len = max(seq_len, layer.get_attr("spec").seq_len)
    for layer in hls_model.get_layers():
        if layer.class_name == "Input":
            continue
        if layer.class_name in ("HADAttention", "FPAttention"):
            functions, buffer_bits, violations = _attention(layer, pipelined_top)
            functions[-1].fifo_bits += _stream_fifo_bits(layer)
            report.functions += functions
            report.buffer_bits_total += buffer_bits
            report.violations += violations
            continue
        fn = _layer(layer, seq_len)
        fn.fifo_bits = _stream_fifo_bits(layer) if io_type == "io_stream" else 0
        if pipelined_top:
            out = layer.get_output_variable()
            rows = max(1, math.prod(out.shape) // int(out.shape[-1]))
            fn.unrolled_mults *= rows * max(1, fn.estimated_cycles_per_row)
            fn.unrolled_other *= rows * max(1, fn.estimated_cycles_per_row)
        report.functions.append(fn)
    if io_type == "io_stream":
        report.violations += _residual_violations(hls_model, name)
    for fn in report.functions:
        if fn.unrolled_ops > unroll_limit:
            report.violations.append(
                f"{name}: {fn.name} unrolls {fn.unrolled_ops} operations in one pipelined region "
                f"({fn.unrolled_mults} multiplications, {fn.unrolled_popcounts} popcounts; limit {unroll_limit}: "
                "Vitis stops with XFORM 203-504): raise ReuseFactor, use Strategy Resource or PipelineStyle dataflow"
            )
        if fn.partitioned_array_bits_max > partition_limit:
            report.violations.append(
                f"{name}: {fn.name} completely partitions an array of {fn.partitioned_array_bits_max} bits into "
                f"registers (limit {partition_limit})"
            )
    return report


def check_report(projects: list[ProjectCheck]) -> dict[str, Any]:
    """check.json: {ok, projects}."""
    ordered = sorted(projects, key=lambda p: p.name)
    return {"ok": all(not p.violations for p in ordered), "projects": [p.as_json() for p in ordered]}


def format_check(report: dict[str, Any]) -> str:
    """A summary table per project, then one line per violation."""
    lines = []
    for p in report["projects"]:
        worst = max(p["functions"], key=lambda f: f["estimated_cycles_per_row"], default=None)
        lines.append(
            f"{p['name']}: {p['io_type']}, top {p['top_style']}, {len(p['functions'])} functions, FIFOs "
            f"{p['fifo_bits_total']} bits, buffers {p['buffer_bits_total']} bits, "
            f"{'ok' if not p['violations'] else str(len(p['violations'])) + ' violation(s)'}"
            + (f"; slowest {worst['name']} {worst['estimated_cycles_per_row']} cycles/row" if worst else "")
        )
    for p in report["projects"]:
        lines += [f"VIOLATION {v}" for v in p["violations"]]
    return "\n".join(lines)


def write_check(report: dict[str, Any], out_dir: Path) -> Path:
    from had_hls.io import write_json

    path = Path(out_dir) / "check.json"
    write_json(path, report)
    return path


def update_check(out_dir: Path, projects: list[ProjectCheck]) -> dict[str, Any]:
    """The check.json of ``out_dir`` with the entries of ``projects`` replaced (others, written by another command
    into the same folder, kept); returned, not written."""
    import json

    old: list[dict[str, Any]] = []
    path = Path(out_dir) / "check.json"
    if path.is_file():
        try:
            old = list(json.loads(path.read_text()).get("projects", []))
        except (ValueError, AttributeError, TypeError):
            old = []
    new = {p.name for p in projects}
    merged = [p for p in old if isinstance(p, dict) and p.get("name") not in new] + [p.as_json() for p in projects]
    merged.sort(key=lambda p: str(p.get("name")))
    return {"ok": all(not p.get("violations") for p in merged), "projects": merged}


def check_graphs(project: Any, graphs: dict[str, Any]) -> list[ProjectCheck]:
    limit = project.hls.unroll_limit
    return [check_model(g, name, unroll_limit=limit) for name, g in graphs.items()]
