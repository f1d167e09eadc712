"""Whole-model C-simulation accuracy on real data: the held-out test split through the generated C++ (g++).

Three hls4ml projects of the same encoder, side by side (accuracy and C-sim time):

- ``had``:   the distilled HAD student (hard sign + top-N) with our HADAttention layers (bit-exact with golden);
- ``fp``:    our FP-attention version: the FP teacher (HammingAttention in float mode) with our FPAttention layers
             (the student's weights with float attention when the project has no teacher checkpoint);
- ``stock``: hls4ml's own route: the teacher with every attention built from stock hls4ml ops
             (Linear + einsum + Softmax, had_hls.hls.stock_attention); its encoder layers are ours.

Accuracies are fractions over the same ``samples`` test images; ``student``/``teacher`` are the float models
(float64 torch) on those images. ``teacher`` is a trained teacher (``teacher:`` section with its checkpoint); a
project without one has no ``teacher`` entry but ``student_float_attention``: the student's weights with float
attention, which is what the ``fp`` and ``stock`` routes then run, and is labelled so.
One attention layer inside the whole HAD model is checked bit for bit against had_hls.golden on the first
``bit_exact_samples`` images: its input and output are read back from the C-sim with hls4ml's trace (the LayerNorm
in front of it outputs exactly the attention input type).

Each route is an attention op (had_hls.ops): its whole-encoder conversion and hls4ml target
(``convert_model``, ``model_target``) and the golden of the traced layer come from the op of that kind. Which torch
model each route runs (the student, or the FP reference) is this module's choice: it is about the project's
models, not the attention kind.

Standalone: ``run_model_csim(load_project('projects/default.yaml'), 'projects/default', samples=1000)``.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from had_hls.config import Project
from had_hls.errors import UserError
from had_hls.hls.model_convert import ConvertedModel
from had_hls.nn.attention import HammingAttention
from had_hls.nn.binarize import BinarizeMode
from had_hls.spec import AttentionSpec

ROUTES = ("had", "fp", "stock")
FLOAT_STUDENT_LABEL = "student with float attention"  # the FP reference when the project has no trained teacher
BASELINE_SAMPLES = 1000
TARGET_POINTS = 0.5


def _float_attention(model: Any) -> Any:
    import copy

    from had_hls.nn.topn import TopN

    m = copy.deepcopy(model)
    for layer in m.modules():
        if isinstance(layer, HammingAttention):
            layer.set_mode(BinarizeMode.FLOAT)
            layer.top_n = TopN()
    return m


def _float_logits(model: Any, patches: np.ndarray, precision: Any, batch: int = 500) -> np.ndarray:
    """Float64 torch logits of ``model`` on patch vectors (its traced hardware graph: same as the model on images)."""
    import torch

    from had_hls.hls.encoder_graph import hardware_encoder

    graph = hardware_encoder(model, patches.shape[1], precision)
    out = []
    with torch.no_grad():
        for i in range(0, len(patches), batch):
            out.append(graph(torch.as_tensor(patches[i : i + batch], dtype=torch.float64)).numpy())
    return np.concatenate(out)


def cpu_seconds() -> float:
    """User + system CPU seconds so far of this process and of its waited-for children (g++, forked C-sim workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _compile(cm: ConvertedModel, label: str) -> float:
    t0 = time.perf_counter()
    # stdout: redirected by the caller (redirect_stdout is not thread-safe); a failed build raises ToolError (the
    # compiler, its status or signal, the log)
    cm.hls_model.compile()
    return time.perf_counter() - t0


def attention_bit_exactness(cm: ConvertedModel, patches: np.ndarray, layer: int = 0) -> dict[str, Any]:
    """Trace attention layer ``layer`` (and the LayerNorm feeding it) in the compiled model and compare its output
    with the golden trace of its op (had_hls.ops, by the spec's kind) on the traced input. Needs the model compiled
    with ``trace_output`` on."""
    from had_hls.ops import op

    name = cm.attention_layers[layer]
    norm = f"blocks_{layer}_norm1"
    hm = cm.hls_model
    spec: AttentionSpec = next(x for x in hm.get_layers() if x.name == name).get_attr("spec")
    real_compile = hm.compile
    hm.compile = lambda: None  # already compiled with tracing; hls4ml's trace() would rebuild
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            _, traces = hm.trace(np.ascontiguousarray(patches.reshape(len(patches), -1)))
    finally:
        hm.compile = real_compile
    x_in = np.asarray(traces[norm], dtype=np.float64).reshape(len(patches), spec.seq_len, spec.embed_dim)
    y = np.asarray(traces[name], dtype=np.float64).reshape(len(patches), spec.seq_len, spec.embed_dim)
    golden_trace = op(spec.kind).golden_trace
    g = np.stack([spec.precision.result.to_float(golden_trace(spec, x).y) for x in x_in])
    return {
        "layer": name,
        "kind": spec.kind,
        "samples": len(patches),
        "elements": int(y.size),
        "golden_mismatches": int(np.count_nonzero(y != g)),
    }


def run_model_csim(
    project: Project,
    out_dir: str | Path | None = None,
    samples: int | None = None,
    routes: tuple[str, ...] = ROUTES,
    bit_exact_samples: int = 8,
    workers: int | None = None,
    baseline_samples: int | None = BASELINE_SAMPLES,
) -> dict[str, Any]:
    """Run the test split through the whole-model C-sim of each route; returns the dict to merge into csim.json.

    ``samples`` caps the test images (None: the whole split) of the HAD model; the baselines (``fp``, ``stock``) run
    on the first ``min(samples, baseline_samples)`` of them (None: the same images; their full-split C-sim takes
    tens of minutes on 2 cores); every route reports its own ``samples`` and the float accuracy on those images.
    Projects are written under ``out_dir/model_csim/<route>/`` (kept; out_dir defaults to projects/<name>/).
    """
    from had_hls.hls.model_config import convert_section
    from had_hls.hls.model_project import load_models, parallel_predict, test_set
    from had_hls.ops import op

    unknown = set(routes) - set(ROUTES)
    if unknown:
        raise UserError(f"routes: {sorted(unknown)} not allowed; allowed: {', '.join(ROUTES)}")
    precision = convert_section(project).model_precision(project)
    ops = {route: op(route) for route in ROUTES}  # each route is the op of that attention kind
    targets = {route: ops[route].model_target(project) for route in ROUTES}  # stock: io_parallel (einsum / softmax)
    models = load_models(project)
    patches, labels = test_set(project, models.student, samples)
    n = len(patches)
    work = project.output_dir(out_dir) / "model_csim"
    has_teacher = models.teacher is not None
    fp_model = models.teacher if has_teacher else _float_attention(models.student)
    fp_source = "teacher" if has_teacher else FLOAT_STUDENT_LABEL
    sources = {"had": models.student, "fp": fp_model, "stock": fp_model}

    t0 = time.perf_counter()
    converted: dict[str, ConvertedModel] = {}
    convert_s: dict[str, float] = {}
    for route in routes:
        t1 = time.perf_counter()
        converted[route] = ops[route].convert_model(
            sources[route], patches.shape[1:], work / route, precision, targets[route], trace_attention=route == "had"
        )
        if route == "had":
            converted[route].hls_model.config.trace_output = True
        convert_s[route] = time.perf_counter() - t1
    cpu0 = cpu_seconds()
    with (
        contextlib.redirect_stdout(io.StringIO()),
        ThreadPoolExecutor(max_workers=max(1, min(len(routes), os.cpu_count() or 1))) as pool,
    ):
        # the slowest build (hls4ml's stock ops) first, so that it overlaps the others instead of running last
        order = sorted(routes, key=lambda r: r != "stock")
        compile_s = dict(zip(order, pool.map(lambda r: _compile(converted[r], r), order), strict=True))
    compile_cpu = cpu_seconds() - cpu0
    compile_wall = time.perf_counter() - t0 - sum(convert_s.values())

    student_logits = _float_logits(models.student, patches, precision)
    fp_logits = _float_logits(fp_model, patches, precision)  # the teacher, or the student with float attention

    def acc(logits: np.ndarray | None) -> float | None:
        return None if logits is None else float(np.mean(logits.argmax(1) == labels[: len(logits)]))

    def route_n(route: str) -> int:
        return n if route == "had" or baseline_samples is None else min(n, baseline_samples)

    per_route: dict[str, dict[str, Any]] = {}
    for route in routes:
        cm = converted[route]
        k = route_n(route)
        t1, cpu0 = time.perf_counter(), cpu_seconds()
        y = parallel_predict(cm.hls_model, patches[:k], workers)
        run_s, run_cpu = time.perf_counter() - t1, cpu_seconds() - cpu0
        ref = (student_logits if route == "had" else fp_logits)[:k]
        per_route[route] = {
            "samples": k,
            "accuracy": acc(y),
            "float_accuracy": acc(ref),
            "argmax_agreement_vs_float": float(np.mean(y.argmax(1) == ref.argmax(1))),
            "max_abs_logit_err_vs_float": float(np.abs(y - ref).max()),
            "csim_s": round(run_s, 2),
            "csim_cpu_s": round(run_cpu, 2),
            "ms_per_sample": round(1000 * run_s / k, 3),
            "compile_s": round(compile_s[route], 2),
            "convert_s": round(convert_s[route], 2),
            "project_dir": str(work / route),
        }
    accuracy: dict[str, Any] = {"csim": per_route.get("had", {}).get("accuracy"), "student": acc(student_logits)}
    accuracy["teacher" if has_teacher else "student_float_attention"] = acc(fp_logits)
    accuracy["samples"] = n
    report: dict[str, Any] = {
        "accuracy": accuracy,
        "model_csim": {
            "dataset": "fashion_mnist test split" + ("" if samples is None else f" (first {n})"),
            "input": "patch vectors (L, C*P*P) per image; patchify on the host",
            "fp_model": fp_source,
            "workers": workers or os.cpu_count(),
            "compile_wall_s": round(compile_wall, 2),
            "compile_cpu_s": round(compile_cpu, 2),
            "routes": per_route,
        },
    }
    if "had" in per_route:
        a = report["accuracy"]
        a_points = 100 * (a["student"] - a["csim"])
        report["model_csim"]["had_loss_points_vs_student"] = round(a_points, 3)
        report["model_csim"]["within_target"] = abs(a_points) <= TARGET_POINTS
        if bit_exact_samples > 0:
            k = min(bit_exact_samples, n)
            report["model_csim"]["attention_bit_exact"] = attention_bit_exactness(converted["had"], patches[:k])
    if "fp" in per_route:
        k = route_n("fp")
        report["accuracy_fp_attention"] = {
            "csim": per_route["fp"]["accuracy"],
            "float": acc(fp_logits[:k]),
            "samples": k,
        }
    if "stock" in per_route:
        k = route_n("stock")
        report["accuracy_hls4ml_stock"] = {
            "csim": per_route["stock"]["accuracy"],
            "float": acc(fp_logits[:k]),
            "samples": k,
        }
    return report


def reference_label(accuracy: dict[str, Any]) -> str:
    """'teacher' when the accuracy comes from a trained teacher, else 'student with float attention'."""
    return "teacher" if "teacher" in accuracy else FLOAT_STUDENT_LABEL


def reference_accuracy(accuracy: dict[str, Any]) -> float | None:
    """The FP reference's accuracy: the teacher's, or the student's with float attention."""
    return accuracy["teacher"] if "teacher" in accuracy else accuracy.get("student_float_attention")


def format_accuracy(report: dict[str, Any]) -> str:
    """A few summary lines for the CLI."""
    a = report["accuracy"]
    routes = report["model_csim"]["routes"]

    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    lines = [
        f"whole-model C-sim on {a['samples']} test images: HAD C-sim {f(a['csim'])} | float student {f(a['student'])}"
        f" | {reference_label(a)} {f(reference_accuracy(a))}",
        f"{'route':<8} {'images':>7} {'C-sim acc':>10} {'float acc':>10} {'agree':>7} {'compile s':>10} {'C-sim s':>8}"
        f" {'ms/img':>7}",
    ]
    for route, r in routes.items():
        lines.append(
            f"{route:<8} {r['samples']:>7d} {r['accuracy']:>10.4f} {r['float_accuracy']:>10.4f}"
            f" {r['argmax_agreement_vs_float']:>7.4f} {r['compile_s']:>10.1f} {r['csim_s']:>8.1f}"
            f" {r['ms_per_sample']:>7.2f}"
        )
    be = report["model_csim"].get("attention_bit_exact")
    if be:
        lines.append(
            f"{be['layer']} inside the model vs golden: {be['golden_mismatches']} mismatches / {be['elements']}"
        )
    return "\n".join(lines)
