"""Spec -> hls4ml weight variables and precision types of the HAD and FP attention layers."""

from __future__ import annotations

import numpy as np
from hls4ml.model.layers import Layer
from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType, RoundingMode, SaturationMode

from had_hls.fixed import FixedType
from had_hls.hls.projection_plan import ProjectionPlan
from had_hls.spec import AttentionSpec


def hls_precision(t: FixedType):
    """had_hls FixedType -> hls4ml precision type (same C++ spelling)."""
    if t.is_integer:
        return IntegerPrecisionType(t.width, signed=t.signed)
    return FixedPrecisionType(
        t.width,
        t.integer,
        signed=t.signed,
        rounding_mode=RoundingMode.from_string(t.quant),
        saturation_mode=SaturationMode.from_string(t.overflow),
    )


def add_projection_weights(layer: Layer, spec: AttentionSpec, key: str, plan: ProjectionPlan) -> None:
    """w{key} and b{key} of projection ``key`` in 'qkvo', as exact dequantized values; the weights in the
    cycle-major order of ``plan`` (ProjectionPlan.layout), the biases in output order."""
    prec = spec.precision
    proj = spec.projections()[key]
    layer.add_weights_variable(
        name=f"w{key}",
        var_name=f"w{key}{{index}}",
        precision=hls_precision(prec.weight),
        data=prec.weight.to_float(plan.layout(proj.weight)),
    )
    layer.add_weights_variable(
        name=f"b{key}",
        var_name=f"b{key}{{index}}",
        precision=hls_precision(prec.bias),
        data=prec.bias.to_float(proj.bias),
    )


def add_table_weights(layer: Layer, spec: AttentionSpec) -> None:
    """exp_table and recip_table as unsigned integer arrays (the spec's integers, written exactly)."""
    prec = spec.precision
    for name, table, t in (
        ("exp_table", spec.exp_table, prec.exp_table),
        ("recip_table", spec.recip_table, prec.recip_table),
    ):
        layer.add_weights_variable(
            name=name,
            var_name=f"{name}{{index}}",
            precision=IntegerPrecisionType(t.width, signed=False),
            data=table.astype(np.float64),
        )
