"""``fp32``: the trained model converted to OpenVINO IR as it is."""

from engine.export.variants.base import BuildContext, Built, Variant
from engine.status import Backend


def build(ctx: BuildContext) -> Built:
    return ctx.finish(ctx.fp32_model), False


VARIANT = Variant("fp32", "FP32", Backend.OPENVINO, "openvino.convert_model, FP32 weights", build)
