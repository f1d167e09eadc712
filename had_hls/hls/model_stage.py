"""``had-hls convert``, the stage: the project's distilled encoder -> <out>/hls/model/, one Vitis-ready hls4ml
project, C-simulated on real test inputs (had_hls.hls.model_convert builds the project; this module writes it with
its test bench, build options, README and convert.json, and runs the design check)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from had_hls.hls.convert import target_for
from had_hls.hls.model_convert import MODEL_IO_TYPE, convert_model

BUILD_OPTS = """array set opt {
    reset      0
    csim       1
    synth      1
    cosim      1
    validation 1
    export     1
    vsynth     0
    fifo_opt   0
}
"""

VITIS_COMMAND = "vitis-run --mode hls --tcl build_prj.tcl"
VITIS_HLS_COMMAND = "vitis_hls -f build_prj.tcl"


def _readme(name: str, samples: int, agree: float, acc: float) -> str:
    return f"""# {name}: whole HAD encoder, hls4ml project (Vitis HLS, io_parallel)

Input: the patch vectors of one image, (L, C*P*P) row-major (patchify on the host, TinyViT.patchify).
Output: the logits. Top function: `had_encoder` in firmware/had_encoder.cpp.

Run C simulation, C synthesis, RTL co-simulation and IP export (needs AMD Vitis on PATH):

    {VITIS_COMMAND}        # Vitis >= 2024.2
    {VITIS_HLS_COMMAND}                       # older Vitis HLS

tb_data/tb_input_features.dat holds {samples} real test-set inputs; tb_data/tb_output_predictions.dat the logits
of had-hls's g++ C-simulation of this very code (the Vitis C-sim and co-sim must reproduce them; build_opt.tcl has
validation on, which compares co-sim with C-sim). tb_data/labels.dat: true classes; tb_data/torch_logits.dat: the
float HAD student's logits. At convert time: C-sim argmax == student argmax on {agree:.1%}, accuracy {acc:.1%}.
See docs/vitis.md in the had-hls repository.
"""


def run_convert(project: Any, out: str | Path | None = None, quiet: bool = True) -> dict[str, Any]:
    """`had-hls convert`: the project's distilled encoder -> projects/<name>/hls/model/ (Vitis-ready, C-simulated).

    Writes the hls4ml project, tb_data from real test-set inputs with the C-sim logits as expected outputs, a
    build_opt.tcl with csim/csynth/cosim/export on, README.md and convert.json (returned, plus ``headline``).
    """
    import time

    from had_hls.hls.check import check_graphs, update_check
    from had_hls.hls.model_config import convert_section
    from had_hls.hls.model_project import load_models, parallel_predict, test_set
    from had_hls.io import check_output_dir, staged_output, write_json
    from had_hls.procs import require_tool
    from had_hls.verify.testbench import write_dat

    sec = convert_section(project)
    precision = sec.model_precision(project)
    target = target_for(project, io_type=MODEL_IO_TYPE)
    out_dir = project.output_dir(out)
    check_output_dir(out_dir)
    require_tool("g++", "the C-simulation build")
    models = load_models(project)
    patches, labels = test_set(project, models.student, sec.testbench_samples)
    with staged_output(out_dir) as stage:
        prj = stage / "hls" / "model"
        t0 = time.perf_counter()
        cm = convert_model(models.student, patches.shape[1:], prj, precision, target, tb_inputs=patches)
        convert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            cm.hls_model.compile()  # ToolError (compiler, status or signal, log kept under <out>/logs/) on failure
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        y = parallel_predict(cm.hls_model, patches)
        run_s = time.perf_counter() - t0
        ref = cm.torch_logits(patches)
        write_dat(prj / "tb_data" / "tb_output_predictions.dat", y)
        write_dat(prj / "tb_data" / "torch_logits.dat", ref)
        write_dat(prj / "tb_data" / "labels.dat", labels[:, None])
        (prj / "build_opt.tcl").write_text(BUILD_OPTS)
        agree = float(np.mean(y.argmax(1) == ref.argmax(1)))
        acc = float(np.mean(y.argmax(1) == labels))
        (prj / "README.md").write_text(_readme(project.name, len(patches), agree, acc))
        layers = [
            {"name": layer.name, "class": layer.class_name, "result": str(layer.get_output_variable().type.precision)}
            for layer in cm.hls_model.get_layers()
        ]
        report = {
            "name": project.name,
            "project_dir": str(out_dir / "hls" / "model"),
            "top_function": cm.hls_model.config.get_project_name(),
            "backend": target.backend,
            "io_type": target.io_type,
            "part": target.part,
            "clock_period": target.clock_period,
            "input_shape": list(cm.seq_shape),
            "input_note": "patch vectors (L, C*P*P); patchify runs on the host",
            "checkpoint": str(models.student_path),
            "testbench_samples": len(patches),
            "testbench_csim_vs_student_argmax_agreement": agree,
            "testbench_csim_accuracy": acc,
            "testbench_student_accuracy": float(np.mean(ref.argmax(1) == labels)),
            "max_abs_logit_err_vs_student": float(np.abs(y - ref).max()),
            "convert_s": round(convert_s, 2),
            "compile_s": round(compile_s, 2),
            "csim_s": round(run_s, 2),
            "vitis_command": f"cd {out_dir / 'hls' / 'model'} && {VITIS_COMMAND}",
            "layers": layers,
        }
        checks = check_graphs(project, {"hls/model": cm.hls_model})
        report["check"] = {"ok": not checks[0].violations, "violations": list(checks[0].violations)}
        write_json(prj / "convert.json", report)
    write_json(out_dir / "check.json", update_check(out_dir, checks))  # beside csim's entries for hls/had, hls/fp
    report["headline"] = (
        f"{out_dir / 'hls' / 'model'}: {len(layers)} layers, compile {compile_s:.0f} s, tb C-sim accuracy "
        f"{acc:.3f} (student {report['testbench_student_accuracy']:.3f}, argmax agreement {agree:.3f})"
    )
    return report
