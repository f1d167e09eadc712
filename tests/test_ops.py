"""The attention ops (had_hls.ops): each face of a kind is the room's own function, so every stage that goes
through an op gets what it got before (spec, golden, torch module, RTL design); the stock route says what it
does not have."""

from __future__ import annotations

import numpy as np
import pytest

from had_hls import golden
from had_hls.estimate.point import synth_key, topn_key
from had_hls.layer import build_layer, build_specs, make_vectors
from had_hls.nn.binarize import BinarizeMode
from had_hls.ops import (
    OPS,
    FpAttentionOp,
    HadAttentionOp,
    OpUnavailable,
    StockAttentionOp,
    StrongFpAttentionOp,
    op,
    pair,
)
from had_hls.project import load_project
from had_hls.rtl.generate import design_for
from had_hls.spec import strong_fp_precision


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from conftest import write_project

    path = write_project(tmp_path_factory.mktemp("ops"), name="ops", model={"seq_len": 8, "embed_dim": 8})
    project = load_project(path)
    return project, build_layer(project)


def test_the_kinds():
    assert list(pair()) == ["had", "fp"] and set(OPS) == {"had", "fp", "stock", "fp_strong"}
    assert isinstance(op("had"), HadAttentionOp) and isinstance(op("fp"), FpAttentionOp)
    assert isinstance(op("stock"), StockAttentionOp) and isinstance(op("fp_strong"), StrongFpAttentionOp)
    assert all(o.kind == k for k, o in OPS.items())


def test_spec_golden_and_rtl_faces_are_the_rooms(tiny):
    project, layer = tiny
    specs = dict(zip(("had", "fp"), build_specs(project, layer), strict=True))
    x, mask = make_vectors(project, 2)
    for kind, o in pair().items():
        spec = o.spec(project, layer)
        assert spec.kind == kind
        for key in ("exp_table", "recip_table"):
            assert np.array_equal(getattr(spec, key), getattr(specs[kind], key))
        assert np.array_equal(o.golden(spec, x[0]), golden.attention(specs[kind], x[0]))
        design = o.rtl_design(spec, 2)
        assert design.params == design_for(specs[kind], 2).params
        assert o.synth_cache_file(design) == f"synth-{synth_key(design)}.json"
    had = op("had").rtl_design(specs["had"], 2)
    assert op("had").topn_cache_file(had) == f"topn-{topn_key(4, 2, project.model.top_n, 8)}.json"
    with pytest.raises(OpUnavailable):
        op("fp").topn_cache_file(design_for(specs["fp"], 2))


def test_the_strong_fp_baseline_is_the_fp_layer_with_8_bit_qk(tiny):
    """fp_strong: the FP spec at strong_fp_precision, the strong RTL variant (shared exp tables); no hls4ml layer."""
    project, layer = tiny
    fp = op("fp").spec(project, layer)
    strong = op("fp_strong").spec(project, layer)
    assert strong.kind == "fp" and strong.precision == strong_fp_precision(fp.precision)
    assert np.array_equal(strong.exp_table, fp.exp_table)
    assert op("fp_strong").rtl_design(strong, 2).params == design_for(strong, 2, "strong").params
    with pytest.raises(OpUnavailable):
        op("fp_strong").convert(layer, 8, "unused")


def test_torch_modules(tiny):
    _, layer = tiny
    assert op("had").module(layer) is layer
    fp = op("fp").module(layer)
    assert fp is not layer and fp.mode is BinarizeMode.FLOAT and not fp.top_n.enabled


def test_the_stock_route_has_no_spec_golden_or_rtl(tiny):
    project, layer = tiny
    stock = op("stock")
    for face, args in (("spec", (project, layer)), ("golden", (None, None)), ("rtl_design", (None, 2)),
                       ("rtlsim", ()), ("synth", ()), ("synth_cache_file", (None,)), ("prepare_synth", (None, None)),
                       ("fmax", (None, None, None, 200.0)), ("topn_synth", (None, None, None))):
        with pytest.raises(OpUnavailable):
            getattr(stock, face)(*args)


def test_whole_model_targets(tiny):
    """The whole-model C-sim's routes: ours stream (MODEL_IO_TYPE), hls4ml's stock layers need io_parallel."""
    from had_hls.hls.model_convert import MODEL_IO_TYPE

    project, _ = tiny
    assert op("had").model_target(project).io_type == op("fp").model_target(project).io_type == MODEL_IO_TYPE
    assert op("stock").model_target(project).io_type == "io_parallel"
    with pytest.raises(OpUnavailable):
        op("fp_strong").convert_model(None, (8, 8), "unused")
