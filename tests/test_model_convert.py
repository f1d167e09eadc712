"""Whole-model conversion (had_hls/hls/model_convert.py): a tiny HAD encoder as one hls4ml project, C-simulated with
g++ against torch; its attention layers bit-exact with golden inside the model; unsupported layers rejected by name.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from had_hls.cli import main
from had_hls.errors import UserError
from had_hls.fixed import FixedType
from had_hls.hls.check import check_model
from had_hls.hls.convert import HLSTarget
from had_hls.hls.encoder_layers import EncoderHW
from had_hls.hls.model_convert import ModelPrecision, convert_model
from had_hls.models.vit import TinyViT, ViTConfig
from had_hls.nn import TopN
from had_hls.precision import Precision
from had_hls.verify.accuracy import attention_bit_exactness
from had_hls.verify.testbench import run_testbench, write_tb_data

# 12x12 images, 4x4 patches: 9 patches + CLS = 10 tokens; E=16, 2 heads (d=8), 2 blocks, FFN 24, 5 classes; ReLU
# and CLS pooling here (GELU and mean pooling: tests/test_model_convert_layers.py and the default model)
CFG = ViTConfig(image_size=12, patch_size=4, embed_dim=16, num_heads=2, depth=2, mlp_dim=24, num_classes=5,
                pool="cls", activation="relu")  # fmt: skip
TOP_N = 4
SAMPLES = 24

# Wide types so that the comparison with float64 torch is about the datapath, not the word lengths: every
# activation keeps >= 20 fractional bits and the accumulators keep every product bit.
WIDE_ATTENTION = Precision(
    input=FixedType(32, 10),
    weight=FixedType(24, 4),
    bias=FixedType(24, 6),
    accum=FixedType(62, 18),
    value=FixedType(20, 6, quant="AP_RND", overflow="AP_SAT"),  # golden's int64 limit: AV products <= 62 bits
    qk=FixedType(32, 10, quant="AP_RND", overflow="AP_SAT"),
    context=FixedType(32, 10, quant="AP_RND", overflow="AP_SAT"),
    result=FixedType(32, 10, quant="AP_RND", overflow="AP_SAT"),
)
WIDE = ModelPrecision(
    attention=WIDE_ATTENTION,
    data=FixedType(32, 12),
    hidden=FixedType(32, 12),
    norm=FixedType(32, 10),
    logits=FixedType(32, 12),
    encoder=EncoderHW(
        weight=FixedType(24, 4),
        bias=FixedType(24, 6),
        accum=FixedType(62, 18),
        ln_scale=FixedType(24, 4),
        ln_table_bits=14,
    ),  # fmt: skip
)
# What is left: the attention's softmax normalisation (reciprocal table indexed by R = 10 bits: <= 2^-(R+1)
# relative on every context value; exp table 17 fractional bits) and the LayerNorm 1/sqrt table (2^-(14+2)
# relative), carried through Wo, the FFN, the final LayerNorm and the head (gains of a few units each):
# 2^-(R+1) * 16 (a generous gain) = 2^-7.
LOGIT_TOL = 2.0 ** -(WIDE_ATTENTION.recip_index_bits + 1) * 16


def _tiny_student() -> TinyViT:
    torch.manual_seed(0)
    model = TinyViT(CFG).eval()
    x = torch.randn(64, 1, 12, 12)
    for layer in model.attention_layers():
        layer.start_calibration()
    with torch.no_grad():
        model(x)
    for layer in model.attention_layers():
        layer.finish_calibration()
    model.set_attention("hard", top_n=TopN(n=TOP_N))
    return model


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    model = _tiny_student()
    x = torch.randn(SAMPLES, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    patches = model.patchify(x).double().numpy()
    cm = convert_model(model, patches.shape[1:], tmp_path_factory.mktemp("model") / "prj", WIDE, trace_attention=True)
    cm.hls_model.config.trace_output = True
    cm.hls_model.compile()
    y = np.asarray(cm.hls_model.predict(np.ascontiguousarray(patches.reshape(SAMPLES, -1))), dtype=np.float64)
    return model, x, patches, cm, y


@pytest.mark.slow
def test_whole_model_csim_matches_torch(converted) -> None:
    model, x, patches, cm, y = converted
    with torch.no_grad():
        ref = model.double()(x.double()).numpy()  # the source model on images (patchify inside torch)
    np.testing.assert_allclose(cm.torch_logits(patches), ref, atol=1e-12)  # the traced graph == the source model
    err = np.abs(y - ref).max()
    assert err <= LOGIT_TOL, (err, LOGIT_TOL)
    assert (y.argmax(1) == ref.argmax(1)).all()


@pytest.mark.slow
def test_layers_of_the_project(converted) -> None:
    *_, cm, _ = converted
    classes = [layer.class_name for layer in cm.hls_model.get_layers()]
    assert classes.count("HADAttention") == 2
    assert classes.count("HADLayerNorm") == 5
    assert classes.count("HADDenseSeq") == 4
    assert {"HADTokenEmbed", "HADTokenPool", "Dense", "Merge", "Activation", "Clone"} <= set(classes)
    assert cm.hls_model.get_output_variables()[0].shape == [CFG.num_classes]
    assert cm.hls_model.config.get_config_value("IOType") == "io_stream"
    assert cm.hls_model.config.pipeline_style == "dataflow"


@pytest.mark.slow
def test_whole_model_test_bench_runs_the_synthesized_code(converted) -> None:
    """The project's own C test bench (g++ -std=c++0x, no fast paths: what Vitis csim_design compiles) reproduces
    the C-sim logits of had-hls's (fast-path) build bit for bit, and the check finds nothing."""
    *_, patches, cm, y = converted
    prj = Path(cm.hls_model.config.get_output_dir())
    write_tb_data(prj, [patches[:3]], y[:3])
    run = run_testbench(prj)
    assert run.passed and run.vectors == 3, run.output
    report = check_model(cm.hls_model, "hls/model")
    assert report.violations == [] and report.top_style == "dataflow"


