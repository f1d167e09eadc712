"""The HLS layers' stages beside the RTL twin's measured cycles (the tables of docs/hls.md).

For every shape of benchmarks/results/cosim_cycles.json (the RTL twin's co-simulation) and for the default project's
layer shape (L = 49, E = 64, H = 4, N = 16, P = 4), the HAD and FP layers are converted with hls4ml (our layers,
io_stream; nothing compiled) and checked with had_hls.hls.check: per stage function the RTL module of the same name,
II, iterations per input (trip count), what one iteration does (unroll), the check's estimated cycles per query row,
beside the RTL twin's measured cycles per query row (the whole core: its stages run one job per ceil(L/P) cycles);
and per shape the layer's estimate (the slowest stage) beside the measured cycles.
Writes benchmarks/results/hls_stages.json; ``--markdown`` prints the tables of docs/hls.md.
Usage: python benchmarks/hls_stages.py [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import torch

from had_hls.hls.check import check_model
from had_hls.hls.convert import HLSTarget
from had_hls.hls.stage_model import stage_models
from had_hls.io import write_json
from had_hls.nn import HammingAttention
from had_hls.ops import op

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "hls_stages.json"
DEFAULT = (49, 64, 4, 16, 4)  # projects/default.yaml: L, E, H, N, P
STAGE_TABLE = (49, 32, 2, 8, 4)  # the cosim_cycles.json shape whose stages docs/hls.md lists


def layer_report(kind: str, L: int, E: int, H: int, N: int, P: int, work: Path) -> dict:
    torch.manual_seed(0)
    layer = HammingAttention(E, H, top_n=N if kind == "had" else None, mode="hard" if kind == "had" else "float")
    model = op(kind).convert(layer.double().eval(), L, work / f"{kind}_{L}_{E}_{H}_{N}_{P}",
                             target=HLSTarget(io_type="io_stream", lanes=P), project_name="myproject")
    report = check_model(model, kind).as_json()
    layer_hls = next(x for x in model.get_layers() if x.class_name in ("HADAttention", "FPAttention"))
    stages = {st.function: st for st in stage_models(layer_hls.get_attr("schedule"))}
    rows = []
    for fn in report["functions"][1:]:
        name = fn["name"].split(".", 1)[1]
        st = stages[name]
        rows.append({
            "hls_function": name, "rtl_module": st.rtl_module, "ii": fn["estimated_ii"], "trip_count": st.trip_count,
            "unroll": st.unroll, "estimated_cycles_per_row": fn["estimated_cycles_per_row"],
            "unrolled_mults": fn["unrolled_mults"], "unrolled_popcounts": fn["unrolled_popcounts"],
            "fifo_bits": fn["fifo_bits"],
        })  # fmt: skip
    core = [r for r in rows if r["hls_function"] != "load"]
    return {
        "kind": kind, "L": L, "E": E, "H": H, "N": N if kind == "had" else L, "P": P, "stages": rows,
        "estimated_cycles_per_row": max(r["estimated_cycles_per_row"] for r in core),
        "fifo_bits_total": report["fifo_bits_total"], "buffer_bits_total": report["buffer_bits_total"],
        "violations": report["violations"],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markdown", action="store_true", help="print the docs/hls.md tables")
    args = ap.parse_args(argv)
    cosim = json.loads((RESULTS / "cosim_cycles.json").read_text())
    out: dict = {"stage_tables": {}, "default_shape": {}, "beside_rtl": [],
                 "cosim_source": "benchmarks/results/cosim_cycles.json"}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("had", "fp"):
            out["default_shape"][kind] = layer_report(kind, *DEFAULT, Path(tmp))
        for row in cosim["rows"]:
            est = layer_report(row["kind"], row["L"], row["E"], row["H"], row["N"], row["P"], Path(tmp))
            if (row["L"], row["E"], row["H"], row["P"]) == STAGE_TABLE[:3] + STAGE_TABLE[4:]:
                est["rtl_measured_cycles_per_query"] = row["cycles_per_query"]
                out["stage_tables"][row["kind"]] = est
            out["beside_rtl"].append({
                "kind": row["kind"], "L": row["L"], "E": row["E"], "H": row["H"], "N": row["N"], "P": row["P"],
                "hls_estimated_cycles_per_row": est["estimated_cycles_per_row"],
                "rtl_measured_cycles_per_query": row["cycles_per_query"],
                "rtl_model_cycles_per_query": row["cycles_per_query_model"],
                "hls_fifo_bits": est["fifo_bits_total"], "violations": est["violations"],
            })  # fmt: skip
    write_json(OUT, out)
    if args.markdown:
        print(markdown(out))
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


def markdown(out: dict) -> str:
    lines = []
    for kind, rep in out["stage_tables"].items():
        lines += [
            f"{kind.upper()} layer, L = {rep['L']}, E = {rep['E']}, H = {rep['H']}, N = {rep['N']}, P = {rep['P']}:",
            "",
            "| HLS function | RTL module | II | trip count (per input) | unroll (per iteration) "
            "| HLS est. cycles / row | RTL measured cycles / row |",
            "|---|---|---|---|---|---|---|",
        ]
        rtl = format(rep["rtl_measured_cycles_per_query"], "g")
        lines += [
            f"| `{r['hls_function']}` | {r['rtl_module']} | {r['ii']} | {r['trip_count']} | {r['unroll']} "
            f"| {r['estimated_cycles_per_row']} | {'-' if r['hls_function'] == 'load' else rtl} |"
            for r in rep["stages"]
        ]
        lines.append("")
    for kind, rep in out["default_shape"].items():
        stages = ", ".join(f"{r['hls_function']} {r['estimated_cycles_per_row']}" for r in rep["stages"])
        lines.append(f"Default shape, {kind.upper()} (L = 49, E = 64, H = 4, P = 4), check's cycles / row: {stages}.")
    lines += [
        "",
        "| kind | L | E | H | N | P | HLS estimate (check) cycles / row | RTL measured cycles / query row |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['kind']} | {r['L']} | {r['E']} | {r['H']} | {r['N']} | {r['P']} | {r['hls_estimated_cycles_per_row']} "
        f"| {r['rtl_measured_cycles_per_query']:g} |"
        for r in out["beside_rtl"]
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
