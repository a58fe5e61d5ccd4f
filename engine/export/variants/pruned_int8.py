"""``pruned-int8``: the pruned, fine-tuned network of ``pruned``, quantized like ``int8``."""

from engine.export.variants.base import BuildContext, Built, Variant
from engine.export.variants.pruned import Pruning, pruned_network
from engine.status import Backend


def build(ctx: BuildContext) -> Built:
    from engine.compression.ptq import quantize_int8

    model, network, facts = pruned_network(ctx)
    ctx.notes["pruned-int8"] = facts
    quantized = quantize_int8(network, ctx.calibration, ctx.img_size)
    return ctx.finish(quantized, model), False


VARIANT = Variant(
    "pruned-int8",
    "INT8",
    Backend.OPENVINO,
    "the pruned, fine-tuned network quantized to INT8 with NNCF (post-training, as int8)",
    build,
    Pruning,
)
