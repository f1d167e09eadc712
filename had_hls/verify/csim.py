"""C-simulation of a project's attention layer (HAD and the FP baseline): hls4ml + g++ vs golden vs torch.

Flow: build the layer (checkpoint or seeded random) -> freeze HAD and FP specs -> seeded input vectors ->
convert both with hls4ml (our custom layers) -> compile (g++, in parallel) -> predict -> compare bit for bit
with the golden model, and against torch (hard mode, float64): the float model as the accuracy reference, and
the float model with the hardware's dequantized weights against the provable bound of verify/bounds.py.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from had_hls import golden
from had_hls.config import Project
from had_hls.errors import UserError
from had_hls.hls.check import check_graphs, update_check
from had_hls.hls.convert import HLSTarget, target_for
from had_hls.io import staged_output, write_json
from had_hls.layer import build_layer, build_specs, make_vectors
from had_hls.nn.attention import HammingAttention
from had_hls.ops import OPS, pair
from had_hls.spec import AttentionSpec, dequantized_weights
from had_hls.verify.bounds import output_error_bound
from had_hls.verify.testbench import write_tb_data


# ------------------------------------------------------------------------------------------------ torch refs
def torch_reference(layer: HammingAttention, x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    with torch.no_grad():
        xt = torch.tensor(x, dtype=torch.float64)
        mt = None if mask is None else torch.tensor(mask)
        return layer.double()(xt, mt).numpy()


def with_hardware_weights(layer: HammingAttention, spec: AttentionSpec) -> HammingAttention:
    """A copy of ``layer`` whose projections hold exactly the spec's dequantized weights and biases."""
    q = copy.deepcopy(layer).double()
    linears = {"q": q.q_proj, "k": q.k_proj, "v": q.v_proj, "o": q.out_proj}
    with torch.no_grad():
        for key, (w, b) in dequantized_weights(spec).items():
            linears[key].weight.copy_(torch.tensor(w))
            if linears[key].bias is not None:
                linears[key].bias.copy_(torch.tensor(b))
    return q


# ------------------------------------------------------------------------------------------------ C-sim
@dataclass
class LayerResult:
    kind: str
    csim: np.ndarray
    golden: np.ndarray
    compile_s: float
    run_s: float
    max_abs_err_vs_torch: float
    max_abs_err_vs_torch_hw_weights: float
    error_bound: float

    @property
    def golden_mismatches(self) -> int:
        return int(np.count_nonzero(self.csim != self.golden))

    def summary(self) -> dict[str, Any]:
        return {
            "golden_mismatches": self.golden_mismatches,
            "max_abs_err_vs_torch": self.max_abs_err_vs_torch,
            "max_abs_err_vs_torch_hw_weights": self.max_abs_err_vs_torch_hw_weights,
            "error_bound_vs_torch_hw_weights": self.error_bound,
            "max_abs_output": float(np.abs(self.golden).max()),
            "compile_s": round(self.compile_s, 3),
            "run_s": round(self.run_s, 3),
        }


def _target(project: Project) -> HLSTarget:
    return target_for(project)


def wants_model_csim(project: Project) -> bool:
    """Whole-model C-sim on real data: a checkpoint, a dataset (teacher section) and csim.model."""
    return project.csim.model and project.model.checkpoint is not None and "teacher" in project.present


@dataclass
class LayerProjects:
    """The HAD and FP layer projects of a project, written (not compiled), with golden on the test vectors."""

    models: dict[str, Any]
    specs: dict[str, AttentionSpec]
    layers: dict[str, HammingAttention]
    traces: dict[str, list[golden.GoldenTrace]]
    golden: dict[str, np.ndarray]


