"""The ``convert:`` section of a project YAML: types and table sizes of a whole-model hls4ml project.

Every key has a default, so the section may be left out. The attention layers keep their own types
(``hls.precision``, :class:`had_hls.precision.Precision`); the LayerNorm in front of each attention layer outputs
``hls.precision.input`` so that the attention input is exactly what golden.py assumes.

    convert:
      data: ap_fixed<18,8>        # model input (patch vectors), residual stream, embedding, FFN output, adds, pooling
      hidden: ap_fixed<18,8>      # FFN hidden layer (first Linear and activation outputs)
      norm: ap_fixed<16,6>        # LayerNorm outputs that do not feed an attention layer
      logits: ap_fixed<18,8>      # classifier output
      weight: ap_fixed<16,4>      # Linear weights (embedding, FFN, head); LayerNorm gamma uses ln_scale
      bias: ap_fixed<16,6>        # Linear biases (+ positional table), LayerNorm beta
      accum: ap_fixed<40,16>      # Linear / LayerNorm / pooling accumulators
      ln_scale: ap_fixed<16,4>    # LayerNorm gamma
      layernorm_table_bits: 10    # 1/sqrt table: 2 * 2^10 entries of ap_ufixed<18,1> (mantissa in [1, 4))
      gelu_table_bits: 11         # GELU table: 2^11 entries over [-2^gelu_range_bits, 2^gelu_range_bits)
      gelu_range_bits: 2          # identity above 4, 0 below -4 (|GELU(-4)| = 1.3e-4)
      testbench_samples: 100      # real test-set inputs written to tb_data/ (and checked in C-sim at convert time)
      layers: {}                  # hls4ml layer name -> result type override, e.g. {blocks_0_fc1: ap_fixed<20,8>}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from had_hls.config import ConfigError, Project
from had_hls.fixed import FixedType

if TYPE_CHECKING:  # imported lazily: loading a project file must not import hls4ml/torch
    from had_hls.hls.encoder_graph import ModelPrecision


@dataclass(frozen=True)
class ConvertSection:
    """``convert:`` whole-model hardware types (module docstring)."""

    data: str = "ap_fixed<18,8>"
    hidden: str = "ap_fixed<18,8>"
    norm: str = "ap_fixed<16,6>"
    logits: str = "ap_fixed<18,8>"
    weight: str = "ap_fixed<16,4>"
    bias: str = "ap_fixed<16,6>"
    accum: str = "ap_fixed<40,16>"
    ln_scale: str = "ap_fixed<16,4>"
    layernorm_table_bits: int = 10
    gelu_table_bits: int = 11
    gelu_range_bits: int = 2
    testbench_samples: int = 100
    layers: dict[str, str] = field(default_factory=dict)

    TYPE_KEYS = ("data", "hidden", "norm", "logits", "weight", "bias", "accum", "ln_scale")

    def _type(self, key: str, path: str) -> FixedType:
        try:
            t = FixedType.parse(getattr(self, key))
        except ValueError as err:
            raise ConfigError(f"{path}.{key}: {err}") from None
        if t.is_integer:
            raise ConfigError(f"{path}.{key}: {t.cpp()} is not allowed: use an ap_fixed<W,I> type")
        return t

    def validate(self, path: str) -> None:
        types = {key: self._type(key, path) for key in self.TYPE_KEYS}
        if not 4 <= self.layernorm_table_bits <= 14:
            raise ConfigError(f"{path}.layernorm_table_bits: {self.layernorm_table_bits} is not allowed: 4..14")
        if not 0 <= self.gelu_range_bits <= 4:
            raise ConfigError(f"{path}.gelu_range_bits: {self.gelu_range_bits} is not allowed: 0..4")
        if not self.gelu_range_bits + 2 <= self.gelu_table_bits <= 16:
            raise ConfigError(
                f"{path}.gelu_table_bits: {self.gelu_table_bits} is not allowed: gelu_range_bits + 2 .. 16"
            )
        for key in ("data", "hidden"):
            if types[key].integer <= self.gelu_range_bits + 1:
                raise ConfigError(
                    f"{path}.{key}: {types[key].cpp()} needs more than gelu_range_bits + 1 = "
                    f"{self.gelu_range_bits + 1} integer bits"
                )
        if self.testbench_samples < 1:
            raise ConfigError(f"{path}.testbench_samples: {self.testbench_samples} is not allowed: must be >= 1")
        for name, text in self.layers.items():
            try:
                FixedType.parse(text)
            except ValueError as err:
                raise ConfigError(f"{path}.layers.{name}: {err}") from None

    def model_precision(self, project: Project) -> ModelPrecision:
        """The :class:`had_hls.hls.encoder_graph.ModelPrecision` of this section and ``hls.precision``."""
        from had_hls.hls.encoder_graph import ModelPrecision
        from had_hls.hls.encoder_layers import EncoderHW

        path = "convert"
        t = {key: self._type(key, path) for key in self.TYPE_KEYS}
        enc = EncoderHW(
            weight=t["weight"],
            bias=t["bias"],
            accum=t["accum"],
            ln_scale=t["ln_scale"],
            ln_table_bits=self.layernorm_table_bits,
            gelu_table_bits=self.gelu_table_bits,
            gelu_range_bits=self.gelu_range_bits,
        )
        return ModelPrecision(
            attention=project.precision,
            data=t["data"],
            hidden=t["hidden"],
            norm=t["norm"],
            logits=t["logits"],
            encoder=enc,
            layers=dict(self.layers),
        )


def convert_section(project: Project) -> ConvertSection:
    """The project's ``convert:`` section (defaults when the YAML has none)."""
    sec = project.sections.get("convert")
    return sec if isinstance(sec, ConvertSection) else ConvertSection()

