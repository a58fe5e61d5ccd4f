"""The table of model variants. It drives the optimize verb, the CLI help and the benchmark loop.

``torch-fp32`` is the trained PyTorch model itself (the baseline every ratio is measured against);
the others are OpenVINO IRs made from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.errors import StudioError
from engine.status import Backend


@dataclass(frozen=True)
class Pruning:
    """How the ``pruned`` variants are made (structured channel pruning + fine-tuning)."""

    ratio: float = 0.3  # share of the prunable channels removed
    importance: str = "l1"  # criterion, see engine.compression.prune.IMPORTANCE
    steps: int = 3  # pruning steps, each followed by fine-tuning
    epochs_per_step: int = 2  # fine-tuning epochs after each step
    recovery_epochs: int = 8  # more fine-tuning after the last step, at the same learning rate
    lr: float | None = None  # fine-tuning peak learning rate, cosine decay (None: the run's training peak)
    batch_size: int | None = None  # None: the run's training batch size


@dataclass(frozen=True)
class BuildContext:
    fp32_model: object  # the converted FP32 network (ov.Model), before the task's post-processing
    finish: Callable[..., object]  # (network, torch model=the trained one) -> IR with post-processing, model_info
    convert: Callable[[object], object]  # a torch model -> its converted network (ov.Model), like fp32_model
    torch_model: object  # the trained PyTorch model (decodes raw outputs while NNCF scores the bare network)
    train_samples: list  # fine-tuning (pruning, QAT)
    val_samples: list
    calibration: list  # the INT8 calibration subset (engine.compression.calibration), shared by every variant
    task: object  # the run's Task
    labels: list[str]
    img_size: int
    seed: int
    ignored_scope: tuple[str, ...] = ()  # int8-custom: the layers kept in float (names in fp32_model)
    max_drop: float = 0.005
    pruning: Pruning = field(default_factory=Pruning)
    qat: object = None  # engine.training.qat.QATSettings, resolved against the run's training settings
    qat_folder: object = None  # where QAT keeps its checkpoints and events (a Path in the run folder)
    source: dict = field(default_factory=dict)  # identifies the trained model (QAT resumes only from it)
    shared: dict = field(default_factory=dict)  # what one optimize call's variants share (the pruned model)
    notes: dict = field(default_factory=dict)  # variant -> extra facts recorded with its metrics (MACs...)


@dataclass(frozen=True)
class Variant:
    name: str
    precision: str
    backend: Backend
    how: str
    devices: tuple[str, ...]
    build: Callable[[BuildContext], tuple[object, bool]] | None = None  # -> (ov.Model, compress_to_fp16)


def _fp32(ctx: BuildContext) -> tuple[object, bool]:
    return ctx.finish(ctx.fp32_model), False


def _fp16(ctx: BuildContext) -> tuple[object, bool]:
    return ctx.finish(ctx.fp32_model), True


def _int8(ctx: BuildContext) -> tuple[object, bool]:
    from engine.compression.ptq import quantize_int8

    # NNCF keeps some layers in float on purpose (e.g. MobileNetV3's squeeze-excite convs) and marks
    # them so they are not compressed to FP16: the IR shrinks by less than 4x for such networks.
    # Only the network is quantized; detection decoding and NMS are appended afterwards, in float.
    model = quantize_int8(ctx.fp32_model, ctx.calibration, ctx.img_size)
    return ctx.finish(model), False


def _int8_custom(ctx: BuildContext) -> tuple[object, bool]:
    from engine.compression.ptq import quantize_int8

    model = quantize_int8(ctx.fp32_model, ctx.calibration, ctx.img_size, ignored_scope=ctx.ignored_scope)
    ctx.notes["int8-custom"] = {"ignored_scope": list(ctx.ignored_scope)}
    return ctx.finish(model), False


def _int8_accuracy_control(ctx: BuildContext) -> tuple[object, bool]:
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


def _pruned_network(ctx: BuildContext):
    """The trained model with ``ctx.pruning.ratio`` of its channels removed and fine-tuned, converted (once per
    optimize call: ``pruned`` and ``pruned-int8`` share it)."""
    if "pruned" not in ctx.shared:
        import copy

        import torch

        from engine.compression.prune import prune
        from engine.training.fine_tune import fine_tune

        settings = ctx.pruning
        model = copy.deepcopy(ctx.torch_model)
        example = torch.zeros(1, 3, ctx.img_size, ctx.img_size)

        def tune(step: int, epochs: int | None = None) -> None:
            """Fine-tune after pruning step ``step`` (``epochs`` defaults to the per-step count)."""
            epochs = settings.epochs_per_step if epochs is None else epochs
            fine_tune(model, ctx.task, ctx.train_samples, ctx.img_size, epochs=epochs, lr=settings.lr,
                      batch_size=settings.batch_size, seed=ctx.seed + step)  # fmt: skip

        report = prune(
            ctx.task.export_module(model),
            example,
            ratio=settings.ratio,
            importance=settings.importance,
            steps=settings.steps,
            keep=ctx.task.output_layers(model),
            fine_tune=tune,
        )
        tune(settings.steps, settings.recovery_epochs)  # recovery after the last step
        ctx.shared["pruned"] = (model.eval(), ctx.convert(model), {"pruning": report.to_dict()})
    return ctx.shared["pruned"]


def _pruned(ctx: BuildContext) -> tuple[object, bool]:
    model, network, facts = _pruned_network(ctx)
    ctx.notes["pruned"] = facts
    return ctx.finish(network, model), False


def _pruned_int8(ctx: BuildContext) -> tuple[object, bool]:
    from engine.compression.ptq import quantize_int8

    model, network, facts = _pruned_network(ctx)
    ctx.notes["pruned-int8"] = facts
    quantized = quantize_int8(network, ctx.calibration, ctx.img_size)
    return ctx.finish(quantized, model), False


def _int8_qat(ctx: BuildContext) -> tuple[object, bool]:
    from engine.compression.qat import to_openvino
    from engine.training.qat import quantization_aware_training

    result = quantization_aware_training(
        ctx.torch_model, ctx.task, ctx.labels, ctx.train_samples, ctx.val_samples, ctx.img_size, ctx.qat,
        ctx.qat_folder, ctx.source,
    )  # fmt: skip
    ctx.notes["int8-qat"] = result.facts
    return ctx.finish(to_openvino(result.network, ctx.img_size), result.model), False


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("torch-fp32", "FP32", Backend.PYTORCH, "the trained PyTorch model (best.pt), eager mode", ("CPU",)),
        Variant(
            "fp32", "FP32", Backend.OPENVINO, "openvino.convert_model, FP32 weights", ("CPU", "GPU", "AUTO"), _fp32
        ),
        Variant(
            "fp16",
            "FP16",
            Backend.OPENVINO,
            "FP32 IR saved with weights compressed to FP16",
            ("CPU", "GPU", "NPU", "AUTO"),
            _fp16,
        ),
        Variant(
            "int8",
            "INT8",
            Backend.OPENVINO,
            "NNCF post-training quantization of the FP32 IR (calibration subset of the train split)",
            ("CPU", "GPU", "NPU", "AUTO"),
            _int8,
        ),
        Variant(
            "int8-custom",
            "INT8",
            Backend.OPENVINO,
            "int8 with the layers of an ignored scope kept in float (--ignored-scope, or the scope `sensitivity`"
            " suggested for the run)",
            ("CPU", "GPU", "NPU", "AUTO"),
            _int8_custom,
        ),
        Variant(
            "int8-acc",
            "INT8",
            Backend.OPENVINO,
            "NNCF quantize_with_accuracy_control: INT8 with at most a 0.5 pp metric drop on the val split"
            " (the layers that cost the most accuracy are reverted to float)",
            ("CPU", "GPU", "AUTO"),
            _int8_accuracy_control,
        ),
        Variant(
            "int8-qat",
            "INT8",
            Backend.OPENVINO,
            "NNCF quantization-aware training: INT8 quantizers calibrated on the trained network, then a few"
            " epochs of fine-tuning with them in place (resumable job), stripped and converted to INT8 IR",
            ("CPU", "GPU", "NPU", "AUTO"),
            _int8_qat,
        ),
        Variant(
            "pruned",
            "FP32",
            Backend.OPENVINO,
            "Torch-Pruning removes whole channels (--prune-ratio, importance criterion) in steps, fine-tuning"
            " after each; the smaller network converted to FP32 IR",
            ("CPU", "GPU", "AUTO"),
            _pruned,
        ),
        Variant(
            "pruned-int8",
            "INT8",
            Backend.OPENVINO,
            "the pruned, fine-tuned network quantized to INT8 with NNCF (post-training, as int8)",
            ("CPU", "GPU", "NPU", "AUTO"),
            _pruned_int8,
        ),
    )
}
DEFAULT_OPTIMIZE = ("fp32", "fp16", "int8")


def parse(text: str | list[str] | None, *, default: tuple[str, ...], exportable_only: bool = False) -> list[str]:
    """Comma-separated variant names -> validated list, in the table's order."""
    if not text:
        return list(default)
    names = text if isinstance(text, list) else [t.strip() for t in text.split(",") if t.strip()]
    valid = [n for n, v in VARIANTS.items() if not exportable_only or v.build is not None]
    unknown = [n for n in names if n not in valid]
    if unknown:
        msg = f"unknown variant {unknown[0]!r}; valid: {', '.join(valid)}"
        raise StudioError(msg)
    return [n for n in VARIANTS if n in names]


def help_text() -> str:
    return "; ".join(f"{v.name}: {v.how}" for v in VARIANTS.values())
