"""``int8-custom``: ``int8`` with an ignored scope (layers kept in float), given or suggested by ``sensitivity``."""

from engine.export.variants.base import BuildContext, Built, Variant
from engine.status import Backend


def build(ctx: BuildContext) -> Built:
    from engine.compression.ptq import quantize_int8

    model = quantize_int8(ctx.fp32_model, ctx.calibration, ctx.img_size, ignored_scope=ctx.ignored_scope)
    ctx.notes["int8-custom"] = {"ignored_scope": list(ctx.ignored_scope)}
    return ctx.finish(model), False


VARIANT = Variant(
    "int8-custom",
    "INT8",
    Backend.OPENVINO,
    "int8 with the layers of an ignored scope kept in float (--ignored-scope, or the scope `sensitivity`"
    " suggested for the run)",
    build,
)