def write_layer_projects(
    project: Project, folder: str | Path, x: np.ndarray, mask: np.ndarray | None, layer: HammingAttention | None = None
) -> LayerProjects:
    """Convert the project's layer (HAD) and its FP baseline into ``folder``/hls/{had,fp} (hls4ml, our layers),
    write them, and give each tb_data: the inputs ``x`` (K, L, E) [+ ``mask`` (K, L)] and golden's outputs, so that
    their own C test benches (Vitis ``csim_design``, had_hls.verify.testbench) check the synthesized code."""
    target = _target(project)
    layer = layer or build_layer(project)
    had_spec, fp_spec = build_specs(project, layer)
    k = len(x)
    ops = pair()  # the HAD and FP ops (had_hls.ops): torch module, hls4ml conversion and golden of each
    out = LayerProjects({}, {"had": had_spec, "fp": fp_spec}, {kind: op.module(layer) for kind, op in ops.items()},
                        {}, {})
    for kind, op in ops.items():
        spec = out.specs[kind]
        prj = Path(folder) / "hls" / kind
        model = op.convert(layer, project.model.seq_len, prj, project.precision, target, with_mask=mask is not None,
                           project_name=f"{kind}_attention")
        with contextlib.redirect_stdout(io.StringIO()):  # hls4ml reports each file it writes
            model.write()
        traces = [op.golden_trace(spec, x[i], None if mask is None else mask[i]) for i in range(k)]
        out.traces[kind] = traces
        out.golden[kind] = np.stack([spec.precision.result.to_float(t.y) for t in traces])
        inputs = [x.reshape(k, -1)] + ([] if mask is None else [mask.reshape(k, -1).astype(np.float64)])
        write_tb_data(prj, inputs, out.golden[kind].reshape(k, -1))
        out.models[kind] = model
    return out


def run_csim(
    project: Project,
    out_dir: str | Path | None = None,
    vectors: int | None = None,
    quiet: bool = False,
    samples: int | None = None,
):
    """Run the whole C-simulation; returns the csim.json dict. Outputs appear in ``out_dir`` only on success.

    The attention layer (HAD and FP) runs on K seeded vectors, bit for bit against golden; with a checkpoint and a
    dataset the whole model also runs on the test split (had_hls.verify.accuracy) and ``accuracy`` is added.
    """
    from had_hls.io import check_output_dir
    from had_hls.procs import require_tool
    from had_hls.project import check_datapath

    target = _target(project)
    k = vectors if vectors is not None else project.csim.vectors
    if k < 1:
        raise UserError(f"--vectors: {k} is not allowed: must be >= 1")
    if samples is not None and samples < 1:
        raise UserError(f"--samples: {samples} is not allowed: must be >= 1")
    check_datapath(project, k, "--vectors" if vectors is not None else "csim.vectors")
    out_dir = project.output_dir(out_dir)
    check_output_dir(out_dir)
    require_tool("g++", "the C-simulation build")
    layer = build_layer(project)
    build_specs(project, layer)  # bad settings fail here, before any output
    x, mask = make_vectors(project, k)

    model_csim = wants_model_csim(project)
    bar = tqdm(total=5 if model_csim else 4, desc="csim", unit="step", disable=quiet, leave=False)
    with staged_output(out_dir) as stage:
        bar.set_postfix_str("convert (hls4ml)")
        lp = write_layer_projects(project, stage, x, mask, layer)
        bar.update()
        bar.set_postfix_str("compile (g++)")
        compile_s = _compile_all(lp.models)
        bar.update()
        bar.set_postfix_str("run C-sim")
        results = {}
        for kind in ("had", "fp"):
            spec, mod, traces = lp.specs[kind], lp.layers[kind], lp.traces[kind]
            t0 = time.perf_counter()
            y = OPS[kind].csim(lp.models[kind], x, mask)
            run_s = time.perf_counter() - t0
            g = lp.golden[kind]
            ref = torch_reference(mod, _quantized_inputs(spec, x), mask)
            ref_hw = torch_reference(with_hardware_weights(mod, spec), _quantized_inputs(spec, x), mask)
            bound = max(output_error_bound(spec, t) for t in traces)
            results[kind] = LayerResult(
                kind,
                y,
                g,
                compile_s[kind],
                run_s,
                max_abs_err_vs_torch=float(np.abs(g - ref).max()),
                max_abs_err_vs_torch_hw_weights=float(np.abs(g - ref_hw).max()),
                error_bound=bound,
            )
        had_spec, models = lp.specs["had"], lp.models
        bar.update()
        report = _report(project, target, k, had_spec, results, compile_s, mask is not None)
        checks = check_graphs(project, {f"hls/{kind}": models[kind] for kind in ("had", "fp")})
        check = update_check(out_dir, checks)
        write_json(stage / "check.json", check)
        violations = [v for c in checks for v in c.violations]
        report["check"] = {"ok": not violations, "violations": violations}
        if model_csim:
            from had_hls.verify.accuracy import run_model_csim

            bar.set_postfix_str("whole model on the test split")
            model_report = run_model_csim(project, stage, samples if samples is not None else project.csim.samples,
                                          baseline_samples=project.csim.baseline_samples)
            for route in model_report["model_csim"]["routes"].values():  # where it lands, not the staging folder
                route["project_dir"] = str(out_dir / Path(route["project_dir"]).relative_to(stage))
            report.update(model_report)
            bar.update()
        bar.set_postfix_str("write")
        arrays = {
            "x": x,
            "had_csim": results["had"].csim,
            "fp_csim": results["fp"].csim,
            "had_golden": results["had"].golden,
            "fp_golden": results["fp"].golden,
        }
        if mask is not None:
            arrays["mask"] = mask
        np.savez_compressed(stage / "csim_vectors.npz", **arrays)
        write_json(stage / "csim.json", report)
        bar.update()
    bar.close()
    return report


