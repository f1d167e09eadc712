"""PNG plots of the report and the sweep (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# AMD Vitis Libraries, graph L1 primitive sortTopK (insertion sort, one key per clock), maximum sort number 64:
# 14,061 LUT, 5,438 FF, 0 BRAM, 0 DSP at 300 MHz (Xilinx/Vitis_Libraries, graph/docs/src/guide_L1/primitives/
# sortTopK.rst, Table 1; docs/report.md). Drawn as the reference line of the top-N plot.
SORTTOPK_K64_LUT = 14_061


def report_plots(report: dict[str, Any], out: Path) -> list[Path]:
    """report_resources.png (HAD vs FP per resource + LUT-eq) and report_power.png (power by resource)."""
    had, fp = report["had"], report["fp"]
    paths = []
    keys = ["lut", "ff", "dsp", "carry", "lut_equivalents"]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = range(len(keys))
    ax.bar([i - 0.2 for i in x], [max(had[k], 0.1) for k in keys], 0.4, label="HAD")
    ax.bar([i + 0.2 for i in x], [max(fp[k], 0.1) for k in keys], 0.4, label="FP")
    ax.set_xticks(list(x), ["LUT", "FF", "DSP", "CARRY8", "LUT-eq"])
    ax.set_yscale("log")
    ax.set_title(f"{report['name']}: resources (area reduction {100 * report['area_reduction']:.1f}%)")
    ax.legend()
    fig.tight_layout()
    paths.append(out / "report_resources.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.6))
    bottom = [0.0, 0.0]
    for r in ("lut", "ff", "dsp", "bram"):
        vals = [had["power"]["by_resource_mw"][r], fp["power"]["by_resource_mw"][r]]
        ax.bar(["HAD", "FP"], vals, bottom=bottom, label=r.upper())
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("dynamic power (mW)")
    ax.set_title(f"power at {report['equal_throughput']['clock_mhz']:g} MHz "
                 f"(reduction {100 * report['power_reduction']:.1f}%)")
    ax.legend()
    fig.tight_layout()
    paths.append(out / "report_power.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


KIND_STYLES = {"had": "-o", "fp": "--s", "fp_strong": ":^"}
SWEEP_PANELS = (("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("bram", "BRAM36"),
                ("lut_equivalents", "LUT-equivalents"), ("power_mw", "dynamic power (mW)"),
                ("k_memory_bits", "K memory (bits): linear in L"), ("topn_share", "top-N unit: share of HAD LUTs (%)"))


def _sweep_series(points: list[dict[str, Any]], kind: str, key: str) -> tuple[list[int], list[float]]:
    """(L, value) of one line, the points sorted by L; a point without the value (power not simulated) is left out
    of the line, never drawn as zero."""
    xs, ys = [], []
    for p in sorted(points, key=lambda q: q["seq_len"]):
        core = p.get(kind)
        if core is None:
            continue
        y = 100.0 * core["topn_lut"] / core["lut"] if key == "topn_share" else core.get(key)
        if y is not None:
            xs.append(p["seq_len"])
            ys.append(float(y))
    return xs, ys


def sweep_plots(points: list[dict[str, Any]], out: Path) -> list[Path]:
    """sweep_vs_L.png and sweep_topn.png.

    sweep_vs_L: against L (log axis), HAD per (d, N) and each FP baseline per d (its core does not depend on N):
    LUT, FF, DSP, BRAM36, LUT-equivalents, dynamic power, K memory bits (L*d for HAD, L*d*qk_bits for FP) and the
    top-N unit's share of the HAD core's LUTs (the unit synthesized alone / the core). Resource axes are symlog so a
    zero (no DSP, no BRAM) stays on the plot; failed points are named under the panels with their reason."""
    paths: list[Path] = []
    ok = [p for p in points if "error" not in p]
    failed = [p for p in points if "error" in p]
    if not ok:
        return paths
    fig, axes = plt.subplots(2, 4, figsize=(18, 7.5))
    for ax, (key, title) in zip(axes.flat, SWEEP_PANELS, strict=True):
        kinds = ("had",) if key == "topn_share" else tuple(k for k in KIND_STYLES if any(k in p for p in ok))
        for kind in kinds:
            select = []
            for d, lanes in sorted({(p["head_dim"], p["lanes"]) for p in ok}):
                pts = [p for p in ok if (p["head_dim"], p["lanes"]) == (d, lanes)]
                name = f"{kind.upper().replace('_', ' ')} d={d} P={lanes}"
                one_per_l = len({p["seq_len"] for p in pts}) == len(pts)
                if kind != "had" or one_per_l:  # FP cores do not depend on N: one point per L
                    firsts = {p["seq_len"]: p for p in sorted(pts, key=lambda q: -q["top_n"])}
                    ns = sorted({p["top_n"] for p in firsts.values()})
                    tail = "" if kind != "had" else f" N={ns[0]}" if len(ns) == 1 else f" N={ns[0]}..{ns[-1]}"
                    select.append((name + tail, list(firsts.values())))
                else:
                    select += [(f"{name} N={n}", [p for p in pts if p["top_n"] == n])
                               for n in sorted({p["top_n"] for p in pts})]
            for label, pts in select:
                xs, ys = _sweep_series(pts, kind, key)
                if xs:
                    ax.plot(xs, ys, KIND_STYLES[kind], label=label, markersize=4)
        if not ax.lines:  # e.g. power without co-simulation: say so rather than draw an empty log axis
            ax.text(0.5, 0.5, "not measured in this sweep", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        ax.set_xscale("log", base=2)
        if key == "topn_share":
            ax.set_yscale("linear")
        elif key in ("dsp", "bram"):
            ax.set_yscale("symlog", linthresh=1)
            ax.set_ylim(bottom=0)
        else:
            ax.set_yscale("log")
        ax.set_xlabel("L (keys)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes.flat[0].legend(fontsize=6)
    axes.flat[len(SWEEP_PANELS) - 1].legend(fontsize=6)
    if failed:
        text = "failed points: " + "; ".join(f"{p['label']}: {p['error'][:90]}" for p in failed)
        fig.text(0.01, 0.005, text, fontsize=7, color="red", wrap=True)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    else:
        fig.tight_layout()
    paths.append(out / "sweep_vs_L.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for d, lanes in sorted({(p["head_dim"], p["lanes"]) for p in ok}):  # one line per (d, P): the unit's width
        pts = sorted((p for p in ok if (p["head_dim"], p["lanes"]) == (d, lanes)),
                     key=lambda p: (p["top_n"], p["seq_len"]))
        ax.plot([p["top_n"] for p in pts], [p["had"]["topn_lut"] for p in pts], "o",
                label=f"HAD counting top-N, d={d}, P={lanes} (LUT)")
    ax.axhline(SORTTOPK_K64_LUT, color="r", ls=":", label="Vitis sortTopK K=64: 14,061 LUT")
    ax.set_xlabel("N (kept keys)")
    ax.set_ylabel("LUT")
    ax.set_yscale("log")
    ax.set_title("top-N unit cost against N")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "sweep_topn.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths
