"""The generated HLS projects describe the RTL twin's machine and are checked the way Vitis would see them.

- ReuseFactor / Strategy: the projections' plan (hls4ml's valid set, cycle-major weights, n_in n_out / RF MACs);
- ``had-hls check``: numbers of check.json on shapes nobody tuned for, derived here from the issue's formulas
  (P lanes, G = ceil(L/P), S = ceil((d+1)/G) bins a scan cycle, FIFO depths 2G + SC ...), and violations flagged;
- the synthesis path: the projects' own C test benches (g++ -std=c++0x, no fast path), io_parallel and io_stream,
  against golden, and a test bench that must fail when one expected value is wrong.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import hls4ml
import numpy as np
import pytest
from conftest import seeded_layer

from had_hls.cli import main
from had_hls.hls.check import check_model
from had_hls.hls.convert import HLSTarget, convert_attention
from had_hls.hls.projection_plan import ProjectionPlan, valid_reuse_factors
from had_hls.hls.schedule import attention_schedule
from had_hls.layer import make_vectors
from had_hls.precision import Precision
from had_hls.project import load_project
from had_hls.spec import spec_from_module
from had_hls.verify.csim import write_layer_projects
from had_hls.verify.testbench import run_testbench

FUNCTION_KEYS = {
    "name",
    "unrolled_mults",
    "unrolled_popcounts",
    "partitioned_array_bits_max",
    "fifo_bits",
    "estimated_ii",
    "estimated_cycles_per_row",
}
PROJECT_KEYS = {"name", "io_type", "top_style", "functions", "fifo_bits_total", "buffer_bits_total", "violations"}


# ------------------------------------------------------------------------------------------------ ReuseFactor
@pytest.mark.parametrize("n_in,n_out", [(64, 64), (24, 40), (13, 7), (48, 10)])
def test_valid_reuse_factors_are_hls4mls(n_in: int, n_out: int):
    backend = hls4ml.backends.get_backend("Vitis")
    assert valid_reuse_factors(n_in, n_out) == backend.get_valid_reuse_factors(n_in, n_out)


@pytest.mark.parametrize("n_in,n_out,rf,strategy", [(12, 10, 4, "resource"), (12, 10, 24, "resource"),
                                                   (12, 10, 120, "resource"), (12, 10, 3, "latency")])
def test_projection_plan_reads_every_weight_once_in_input_order(n_in, n_out, rf, strategy):
    plan = ProjectionPlan.for_reuse(n_in, n_out, rf, strategy)
    assert plan.cycles_per_token == rf  # a token takes ReuseFactor cycles (Resource: steps, Latency: II)
    assert plan.multipliers == n_in * n_out // rf
    assert plan.block == (n_in * n_out // rf if strategy == "resource" else n_in * n_out)
    w = np.arange(n_out * n_in).reshape(n_out, n_in) + 1
    flat = plan.layout(w)
    seen: dict[int, list[int]] = {o: [] for o in range(n_out)}
    for t in range(plan.cycles):
        for lane in range(plan.block):
            o, i = plan.lane_index(t, lane)
            assert flat[t * plan.block + lane] == w[o, i]
            seen[o].append(i)
    assert all(seen[o] == list(range(n_in)) for o in range(n_out))  # golden.project's order for every output


def test_projection_plan_rejects_an_inconsistent_reuse_factor():
    with pytest.raises(ValueError, match="ReuseFactor 5 is not allowed for a 12 x 10 projection; allowed: 1, 2, 3"):
        ProjectionPlan.for_reuse(12, 10, 5, "resource")


# ------------------------------------------------------------------------------------------------ check numbers
def _fn(report, name):
    return next(f for f in report["functions"] if f["name"].endswith(name))


@pytest.mark.parametrize(
    "seq,embed,heads,top_n,lanes",
    [(23, 48, 3, 5, 3), (37, 40, 5, 11, 6), (10, 32, 1, 10, 4)],
)
def test_check_numbers_follow_the_schedule(tmp_path, seq, embed, heads, top_n, lanes):
    layer = seeded_layer(embed, heads, top_n, seed=seq)
    target = HLSTarget(io_type="io_stream", lanes=lanes)
    model = convert_attention(layer, seq, tmp_path / "p", target=target)
    report = check_model(model, "p").as_json()
    assert set(report) == PROJECT_KEYS and report["top_style"] == "dataflow" and report["violations"] == []
    assert all(set(f) == FUNCTION_KEYS for f in report["functions"])
    spec = spec_from_module(layer, "had", seq, Precision(), False)
    d, w = embed // heads, spec.widths
    g = math.ceil(seq / lanes)  # G beats a job
    s = 1  # bins a scan cycle: the RTL twin's, the smallest power of two with ceil(d / S) <= G
    while math.ceil(d / s) > g and s < d:
        s *= 2
    sc = math.ceil(d / s)  # scan cycles, <= G
    rf = max(r for r in valid_reuse_factors(embed, embed) if r <= heads * g and 3 * embed * embed // r <= 4096)
    pa = max(1, math.ceil(min(top_n, seq) / g))
    po = min(embed, math.ceil(embed / (heads * g)))
    ham = _fn(report, "hamming_unit")
    assert (ham["unrolled_popcounts"], ham["estimated_ii"], ham["estimated_cycles_per_row"]) == (lanes, 1, heads * g)
    beat = lanes * (w["ham"] + 1)
    assert ham["fifo_bits"] == 2 * beat
    hist = _fn(report, "topn_hist")
    assert hist["estimated_cycles_per_row"] == heads * g
    assert hist["fifo_bits"] == (2 * g + sc) * beat + 2 * (2 * w["ham"] + w["count"])  # scores + thresholds
    assert hist["partitioned_array_bits_max"] == 2 * lanes * d * w["count"]  # bin d is implied
    load = _fn(report, "load")
    assert load["unrolled_mults"] == 3 * embed * embed // rf and load["estimated_cycles_per_row"] == rf
    av = _fn(report, "softmax_av_lanes")
    assert av["unrolled_mults"] == pa * d and av["estimated_cycles_per_row"] == heads * math.ceil(min(top_n, seq) / pa)
    assert _fn(report, "out_proj")["unrolled_mults"] == embed * po
    assert max(f["estimated_cycles_per_row"] for f in report["functions"]) == heads * g  # the core's row time
    assert report["fifo_bits_total"] == sum(f["fifo_bits"] for f in report["functions"])
    # no FIFO holds a row of L scores: the largest channel is linear in L / P
    assert hist["fifo_bits"] < seq * seq * (w["ham"] + 1)


def test_fp_core_has_p_lanes_of_dot_products(tmp_path):
    layer = seeded_layer(36, 2, None, seed=4, mode="float")
    model = convert_attention(layer, 17, tmp_path / "fp", target=HLSTarget(lanes=5))
    report = check_model(model, "fp").as_json()
    score = _fn(report, "fp_score_unit")
    assert score["unrolled_mults"] == 5 * 18 and score["estimated_cycles_per_row"] == 2 * math.ceil(17 / 5)
    assert report["violations"] == []


def test_schedule_fifo_minimum_is_checked():
    spec = spec_from_module(seeded_layer(16, 2, 3), "had", 9, Precision(), False)
    sched = attention_schedule(spec, 2)
    assert sched.fifo("scores").depth >= sched.fifo_minimum("scores") == sched.groups + sched.scan_cycles


# ------------------------------------------------------------------------------------------------ violations
def test_latency_reuse_1_at_a_large_shape_is_flagged(tmp_path, project_file, capsys):
    path = project_file(
        name="big",
        model={"seq_len": 16, "embed_dim": 128, "num_heads": 2, "top_n": 4},
        hls={"strategy": "Latency", "reuse_factor": 1},
    )
    out = tmp_path / "out"
    assert main(["check", str(path), "--out", str(out)]) == 1
    report = json.loads((out / "check.json").read_text())
    assert report["ok"] is False
    had = next(p for p in report["projects"] if p["name"] == "hls/had")
    assert _fn(had, "load")["unrolled_mults"] == 3 * 128 * 128
    assert any("XFORM 203-504" in v and "attn.load" in v for v in had["violations"])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("VIOLATION")]
    assert len(lines) == sum(len(p["violations"]) for p in report["projects"]) >= 2  # HAD and FP layers


def test_pipelined_top_unrolls_every_loop_and_is_flagged(tmp_path, project_file):
    path = project_file(name="piped", model={"seq_len": 20, "embed_dim": 32, "num_heads": 2, "top_n": 4},
                        hls={"pipeline_style": "pipeline"})
    assert main(["check", str(path), "--out", str(tmp_path / "o")]) == 1
    projects = json.loads((tmp_path / "o" / "check.json").read_text())["projects"]
    assert [p["name"] for p in projects] == ["hls/fp", "hls/had"]
    had = projects[1]
    assert had["top_style"] == "pipeline"
    ham = _fn(had, "hamming_unit")
    assert ham["unrolled_popcounts"] == 20 * 2 * 20  # every key of every query row and head at once


def test_default_project_is_clean_and_raising_the_limit_is_asking_for_it(tmp_path, project_file):
    model = {"seq_len": 16, "embed_dim": 128, "num_heads": 2, "top_n": 4}
    clean = project_file(name="ok", model=model)
    assert main(["check", str(clean), "--out", str(tmp_path / "a")]) == 0
    asked = project_file(name="asked", model=model,
                         hls={"strategy": "Latency", "reuse_factor": 1, "unroll_limit": 100000})
    assert main(["check", str(asked), "--out", str(tmp_path / "b")]) == 0


@pytest.mark.parametrize(
    "hls,needle",
    [({"reuse_factor": 3}, "hls.reuse_factor: 3 is not allowed for layer attn (16 x 16); allowed: 1, 2, 4"),
     ({"strategy": "Fast"}, "hls.strategy: 'Fast' is not allowed"),
     ({"unroll_limit": 0}, "hls.unroll_limit: 0 is not allowed")],
)
def test_bad_settings_are_one_line_and_exit_2(tmp_path, project_file, capsys, hls, needle):
    path = project_file(name="bad", model={"seq_len": 8, "embed_dim": 16, "num_heads": 2, "top_n": 3}, hls=hls)
    assert main(["check", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------------ synthesis path
@pytest.mark.slow
@pytest.mark.parametrize(
    "io_type,model",
    [
        ("io_parallel", {"seq_len": 11, "embed_dim": 24, "num_heads": 3, "top_n": 4, "seed": 5}),
        ("io_stream", {"seq_len": 9, "embed_dim": 16, "num_heads": 2, "top_n": 9, "key_padding_mask": True}),
    ],
)
def test_projects_own_test_bench_runs_the_synthesized_code_bit_exact(tmp_path, project_file, io_type, model):
    """g++ -std=c++0x without the fast paths (what csim_design compiles) on the written projects and golden's tb_data;
    the HAD and FP test benches build in parallel."""
    path = project_file(name=f"tb_{io_type}", model=model, hls={"io_type": io_type},
                        csim={"vectors": 3, "mask_fraction": 0.5}, rtl={"lanes": 3})
    project = load_project(path)
    x, mask = make_vectors(project, 3)
    write_layer_projects(project, tmp_path, x, mask)
    prjs = [tmp_path / "hls" / kind for kind in ("had", "fp")]
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(run_testbench, prjs))
    for prj, run in zip(prjs, runs, strict=True):
        assert run.passed and run.vectors == 3, run.output
        # the test bench compares: one wrong expected value fails it (exit 1)
        dat = prj / "tb_data" / "tb_output_predictions.dat"
        rows = dat.read_text().splitlines()
        vals = rows[1].split()
        vals[5] = repr(float(vals[5]) + 2.0**-10)
        rows[1] = " ".join(vals) + " "
        dat.write_text("\n".join(rows) + "\n")
        bad = run_testbench(prj, build=False)
        assert bad.returncode == 1 and bad.mismatches == 1, bad.output


# ------------------------------------------------------------------------------------------------ the written project
def test_written_io_parallel_project_is_a_dataflow_top_with_token_ports(tmp_path):
    """L = 49, E = 64: the (L, E) ports are 50 kbit, above the partition limit: one token a word, ap_memory."""
    model = convert_attention(seeded_layer(64, 4, 16), 49, tmp_path / "p", project_name="att")
    model.write()
    top = (tmp_path / "p" / "firmware" / "att.cpp").read_text()
    assert "#pragma HLS DATAFLOW" in top and "#pragma HLS PIPELINE" not in top
    assert "#pragma HLS ARRAY_RESHAPE variable=x cyclic factor=64 dim=0" in top
    assert "#pragma HLS INTERFACE ap_memory port=x" in top and "ap_vld" not in top
    params = (tmp_path / "p" / "firmware" / "parameters.h").read_text()
    assert "static const unsigned reuse_factor = 32;" in params and "static const unsigned lanes = 4;" in params
    assert "static const unsigned scores_fifo_depth = 34;" in params  # 2 G + SC = 26 + ceil(16 / 2)
    tb = (tmp_path / "p" / "att_test.cpp").read_text()
    assert "had_hls_compare<result_t, 3136>(layer2_out, pr, 0, e);" in tb and "return 1;" in tb


def test_check_json_of_one_command_keeps_the_others_entries(tmp_path):
    from had_hls.hls.check import ProjectCheck, update_check

    (tmp_path / "check.json").write_text(json.dumps({"ok": True, "projects": [
        {"name": "hls/model", "violations": []}, {"name": "hls/had", "violations": ["old"]}]}))  # fmt: skip
    merged = update_check(tmp_path, [ProjectCheck("hls/had", "io_stream", "dataflow"),
                                     ProjectCheck("hls/fp", "io_stream", "dataflow", violations=["x"])])
    assert [p["name"] for p in merged["projects"]] == ["hls/fp", "hls/had", "hls/model"]
    assert merged["ok"] is False and merged["projects"][1]["violations"] == []
