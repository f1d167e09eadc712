"""`had-hls sweep [--seq-len 64,128,...] [--head-dim 16,32,64] [--top-n N,...] [--lanes 4] [--out DIR] [--jobs J]
[--cluster ADDR] [--fmax] [--no-power] [--power-window C] [--precision NAME=TYPE ...]`.

HAD vs FP cores over L, d, N, P (Yosys resources, optional ECP5 Fmax proxy, co-simulation power and cycles) and the
counting top-N unit against N with the Vitis sortTopK anchor; points run in parallel (all cores, or a Dask cluster)
and are cached: a rerun computes only the missing points. Writes DIR/sweep.json and DIR/sweep_*.png.
"""

from __future__ import annotations

import argparse


def _ints(text: str, flag: str) -> list[int]:
    from had_hls.errors import UserError

    try:
        vals = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"{flag}: {text!r} is not allowed: give comma-separated integers, e.g. 64,128,256") from None
    if not vals or min(vals) < 1:
        raise UserError(f"{flag}: {text!r} is not allowed: give integers >= 1")
    return vals


def _precision(items: list[str]) -> dict[str, object] | None:
    """``NAME=VALUE`` overrides -> the hls.precision dict, checked by the project schema (``config.build_section``:
    unknown names, value types, the types themselves); a value is read as YAML, as in a project file."""
    import yaml

    from had_hls.config import PrecisionSection, build_section
    from had_hls.errors import UserError

    raw: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--precision: {item!r} is not allowed: give NAME=TYPE, e.g. exp_table=ap_ufixed<16,1>")
        try:
            raw[name.strip()] = yaml.safe_load(value.strip())
        except yaml.YAMLError:
            raw[name.strip()] = value.strip()
    if not raw:
        return None
    build_section(PrecisionSection, raw, "--precision")  # ConfigError (one line, exit 2) on a bad name or value
    return raw


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="design-space sweep of HAD vs FP cores over L, d, N, P (cached, parallel)")
    p.add_argument("--seq-len", default="64,128,256,512,1024,2048,4096", help="L values (comma-separated)")
    p.add_argument("--head-dim", default="16,32,64", help="d values (one head: E = d)")
    p.add_argument("--top-n", default=None, help="N values (default: N = L/8, growing with L)")
    p.add_argument("--lanes", default="4", help="P values (keys per cycle)")
    p.add_argument("--out", default="projects/sweep", help="output folder (sweep.json, plots, cache)")
    p.add_argument("--jobs", type=int, default=None, help="local worker processes (default: all cores)")
    p.add_argument("--cluster", default=None, help="Dask scheduler address (tcp://host:8786) instead of local")
    p.add_argument("--fmax", action="store_true", help="also the nextpnr-ecp5 Fmax proxy per point (slow)")
    p.add_argument("--no-power", action="store_true", help="skip co-simulation power (resources and cycles only)")
    p.add_argument("--power-max-seq-len", type=int, default=4096, help="co-simulate for power only up to this L")
    p.add_argument("--power-window", type=int, default=2048,
                   help="cycles of the power activity window (steady-state attention, after the keys are loaded)")
    p.add_argument("--precision", action="append", default=[], metavar="NAME=TYPE",
                   help="hls.precision override for every point, repeatable (e.g. "
                        "exp_table=ap_ufixed<16,1,AP_RND,AP_SAT>)")
    p.add_argument("--hierarchical", action="store_true",
                   help="per-part synthesis: each replicated or large module of a core synthesised once, the rest "
                        "flat with them as black boxes, counts composed by instance count (runs in parallel; "
                        "flat vs hierarchical: benchmarks/results/synth_flows.json)")
    p.add_argument("--strong-fp", action="store_true",
                   help="also the strong FP baseline (8-bit Q/K, two products per DSP, shared exp tables)")
    p.add_argument("--prepare-synthesis", default=None, metavar="DIR",
                   help="write the points' synthesis folders to DIR and stop (run them elsewhere: "
                        "python -m had_hls.estimate.synth DIR/*/*/ --jobs N)")
    p.add_argument("--import-synthesis", default=None, metavar="DIR",
                   help="take the results of those folders into the sweep's cache before running")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from had_hls.errors import UserError
    from had_hls.estimate.sweep import SweepOptions, format_sweep, grid, run_sweep

    top_n = _ints(args.top_n, "--top-n") if args.top_n is not None else None
    points = grid(_ints(args.seq_len, "--seq-len"), _ints(args.head_dim, "--head-dim"), top_n,
                  _ints(args.lanes, "--lanes"))
    if args.power_window < 1:
        raise UserError(f"--power-window: {args.power_window} is not allowed: give a number of cycles >= 1")
    if args.power_max_seq_len < 1:
        raise UserError(f"--power-max-seq-len: {args.power_max_seq_len} is not allowed: must be >= 1")
    opts = SweepOptions(fmax=args.fmax, power=not args.no_power, power_max_seq_len=args.power_max_seq_len,
                        power_window=args.power_window, precision=_precision(args.precision),
                        hierarchical=args.hierarchical, strong_fp=args.strong_fp)
    if args.prepare_synthesis:
        from pathlib import Path

        from had_hls.estimate.sweep import prepare_synthesis

        folders = prepare_synthesis(points, opts, Path(args.prepare_synthesis).resolve())
        print(f"sweep: {len(folders)} synthesis folders under {args.prepare_synthesis}")
        return 0
    if args.import_synthesis:
        from pathlib import Path

        from had_hls.estimate.sweep import import_synthesis

        done = import_synthesis(Path(args.import_synthesis), Path(args.out) / "cache")
        print(f"sweep: {sum(v.endswith('.json') for v in done.values())} of {len(done)} synthesis results imported")
    sweep = run_sweep(points, args.out, opts, jobs=args.jobs, cluster=args.cluster, quiet=args.quiet)
    print(format_sweep(sweep))
    print(f"wrote {args.out}/sweep.json, {', '.join(sweep['plots'])}")
    return 0 if not sweep["failed"] else 1
