"""INT8 post-training quantization of the OpenVINO model with NNCF.

Quantizing the OpenVINO FP32 model (not the torch one) stores real int8 weights in the IR: about 4x
smaller and faster than FP32 on CPU. The calibration subset is chosen by the caller
(``engine.compression.calibration``), once per optimize call, so every INT8 variant sees the same images.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence

import nncf
import openvino as ov
from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix

from engine.data.images import read_rgb
from engine.errors import StudioError
from engine.inference.preprocess import to_input

log = logging.getLogger(__name__)


def calibration_dataset(subset: list, img_size: int) -> nncf.Dataset:
    return nncf.Dataset(subset, transform_func=lambda s: to_input(read_rgb(s[0]), img_size))


def ignored(names: Sequence[str]) -> nncf.IgnoredScope | None:
    return nncf.IgnoredScope(names=list(names)) if names else None


def quantize_int8(
    ov_model: ov.Model,
    subset: list,
    img_size: int,
    *,
    ignored_scope: Sequence[str] = (),
    compress_weights: bool = True,
) -> ov.Model:
    """INT8 with the run's calibration ``subset``; the layers named in ``ignored_scope`` stay in float.
    ``compress_weights=False`` keeps float weights behind FakeQuantize (what sensitivity analysis reverts)."""
    log.info(
        "quantizing to INT8 with %d calibration images%s",
        len(subset),
        f", {len(ignored_scope)} layers kept in float" if ignored_scope else "",
    )
    # Symmetric (PERFORMANCE) quantization with full bias correction: on the sample MobileNetV3 it keeps
    # 99 % agreement with FP32, where the fast correction or the MIXED preset flipped 1.5-2 % of decisions.
    # Full correction re-runs each layer's subgraph on activations gathered from several images, which fails
    # when their shapes differ from image to image (Mask R-CNN's heads run on as many proposals as survive the
    # RPN's NMS: "Eltwise shape infer input shapes dim index: 0 mismatch"); those networks get the fast one.
    try:
        return nncf.quantize(
            ov_model,
            calibration_dataset(subset, img_size),
            subset_size=len(subset),
            preset=nncf.QuantizationPreset.PERFORMANCE,
            fast_bias_correction=has_data_dependent_shapes(ov_model),
            ignored_scope=ignored(ignored_scope),
            advanced_parameters=AdvancedQuantizationParameters(
                overflow_fix=overflow_fix(), backend_params={"compress_weights": compress_weights}
            ),
        )
    except nncf.ValidationError as error:  # an ignored-scope name that is not in the network
        known = sorted(op.get_friendly_name() for op in ov_model.get_ops() if op.get_type_name() != "Constant")
        msg = (
            f"--ignored-scope: {str(error).splitlines()[0]}; the network's layers are named like {known[0]!r}"
            " (`python -m engine sensitivity RUN` lists the quantized ones)"
        )
        raise StudioError(msg) from None


def has_data_dependent_shapes(ov_model: ov.Model) -> bool:
    """Whether some layer's output shape depends on the image (behind an NMS, say) though the input is static."""
    return any(not out.get_partial_shape().is_static for op in ov_model.get_ops() for out in op.outputs())


VNNI = ("avx512_vnni", "avx_vnni", "amx_int8")  # int8 dot-product instructions: no u8*s8 saturation


def overflow_fix() -> OverflowFix:
    """NNCF's 7-bit weight range on every layer when this CPU has no VNNI/AMX. Without them the CPU plugin
    multiplies u8 x s8 with 16-bit saturating adds, so full-range int8 weights overflow: measured on an
    AVX2-only EPYC (sample MobileNetV3, 64 px), agreement with FP32 rose from 95.0 % to 98.5 % and top-1 from
    88.5 % to 92.0 % (FP32 91.5 %). With VNNI NNCF's default (first layer only) loses nothing."""
    return OverflowFix.FIRST_LAYER if _has_vnni() else OverflowFix.ENABLE


@functools.cache
def _has_vnni() -> bool:
    """Read once per process (lscpu and an OpenVINO core), not on every quantize call of a sweep."""
    from engine.benchmark.machine import cpu_facts

    return bool(set(cpu_facts()["isa"]) & set(VNNI))


def quantize_int8_accuracy_control(
    ov_model: ov.Model,
    subset: list,
    val_samples: list,
    img_size: int,
    score: Callable[[ov.CompiledModel, list], float],
    *,
    max_drop: float = 0.005,
):
    """INT8 whose validation metric drops by at most ``max_drop`` (absolute): NNCF quantizes, measures the
    drop on ``val_samples`` with ``score`` and reverts the layers that cost the most accuracy to float."""
    log.info(
        "accuracy-controlled INT8: %d calibration, %d validation images, max drop %.3f",
        len(subset),
        len(val_samples),
        max_drop,
    )
    return nncf.quantize_with_accuracy_control(
        ov_model,
        calibration_dataset=calibration_dataset(subset, img_size),
        validation_dataset=nncf.Dataset(val_samples),
        validation_fn=score,
        max_drop=max_drop,
        drop_type=nncf.DropType.ABSOLUTE,
        subset_size=len(subset),
        preset=nncf.QuantizationPreset.PERFORMANCE,
        fast_bias_correction=False,
        advanced_quantization_parameters=AdvancedQuantizationParameters(overflow_fix=overflow_fix()),
    )
