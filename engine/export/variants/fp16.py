"""``fp16``: the FP32 IR with its weights stored as FP16 (half the size; computed at the device's precision)."""

from engine.export.variants.base import BuildContext, Built, Variant
from engine.status import Backend


def build(ctx: BuildContext) -> Built:
    return ctx.finish(ctx.fp32_model), True


VARIANT = Variant("fp16", "FP16", Backend.OPENVINO, "FP32 IR saved with weights compressed to FP16", build)
