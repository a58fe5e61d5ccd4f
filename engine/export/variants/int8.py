"""``int8``: NNCF post-training quantization of the FP32 IR."""

from engine.export.variants.base import BuildContext, Built, Variant
from engine.status import Backend


def build(ctx: BuildContext) -> Built:
    from engine.compression.ptq import quantize_int8

    # NNCF keeps some layers in float on purpose (e.g. MobileNetV3's squeeze-excite convs) and marks
    # them so they are not compressed to FP16: the IR shrinks by less than 4x for such networks.
    # Only the network is quantized; detection decoding and NMS are appended afterwards, in float.
    model = quantize_int8(ctx.fp32_model, ctx.calibration, ctx.img_size)
    return ctx.finish(model), False


VARIANT = Variant(
    "int8",
    "INT8",
    Backend.OPENVINO,
    "NNCF post-training quantization of the FP32 IR (calibration subset of the train split)",
    build,
)
