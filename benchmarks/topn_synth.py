"""Benchmark: the streaming top-N unit alone (templates/rtl/topn_stream.v) against a register insertion sort.

    .venv/bin/python benchmarks/topn_synth.py [--jobs 2] [--out benchmarks/results/topn_synth.json]
    .venv/bin/python benchmarks/topn_synth.py --prepare DIR      # folders only (run them elsewhere:
    python -m had_hls.estimate.synth DIR/*/ --jobs 16             #   on a many-core host)
    .venv/bin/python benchmarks/topn_synth.py --collect DIR      # read the results back, write the JSON

Yosys ``synth_xilinx -family xcup`` (UltraScale+) of ``topn_stream #(P, L = 512, D, N)`` over N in {16, 32, 64},
d in {32, 64}, P in {1, 4, 8} (P keys per clock), and of benchmarks/rtl/insertion_topn.v (one key per clock) at the
same N and d: LUT (logic + LUTRAM), FF, BRAM, DSP, the logic levels of the worst register-to-register path and the
clock model of had_hls.estimate.levels. The issue's targets at L = 512, d = 64, N = 64: P = 1 at most 300 LUT, 200 FF
and one RAMB18, no DSP; P = 8 at most 1,500 LUT. Beside them, the published figure of the Vitis Libraries' sortTopK
(a streaming insertion sorter, one key per clock), labelled as published, not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from had_hls.estimate.synth import prepare_topn, run_batch
from had_hls.estimate.yosys import yosys_version
from had_hls.io import write_json

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "topn_synth.json"
SEQ_LEN = 512
TOP_NS = (16, 32, 64)
HEAD_DIMS = (32, 64)
LANES = (1, 4, 8)
TARGETS = {"P1": {"lut": 300, "ff": 200, "bram18": 1, "dsp": 0}, "P8": {"lut": 1500}}
# Published, not measured here (labelled so in the JSON and the docs): the Vitis Libraries' streaming sorters, one key
# per clock. sortTopK: Graph library, L1 primitive (https://docs.amd.com/r/2024.2-English/Vitis_Libraries/graph/
# guide_L1/primitives/sortTopK.html), K = 64. insertSort: Database library (https://docs.amd.com/r/2023.2-English/
# Vitis_Libraries/database/guide/sort/insert_sort.html), 32-bit keys, max sort number 64, interval 1.
PUBLISHED = [
    {
        "design": "Vitis Libraries sortTopK (published)",
        "top_n": 64,
        "keys_per_clock": 1,
        "lut": 14061,
        "ff": 5438,
        "bram": 0,
        "dsp": 0,
        "clock_mhz": 300,
        "source": "https://docs.amd.com/r/2024.2-English/Vitis_Libraries/graph/guide_L1/primitives/sortTopK.html",
    },
    {
        "design": "Vitis Libraries insertSort, 32-bit keys (published)",
        "top_n": 64,
        "keys_per_clock": 1,
        "lut": 2144,
        "ff": 6692,
        "source": "https://docs.amd.com/r/2023.2-English/Vitis_Libraries/database/guide/sort/insert_sort.html",
    },
]


def configs() -> list[dict]:
    out = []
    for d in HEAD_DIMS:
        for n in TOP_NS:
            for p in LANES:
                out.append({"design": "topn_stream", "seq_len": SEQ_LEN, "head_dim": d, "top_n": n, "lanes": p})
            out.append({"design": "insertion_topn", "seq_len": SEQ_LEN, "head_dim": d, "top_n": n, "lanes": 1})
    return out


def label(c: dict) -> str:
    return f"{c['design']}_d{c['head_dim']}_N{c['top_n']}_P{c['lanes']}"


def prepare(folder: Path) -> list[Path]:
    dirs = []
    for c in configs():
        d = prepare_topn(c["head_dim"], c["lanes"], c["top_n"], c["seq_len"], folder / label(c), c["design"])
        (d / "config.json").write_text(json.dumps(c))
        dirs.append(d)
    return dirs


def collect(folder: Path, wall_s: float | None, where: str) -> dict:
    rows = []
    for c in configs():
        d = folder / label(c)
        row = dict(c, keys_per_clock=c["lanes"])
        if (d / "result.json").is_file():
            r = json.loads((d / "result.json").read_text())
            bram18 = sum(n for cell, n in r["cells"].items() if cell.startswith("RAMB18"))
            bram36 = sum(n for cell, n in r["cells"].items() if cell.startswith("RAMB36"))
            row.update(
                lut=r["lut"],
                lut_logic=r["lut_logic"],
                lut_ram=r["lut_ram"],
                ff=r["ff"],
                dsp=r["dsp"],
                bram36_equivalent=r["bram"],
                ramb18=bram18,
                ramb36=bram36,
                carry=r["carry"],
                logic_levels=r["timing"]["logic_levels"],
                fmax_model_mhz=r["timing"]["fmax_model_mhz"],
                critical_path=r["timing"]["path_cells"],
                synth_s=r["seconds"],
            )
        else:
            err = (d / "error.txt").read_text().strip() if (d / "error.txt").is_file() else "no result"
            row["error"] = err
        rows.append(row)
    targets = {}
    for key, c in (("P1", (64, 64, 1)), ("P8", (64, 64, 8))):
        r = next(
            (x for x in rows if x["design"] == "topn_stream" and (x["head_dim"], x["top_n"], x["lanes"]) == c), None
        )
        if r is None or "lut" not in r:
            targets[key] = {"met": None, "why": "not synthesised"}
            continue
        t = TARGETS[key]
        got = {"lut": r["lut"], "ff": r["ff"], "bram18": r["ramb18"] + 2 * r["ramb36"], "dsp": r["dsp"]}
        targets[key] = {"target": t, "measured": {k: got[k] for k in t}, "met": all(got[k] <= v for k, v in t.items())}
    return {
        "seq_len": SEQ_LEN,
        "tool": f"{yosys_version()}: synth_xilinx -family xcup -flatten -noiopad (abc9.verify 0)",
        "rows": rows,
        "targets_L512_d64_N64": targets,
        "published_reference": PUBLISHED,
        "wall_s": wall_s,
        "machine": where,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--prepare", default=None, help="write the synthesis folders here and stop")
    ap.add_argument("--collect", default=None, help="read results from folders prepared (and run) here")
    ap.add_argument("--machine", default=None, help="where --collect's folders ran (for the JSON)")
    a = ap.parse_args(argv)
    here = f"{os.cpu_count()} cores, {platform.platform()}"
    if a.prepare:
        dirs = prepare(Path(a.prepare).resolve())
        print(f"prepared {len(dirs)} folders under {a.prepare}")
        return 0
    if a.collect:
        status = (
            json.loads((Path(a.collect) / "status.json").read_text())
            if (Path(a.collect) / "status.json").is_file()
            else {}
        )
        res = collect(Path(a.collect).resolve(), status.get("wall_s"), a.machine or status.get("machine", here))
    else:
        work = Path(tempfile.mkdtemp(prefix="topn_synth-"))
        try:
            dirs = prepare(work)
            t0 = time.perf_counter()
            run_batch(dirs, a.jobs)
            res = collect(work, round(time.perf_counter() - t0, 1), here)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    write_json(a.out, res)
    t = res["targets_L512_d64_N64"]
    print(f"wrote {a.out}: targets P1 {t['P1'].get('met')}, P8 {t['P8'].get('met')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
