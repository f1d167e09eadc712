"""`had-hls convert PROJECT.yaml [--out DIR]`: the distilled encoder -> one Vitis-ready hls4ml project.

Writes DIR/hls/model/ (default DIR: projects/<name>/): hls4ml's build_prj.tcl (csim, csynth, cosim, export on),
firmware, tb_data from real test-set inputs with the g++ C-sim logits as expected outputs, README.md, convert.json.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="whole distilled encoder -> one Vitis-ready hls4ml project (DIR/hls/model/), C-simulated on test inputs",
        description="Converts model.checkpoint (patch embedding, LayerNorm, HAD attention, FFN, pooling, head) with "
        "hls4ml (io_parallel), compiles the C-simulation with g++ and runs convert.testbench_samples test images.",
    )
    p.add_argument("project", help="project YAML (e.g. projects/default.yaml)")
    p.add_argument("--out", default=None, help="output folder (default: projects/<name>/)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.hls.model_stage import run_convert
    from had_hls.project import load_project

    project = load_project(args.project)
    report = run_convert(project, args.out)
    print(f"convert {report['name']}: {report['headline']}")
    print(f"Vitis: {report['vitis_command']}")
    for line in report["check"]["violations"]:
        print(f"VIOLATION {line}")
    return 0 if report["check"]["ok"] else 1
