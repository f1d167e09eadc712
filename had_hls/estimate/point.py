"""One design point: synthesis (+ optional Fmax proxy) of a spec's RTL core, cached; shared by report and sweep."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from had_hls.estimate.cache import cached, design_key
from had_hls.estimate.levels import LEVELS_VERSION
from had_hls.estimate.synth import synth_topn, synth_xilinx
from had_hls.estimate.synth_scripts import core_wrapper
from had_hls.estimate.yosys import yosys_version
from had_hls.rtl.generate import RTL_TEMPLATE_DIR, RtlDesign, design_for
from had_hls.spec import AttentionSpec, build_spec, dequantized_weights

FMAX_MAX_SEQ_LEN = 32  # the ECP5 proxy places the core at min(L, this); see had_hls.estimate.timing
FMAX_TIMEOUT_S = 1800.0  # per step (synth_ecp5, nextpnr); beyond it the report says "no Fmax" and why


def respec(spec: AttentionSpec, seq_len: int) -> AttentionSpec:
    """The same layer (weights, sigmas, precision) at another sequence length (top_n clipped to it)."""
    w = dequantized_weights(spec)
    return build_spec(
        spec.kind, seq_len=seq_len, num_heads=spec.num_heads, top_n=min(spec.top_n, seq_len),
        sigma_q=spec.sigma_q, sigma_k=spec.sigma_k,
        weights={k: (v[0], v[1]) for k, v in w.items()}, precision=spec.precision,
        key_padding_mask=spec.key_padding_mask, name=spec.name,
    )


def with_precision(spec: AttentionSpec, precision) -> AttentionSpec:
    """The same layer (weights, sigmas, shape) with other fixed-point types (e.g. the strong FP baseline's)."""
    w = dequantized_weights(spec)
    return build_spec(
        spec.kind, seq_len=spec.seq_len, num_heads=spec.num_heads, top_n=spec.top_n, sigma_q=spec.sigma_q,
        sigma_k=spec.sigma_k, weights={k: (v[0], v[1]) for k, v in w.items()}, precision=precision,
        key_padding_mask=spec.key_padding_mask, name=spec.name,
    )


def synth_key(design: RtlDesign, hierarchical: bool = False) -> str:
    """Cache key of the core's synthesis (the RTL sources, parameters, tables, the synthesis wrapper, Yosys, the
    flow and the level counting)."""
    # the wrapper is generated text (the parameters it passes are the core's): a change of it is a new key
    wrapper = hashlib.sha256(core_wrapper(design).encode()).hexdigest()[:16]
    extra = {"yosys": yosys_version(), "levels": LEVELS_VERSION, "wrapper": wrapper}
    if hierarchical:  # the per-part flow and its part choice (not the no-flatten flow the key once named)
        extra["flow"] = hierarchical_flow_id()
    return design_key(design, "synth_xilinx", extra)


def hierarchical_flow_id() -> str:
    """What decides the hierarchical flow's counts besides the design: its part choice and the part context."""
    from had_hls.estimate.synth_hier import HIER_CONTEXT, HIER_MIN_CELLS, HIER_MIN_COUNT, HIER_MIN_SHARE

    return f"hierarchical-parts:{HIER_MIN_COUNT}:{HIER_MIN_CELLS}:{HIER_MIN_SHARE}:{HIER_CONTEXT}"


def synth_point(design: RtlDesign, work: Path, cache_dir: Path | None, timeout: float | None = None,
                hierarchical: bool = False) -> dict[str, Any]:
    """UltraScale+ counts of the design's core (cached); ``hierarchical``: each distinct part module once
    (had_hls.estimate.synth_hier.prepare_hierarchical)."""
    return cached(cache_dir, "synth", synth_key(design, hierarchical),
                  lambda: synth_xilinx(design, work, timeout=timeout, hierarchical=hierarchical).as_dict())


def topn_key(head_dim: int, lanes: int, top_n: int, seq_len: int) -> str:
    """Cache key of the top-N unit's synthesis."""
    h = hashlib.sha256(json.dumps([head_dim, lanes, top_n, seq_len, yosys_version(), LEVELS_VERSION]).encode())
    h.update((RTL_TEMPLATE_DIR / "topn_stream.v").read_bytes())
    return h.hexdigest()[:20]


def topn_point(head_dim: int, lanes: int, top_n: int, seq_len: int, work: Path, cache_dir: Path | None,
               timeout: float | None = None) -> dict[str, Any]:
    """UltraScale+ counts and logic depth of topn_stream #(P, L, D, N) alone (cached)."""
    return cached(cache_dir, "topn", topn_key(head_dim, lanes, top_n, seq_len),
                  lambda: synth_topn(head_dim, lanes, top_n, seq_len, work, timeout=timeout).as_dict())


def fmax_point(design: RtlDesign, work: Path, cache_dir: Path | None, target_mhz: float,
               max_seq_len: int = FMAX_MAX_SEQ_LEN, timeout: float | None = FMAX_TIMEOUT_S) -> dict[str, Any]:
    """ECP5 Fmax proxy of the core, at min(L, max_seq_len) keys (cached)."""
    from had_hls.estimate.timing import fmax_ecp5, nextpnr_version

    spec = design.spec
    d = design if spec.seq_len <= max_seq_len else design_for(respec(spec, max_seq_len), design.lanes)
    key = design_key(d, "fmax_ecp5", {"yosys": yosys_version(), "nextpnr": nextpnr_version(), "f": target_mhz})
    try:
        res = cached(cache_dir, "fmax", key, lambda: fmax_ecp5(d, work, target_mhz, timeout=timeout))
    except (RuntimeError, subprocess.TimeoutExpired) as err:  # no Fmax is a gap in the report, not a failure
        msg = f"timed out after {timeout:g} s" if isinstance(err, subprocess.TimeoutExpired) else str(err)
        res = {"fmax_mhz": None, "error": msg.splitlines()[0], "cached": False}
    res["seq_len"] = d.spec.seq_len
    res["reduced_seq_len"] = spec.seq_len > max_seq_len
    return res
