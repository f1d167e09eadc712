"""Top-level style and test bench of every hls4ml project had-hls writes (per-layer and whole-model).

hls4ml 1.3.0 gives an io_parallel project ``#pragma HLS PIPELINE`` at the top (PipelineStyle 'pipeline'): Vitis
then unrolls every loop below it (UG1399, Function Pipelining), far past the ~4,096-operation limit at which it stops
with XFORM 203-504. Its ports are completely reshaped (ARRAY_RESHAPE complete) under ``INTERFACE ap_vld``, and its
C test bench only prints the outputs. Here:

- :func:`apply_top_style` sets PipelineStyle 'dataflow' (our layers are DATAFLOW regions of pipelined loops),
  gives every io_parallel port larger than the partition limit a cyclic reshape by its last dimension (one token a
  word) instead of a complete one, and sizes the FIFOs between io_stream layers (:func:`stream_depth`) instead of
  hls4ml's default of a whole tensor each;
- :func:`install_writer_fixes` wraps VivadoWriter (VitisWriter inherits it), for had-hls models only
  (:func:`had_hls.hls.build.is_had_model`; any other model is written as hls4ml writes it), so that such ports get
  ``INTERFACE ap_memory`` (ap_vld is for scalars and completely reshaped arrays), and so that the test bench reads
  tb_data as doubles, compares every output with tb_output_predictions.dat exactly and returns 1 on a mismatch
  (``csim_design`` in build_prj.tcl then fails). Text the wrappers expect but do not find is an error: the writer
  of hls4ml==1.3.0 (pinned) is the one they patch.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from hls4ml.writer.vivado_writer import VivadoWriter

from had_hls.hls.stage_model import PARTITION_LIMIT_BITS

_MARK = "_had_hls_writer_fix"
TB_MARK = "// had-hls: compare with tb_output_predictions.dat"


def _bits(var: Any) -> int:
    return math.prod(var.shape) * var.type.precision.width


def stream_words(var: Any) -> int:
    """Stream words of a tensor in io_stream: one per row of its last dimension."""
    return max(1, math.prod(var.shape) // int(var.shape[-1]))


def stream_depth(hls_model: Any, layer: Any, output: str) -> int:
    """Depth of the FIFO behind ``output`` of ``layer`` (io_stream): a Clone output read by a Merge (a residual
    branch) holds a whole sequence, because the other branch may read every token before it writes one (the
    attention layer does); every other channel joins per-token stages and needs 2 words."""
    var = layer.variables[output]
    if layer.class_name == "Clone":
        readers = [n for n in hls_model.get_layers() if output in n.inputs]
        if any(n.class_name == "Merge" for n in readers):
            return stream_words(var)
    return min(2, stream_words(var))


def apply_top_style(hls_model: Any, pipeline_style: str = "dataflow", limit_bits: int = PARTITION_LIMIT_BITS) -> None:
    """Set the top-level style of ``hls_model``, the port pragmas of io_parallel ports above ``limit_bits`` and the
    depths of the FIFOs between io_stream layers."""
    if pipeline_style not in ("dataflow", "pipeline"):
        raise ValueError(f"PipelineStyle {pipeline_style!r} is not allowed; allowed: dataflow, pipeline")
    hls_model.config.pipeline_style = pipeline_style
    hls_model.config.config.setdefault("HLSConfig", {}).setdefault("Model", {})["PipelineStyle"] = pipeline_style
    if hls_model.config.get_config_value("IOType") == "io_stream":
        for layer in hls_model.get_layers():
            for output, var in layer.variables.items():
                if isinstance(var.pragma, tuple) and var.pragma[0] == "stream":
                    var.pragma = ("stream", stream_depth(hls_model, layer, output))
        return
    for var in [*hls_model.get_input_variables(), *hls_model.get_output_variables()]:
        if _bits(var) > limit_bits and len(var.shape) > 1:
            var.pragma = ("reshape", "cyclic", int(var.shape[-1]))


def _memory_ports(model: Any) -> list[str]:
    return [
        v.name
        for v in [*model.get_input_variables(), *model.get_output_variables()]
        if isinstance(v.pragma, tuple) and len(v.pragma) > 1 and v.pragma[1] != "complete"
    ]


def fix_interface(text: str, memory_ports: list[str]) -> str:
    """hls4ml's ``INTERFACE ap_vld port=a,b`` line of an io_parallel top: ports in ``memory_ports`` -> ap_memory."""
    if not memory_ports:
        return text
    pattern = re.compile(r"^(\s*)#pragma HLS INTERFACE ap_vld port=([\w,]+)\s*$", re.MULTILINE)
    match = pattern.search(text)
    if match is None:
        raise RuntimeError("hls4ml top function: no '#pragma HLS INTERFACE ap_vld' line to fix")
    indent, ports = match.group(1), match.group(2).split(",")
    lines = []
    vld = [p for p in ports if p not in memory_ports]
    if vld:
        lines.append(f"{indent}#pragma HLS INTERFACE ap_vld port={','.join(vld)}")
    lines += [f"{indent}#pragma HLS INTERFACE ap_memory port={p}" for p in ports if p in memory_ports]
    return text[: match.start()] + "\n".join(lines) + text[match.end() :]


