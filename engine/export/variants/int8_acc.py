"""``int8-acc``: NNCF's accuracy-controlled quantization (reverts the costliest layers to float)."""

from engine.export.variants.base import BuildContext, Built, Variant
from engine.status import Backend


def build(ctx: BuildContext) -> Built:
    from engine.compression.ptq import quantize_int8_accuracy_control

    def score(compiled, samples: list) -> float:
        """The task's primary metric of a compiled bare network (NNCF scores it before detection's NMS)."""
        from engine.evaluation.evaluate import compiled_infer, network_metrics

        infer = compiled_infer(compiled)
        metrics = network_metrics(ctx.task, ctx.labels, ctx.img_size, ctx.torch_model, infer, samples)
        return float(metrics[ctx.task.primary_metric])

    model = quantize_int8_accuracy_control(
        ctx.fp32_model, ctx.calibration, ctx.val_samples, ctx.img_size, score, max_drop=ctx.max_drop
    )
    return ctx.finish(model), False


VARIANT = Variant(
    "int8-acc",
    "INT8",
    Backend.OPENVINO,
    "NNCF quantize_with_accuracy_control: INT8 with at most a 0.5 pp metric drop on the val split"
    " (the layers that cost the most accuracy are reverted to float)",
    build,
)