@pytest.mark.slow
@pytest.mark.parametrize("layer", [0, 1])
def test_attention_inside_the_model_is_bit_exact_with_golden(converted, layer: int) -> None:
    *_, patches, cm, _ = converted
    r = attention_bit_exactness(cm, patches[:6], layer)
    assert r["kind"] == "had" and r["elements"] == 6 * CFG.seq_len * CFG.embed_dim
    assert r["golden_mismatches"] == 0


# ------------------------------------------------------------------------------------------------ bad input
def test_unsupported_activation_is_named(tmp_path: Path) -> None:
    model = _tiny_student()
    model.blocks[1].mlp[1] = nn.SiLU()
    with pytest.raises(UserError, match=r"layer 'blocks\.1\.mlp\.1' \(SiLU\) is not supported.*supported: Linear"):
        convert_model(model, (9, 16), tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


def test_unsupported_extra_layer_is_named(tmp_path: Path) -> None:
    model = _tiny_student()
    model.blocks[0].extra = nn.Conv1d(16, 16, 3)
    with pytest.raises(UserError, match=r"layer 'blocks\.0\.extra' \(Conv1d\) is not supported.*LayerNorm"):
        convert_model(model, (9, 16), tmp_path / "prj")


def test_wrong_layout_and_io_stream_are_user_errors(tmp_path: Path) -> None:
    model = _tiny_student()
    with pytest.raises(UserError, match="input features 17 != patch_embed.in_features 16"):
        convert_model(model, (9, 17), tmp_path / "a")
    with pytest.raises(UserError, match="io_stream.*not supported by the stock-op route"):
        convert_model(model, (9, 16), tmp_path / "b", target=HLSTarget(io_type="io_stream"), route="stock")
    broken = copy.deepcopy(model)
    del broken.head
    with pytest.raises(UserError, match=r"model\.head: expected Linear, got missing"):
        convert_model(broken, (9, 16), tmp_path / "c")


def test_convert_command_without_checkpoint_exits_2(project_file, capsys) -> None:
    path = project_file(model={"checkpoint": "missing.pt"})
    assert main(["convert", str(path)]) == 2
    err = capsys.readouterr().err
    assert "missing.pt" in err and "does not exist" in err and len(err.strip().splitlines()) == 1