def _quantized_inputs(spec: AttentionSpec, x: np.ndarray) -> np.ndarray:
    t = spec.precision.input
    return t.to_float(t.from_float(x))


def _compile_all(models: dict[str, Any]) -> dict[str, float]:
    """Compile the hls4ml projects with g++ in parallel (one process per core); seconds per model and wall.

    A failing build (:class:`had_hls.procs.ToolError`: the compiler, its exit status or signal, the log) stops the
    other builds at once and is raised as it is."""
    from concurrent.futures import as_completed

    from had_hls.procs import kill_tree, processes_in

    def one(kind: str, model: Any) -> float:
        t0 = time.perf_counter()
        model.compile()
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    out: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(len(models), os.cpu_count() or 1))) as pool:
        futures = {pool.submit(one, kind, model): kind for kind, model in models.items()}
        try:
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            for model in models.values():  # the other compiles: their processes work in their project folders
                kill_tree(processes_in(model.config.get_output_dir()))
            raise
    out["wall"] = time.perf_counter() - t0
    return out


def _report(project, target, k, spec, results, compile_s, masked) -> dict[str, Any]:
    had, fp = results["had"], results["fp"]
    return {
        "name": project.name,
        "backend": target.backend,
        "io_type": target.io_type,
        "part": target.part,
        "clock_period": target.clock_period,
        "vectors": k,
        "shape": {
            "seq_len": spec.seq_len,
            "embed_dim": spec.embed_dim,
            "num_heads": spec.num_heads,
            "head_dim": spec.head_dim,
            "top_n": spec.top_n,
            "key_padding_mask": masked,
        },
        "sigma_q": spec.sigma_q,
        "sigma_k": spec.sigma_k,
        "precision": spec.precision.as_strings(),
        "golden_mismatches": had.golden_mismatches,
        "output_elements": int(had.csim.size),
        "max_abs_err_vs_torch": had.max_abs_err_vs_torch,
        "max_abs_err_vs_torch_hw_weights": had.max_abs_err_vs_torch_hw_weights,
        "error_bound_vs_torch_hw_weights": had.error_bound,
        "had": had.summary(),
        "fp_baseline": fp.summary(),
        "compile_s": round(compile_s["wall"], 3),
        "run_s": round(had.run_s + fp.run_s, 3),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
    }