TB_HELPERS = (
    TB_MARK
    + r"""
// Every output element must equal the expected value exactly (the values are exact binary fractions, written and
// read as doubles); the first mismatches are printed and main returns 1, which fails csim_design.
template <class T, size_t SIZE>
int had_hls_compare(T result[SIZE], const std::vector<double> &expected, size_t offset, int sample) {
    int bad = 0;
    for (size_t i = 0; i < SIZE; i++) {
        const double got = result[i].to_double();
        const bool ok = offset + i < expected.size() && got == expected[offset + i];
        if (!ok && bad++ < 3)
            std::cout << "MISMATCH sample " << sample << " output " << offset + i << ": " << got << " expected "
                      << (offset + i < expected.size() ? expected[offset + i] : 0.0) << std::endl;
    }
    return bad;
}
template <class T, size_t SIZE>
int had_hls_compare(hls::stream<T> &result, const std::vector<double> &expected, size_t offset, int sample) {
    int bad = 0;
    size_t k = offset;
    for (size_t i = 0; i < SIZE / T::size; i++) {
        const T word = result.read();
        for (size_t j = 0; j < T::size; j++, k++) {
            const double got = word[j].to_double();
            const bool ok = k < expected.size() && got == expected[k];
            if (!ok && bad++ < 3)
                std::cout << "MISMATCH sample " << sample << " output " << k << ": " << got << " expected "
                          << (k < expected.size() ? expected[k] : 0.0) << std::endl;
        }
        result.write(word);
    }
    return bad;
}
"""
)


TB_VERDICT = r"""    if (e == 0) {
        std::cout << "ERROR: no test vectors in tb_data" << std::endl;
        return 1;
    }
    if (mismatches) {
        std::cout << "ERROR: " << mismatches << " output values differ from tb_output_predictions.dat" << std::endl;
        return 1;
    }
    std::cout << "INFO: all " << e << " test vectors match tb_data/tb_output_predictions.dat" << std::endl;
"""


def fix_test_bench(text: str, outputs: list[tuple[str, str, int]], project: str) -> str:
    """hls4ml's C test bench that also checks: inputs and expected outputs read as doubles, every output compared
    with the expected line, exit status 1 on any mismatch. ``outputs``: (variable, type, size) in port order."""
    if TB_MARK in text:
        return text

    def replace_once(old: str, new: str, s: str) -> str:
        if old not in s:
            raise RuntimeError(f"hls4ml test bench: {old!r} not found")
        return s.replace(old, new, 1)

    text = replace_once(
        '#include "firmware/nnet_utils/nnet_helpers.h"\n',
        '#include "firmware/nnet_utils/nnet_helpers.h"\n\n' + TB_HELPERS,
        text,
    )
    text = replace_once("std::vector<float> in;", "std::vector<double> in;", text)
    text = replace_once("std::vector<float> pr;", "std::vector<double> pr;", text)
    text = text.replace("nnet::copy_data<float, ", "nnet::copy_data<double, ")
    text = replace_once("    int e = 0;\n", "    int e = 0;\n    long mismatches = 0;\n", text)
    call = re.search(rf"^(\s*){re.escape(project)}\(.*\);\s*$", text, re.MULTILINE)
    if call is None:
        raise RuntimeError(f"hls4ml test bench: no call of {project}()")
    indent = call.group(1)
    checks = []
    offset = 0
    for name, type_name, size in outputs:
        checks.append(f"{indent}mismatches += had_hls_compare<{type_name}, {size}>({name}, pr, {offset}, e);")
        offset += size
    text = text[: call.end()] + "\n" + "\n".join(checks) + text[call.end() :]
    tail = "    fout.close();\n"
    verdict = tail + TB_VERDICT
    return replace_once(tail, verdict, text)


def install_writer_fixes() -> None:
    """Wrap VivadoWriter.write_project_cpp and write_test_bench (module docstring). Idempotent."""
    cpp = VivadoWriter.write_project_cpp
    if getattr(cpp, _MARK, False):
        return
    tb = VivadoWriter.write_test_bench

    from had_hls.hls.build import is_had_model

    def write_project_cpp(self, model):
        cpp(self, model)
        if not is_had_model(model) or model.config.get_config_value("IOType") != "io_parallel":
            return
        path = Path(model.config.get_output_dir()) / "firmware" / f"{model.config.get_project_name()}.cpp"
        path.write_text(fix_interface(path.read_text(), _memory_ports(model)))

    def write_test_bench(self, model):
        tb(self, model)
        if not is_had_model(model):
            return
        project = model.config.get_project_name()
        path = Path(model.config.get_output_dir()) / f"{project}_test.cpp"
        outputs = [(v.name, v.type.name, math.prod(v.shape)) for v in model.get_output_variables()]
        path.write_text(fix_test_bench(path.read_text(), outputs, project))

    for fn, orig in ((write_project_cpp, cpp), (write_test_bench, tb)):
        setattr(fn, _MARK, True)
        fn.__doc__ = orig.__doc__
    VivadoWriter.write_project_cpp = write_project_cpp
    VivadoWriter.write_test_bench = write_test_bench
