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


def sweep_plots(points: list[dict[str, Any]], out: Path) -> list[Path]:
    """sweep_vs_L.png and sweep_topn.png.

    sweep_vs_L: against L, per d, for HAD and FP: LUT-equivalents, dynamic power, K memory bits (linear in L:
    L*d for HAD, L*d*qk_bits for FP) and cycles per input (L queries x H ceil(L/P): the quadratic work)."""
    paths: list[Path] = []
    ok = [p for p in points if "error" not in p]
    if not ok:
        return paths
    panels = (("lut_equivalents", "LUT-equivalents"), ("power_mw", "dynamic power (mW)"),
              ("k_memory_bits", "K memory (bits): linear in L"),
              ("cycles_per_input", "cycles per input (L queries): quadratic"))
    fig, axes = plt.subplots(1, len(panels), figsize=(17, 3.8))
    for d in sorted({p["head_dim"] for p in ok}):
        pts = sorted((p for p in ok if p["head_dim"] == d), key=lambda p: p["seq_len"])
        ls = [p["seq_len"] for p in pts]
        for kind, style in (("had", "-o"), ("fp", "--s")):
            for ax, (key, _) in zip(axes, panels, strict=True):
                if key == "cycles_per_input":  # measured where co-simulated, else the cycle formula (its own key)
                    ys = [p["seq_len"] * (p[kind].get("cycles_per_query") or p[kind]["cycles_per_query_model"])
                          for p in pts]
                else:
                    ys = [p[kind].get(key) for p in pts]
                if all(y is not None for y in ys):
                    ax.plot(ls, ys, style, label=f"{kind.upper()} d={d}")
    for ax, (_, title) in zip(axes, panels, strict=True):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("L (keys)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    paths.append(out / "sweep_vs_L.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for d, lanes in sorted({(p["head_dim"], p["lanes"]) for p in ok}):  # one line per (d, P): the unit's width
        pts = sorted((p for p in ok if (p["head_dim"], p["lanes"]) == (d, lanes)),
                     key=lambda p: (p["top_n"], p["seq_len"]))
        ax.plot([p["top_n"] for p in pts], [p["had"]["topn_lut"] for p in pts], "-o",
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
