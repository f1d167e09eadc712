"""Yosys synth_xilinx time and UltraScale+ resources of the RTL attention cores at real sizes.

Shapes (each core synthesised alone, like ``had-hls report``: had_hls.estimate.synth.synth_xilinx =
``synth_xilinx -family xcup -flatten -noiopad`` through pyosys, on the parameters and tables of
had_hls.rtl.design_for):
  default  projects/default.yaml: L = 49, E = 64, H = 4 (d = 16), N = 16, P = 4 (its layer's weights)
  paper    the paper's point: L = 512, E = d = 64, H = 1, N = 64, P = 8 (seeded random weights; exp table 16 bits
           so that the FP core's normalisation product fits the golden model's 62 bits)
Records seconds (wall) and cpu_seconds (Yosys + abc processes, user + system: less sensitive to the load of
other jobs), LUT / FF / DSP / BRAM per core, PA (sparse-AV lanes of the HAD core), DN (normaliser lanes), the
memories Yosys inferred (banks summed), the load average before / after each synthesis and the machine's CPUs:
the machine is shared, so the seconds are wall time under that load.

    python benchmarks/rtl_synth_time.py [--shapes default,paper] [--kinds had,fp] [--timeout 1800]
Writes benchmarks/results/rtl_synth_time.json (rewritten after each core, so a partial run keeps its rows).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "rtl_synth_time.json"
SHAPES = {
    "default": {"project": "projects/default.yaml", "lanes": 4},
    "paper": {
        "seq_len": 512,
        "embed_dim": 64,
        "num_heads": 1,
        "top_n": 64,
        "lanes": 8,
        # the FP core's exact S x acc product over L = 512 keys needs 63 bits with the default 18-bit exp
        # table, one more than the golden model's 62: both kinds use a 16-bit exp table at this point
        "precision": {"exp_table": "ap_ufixed<16,1,AP_RND,AP_SAT>"},
    },
}


def specs_for(shape: str):
    """(HAD spec, FP spec, lanes) of a shape."""
    from had_hls.layer import build_layer
    from had_hls.ops import pair
    from had_hls.project import load_project, parse_project

    cfg = SHAPES[shape]
    if "project" in cfg:
        project = load_project(ROOT / cfg["project"])
    else:
        raw = {
            "name": f"synth_{shape}",
            "model": {k: cfg[k] for k in ("seq_len", "embed_dim", "num_heads", "top_n")} | {"seed": 0},
            "csim": {"vectors": 1},
            "hls": {"precision": dict(cfg["precision"])},
        }
        project = parse_project(raw, ROOT / "benchmarks" / f"{shape}.yaml")
    layer = build_layer(project)
    had, fp = (o.spec(project, layer) for o in pair().values())
    return had, fp, cfg["lanes"]


def markdown(report: dict) -> str:
    """The rows as the table in docs/rtl.md."""
    lines = [
        "| shape | core | P | PA | DN | AV MACs | wall s | CPU s | load avg (1 min) | LUT | FF | DSP | BRAM36 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        shape = f"{r['shape']} (L={r['L']}, E={r['E']}, H={r['H']}, N={r['N']})"
        pa = r["PA"] if r["kind"] == "had" else "-"
        res = [r[k] if r["finished"] else "not finished" for k in ("lut", "ff", "dsp", "bram")]
        load = f"{r['load_avg_before'][0]} -> {r['load_avg_after'][0]}"
        lines.append(
            f"| {shape} | {r['kind'].upper()} | {r['P']} | {pa} | {r['DN']} | {r['av_macs']} | {r['seconds']} |"
            f" {r['cpu_seconds']} | {load} | {res[0]} | {res[1]} | {res[2]} | {res[3]} |"
        )
    m = report["machine"]
    lines.append(f"\n{report['tool']}; {m['cpus']} CPUs, {m['platform']}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from had_hls.estimate.synth import synth_xilinx
    from had_hls.estimate.yosys import yosys_version
    from had_hls.io import write_json
    from had_hls.ops import op

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="default,paper")
    ap.add_argument("--kinds", default="had,fp")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per core")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--markdown", action="store_true", help="print the table of --out for docs/rtl.md and exit")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.markdown:
        print(markdown(json.loads(out.read_text())))
        return 0
    report = json.loads(out.read_text()) if out.is_file() else {}
    rows = {(r["shape"], r["kind"]): r for r in report.get("rows", [])}
    done: set[tuple[str, str]] = set()  # rows measured by this run
    for shape in args.shapes.split(","):
        specs = dict(zip(("had", "fp"), specs_for(shape)[:2], strict=True))
        lanes = SHAPES[shape]["lanes"]
        for kind in args.kinds.split(","):
            spec = specs[kind]
            design = op(kind).rtl_design(spec, lanes)
            load0 = os.getloadavg()
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            with tempfile.TemporaryDirectory(prefix=f"rtl_synth_{shape}_{kind}_") as tmp:
                t0 = time.perf_counter()
                try:
                    # one uncached Yosys run, timed (the op's synth face is cached): the synthesis room itself
                    res = synth_xilinx(design, tmp, timeout=args.timeout)
                    err = None
                except Exception as exc:  # noqa: BLE001  (a timeout is a result too)
                    res, err = None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                wall = time.perf_counter() - t0
            load1 = os.getloadavg()
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            row = {
                "shape": shape,
                "kind": kind,
                "L": spec.seq_len,
                "E": spec.embed_dim,
                "H": spec.num_heads,
                "d": spec.head_dim,
                "N": spec.top_n,
                "P": lanes,
                "G": design.groups,
                "PA": design.av_lanes,
                "DN": design.norm_lanes,
                "av_macs": design.av_lanes * spec.head_dim,
                "seconds": round(res.seconds if res else wall, 1),
                "cpu_seconds": round(cpu, 1),
                "finished": res is not None,
                "error": err,
                "lut": res.lut if res else None,
                "lut_logic": res.lut_logic if res else None,
                "lut_as_memory": res.lut_ram if res else None,
                "ff": res.ff if res else None,
                "dsp": res.dsp if res else None,
                "bram": res.bram if res else None,
                "carry": res.carry if res else None,
                "memories": res.memories if res else None,
                "load_avg_before": [round(x, 2) for x in load0],
                "load_avg_after": [round(x, 2) for x in load1],
            }
            done.add((shape, kind))
            if out.is_file():  # another run (other shapes / kinds) may have written rows meanwhile: keep them
                for r in json.loads(out.read_text()).get("rows", []):
                    if (r["shape"], r["kind"]) not in done:
                        rows[(r["shape"], r["kind"])] = r
            rows[(shape, kind)] = row  # after the merge: the row just measured is never replaced by the file's
            print(
                f"{shape:7s} {kind:3s} L={spec.seq_len} E={spec.embed_dim} H={spec.num_heads} N={spec.top_n} P={lanes}"
                f" PA={row['PA']} DN={row['DN']}: {row['seconds']} s ({row['cpu_seconds']} s CPU),"
                f" LUT {row['lut']} FF {row['ff']} DSP {row['dsp']}"
                f" BRAM {row['bram']}, load {load0[0]:.2f} -> {load1[0]:.2f}" + (f" ({err})" if err else ""),
                flush=True,
            )
            report = {
                "tool": f"{yosys_version()}: synth_xilinx -family xcup -flatten -noiopad (had_hls.estimate.synth)",
                "machine": {
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                    "note": "shared machine: seconds are wall time under the recorded load average (1, 5, 15 min)",
                },
                "shapes": dict(SHAPES),
                "rows": sorted(rows.values(), key=lambda r: (list(SHAPES).index(r["shape"]), r["kind"] != "had")),
            }
            write_json(out, report)
    print(f"wrote {out}")
    return 0 if all(r["finished"] for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
