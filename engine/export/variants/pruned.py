"""``pruned``: Torch-Pruning removes whole channels in steps, fine-tuning after each; the smaller network is
converted to an FP32 IR. Its settings (and the pruned network, built once per optimize call) are shared with
``pruned-int8``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.choices import PRUNE_IMPORTANCE
from engine.export.variants.base import BuildContext, Built, Variant, VariantSettings, like_the_run, option
from engine.status import Backend

LR = "a learning rate between 0 and 1"


@dataclass(frozen=True)
class Pruning(VariantSettings):
    """How the ``pruned`` variants are made (structured channel pruning + fine-tuning)."""

    title = "Structured pruning"
    caption = (
        "Torch-Pruning removes whole channels, so the network does less work on any CPU. Unstructured sparsity"
        " (nncf.prune) is not offered: it zeroes weights but keeps every shape, which buys no CPU speed."
    )

    ratio: float = option(
        0.3,
        "prune_ratio",
        "Channels removed",
        "pruned variants: share of the prunable channels removed (0-1)",
        valid=lambda v: 0 < v < 1,
        need="between 0 and 1 (the share of channels removed)",
        bounds=(0.05, 0.9),
    )
    importance: str = option(
        "l1",
        "prune_importance",
        "Importance",
        "pruned variants: channel importance criterion",
        choices=PRUNE_IMPORTANCE,
    )
    steps: int = option(
        3,
        "prune_steps",
        "Steps",
        "pruned variants: pruning steps, each followed by fine-tuning",
        valid=lambda v: v >= 1,
        need="at least 1",
        bounds=(1, 10),
    )
    epochs_per_step: int = option(
        2,
        "prune_epochs",
        "Fine-tune epochs per step",
        "pruned variants: fine-tuning epochs after each step",
        valid=lambda v: v >= 0,
        need="0 or more",
        bounds=(0, 50),
    )
    recovery_epochs: int = option(
        8,
        "prune_recovery",
        "Fine-tune epochs after the last step",
        "pruned variants: more fine-tuning epochs after the last step",
        valid=lambda v: v >= 0,
        need="0 or more",
        bounds=(0, 100),
    )
    lr: float | None = option(
        None,
        "prune_lr",
        "Fine-tune peak learning rate (0 = the run's)",
        "pruned variants: fine-tuning peak learning rate (default: the run's training peak)",
        valid=lambda v: 0 < v < 1,
        need=LR,
        bounds=(0.0, 0.1),
    )
    batch_size: int | None = None  # None: the run's training batch size

    def resolved(self, config: Mapping[str, Any], **facts: Any) -> Pruning:
        """Fine-tune pruned models like the run was trained: its peak learning rate and batch size, unless given."""
        self.check()
        return dataclasses.replace(self, **like_the_run(self, config))


def pruned_network(ctx: BuildContext):
    """(pruned torch model, its converted network, facts): the trained model with ``ratio`` of its channels
    removed and fine-tuned, built once per optimize call (``pruned`` and ``pruned-int8`` share it)."""
    if "pruned" not in ctx.shared:
        import copy

        import torch

        from engine.compression.prune import prune
        from engine.training.fine_tune import fine_tune

        settings = ctx.settings_of(Pruning)
        model = copy.deepcopy(ctx.torch_model)
        example = torch.zeros(1, 3, ctx.img_size, ctx.img_size)

        def tune(step: int, epochs: int | None = None) -> None:
            """Fine-tune after pruning step ``step`` (``epochs`` defaults to the per-step count)."""
            epochs = settings.epochs_per_step if epochs is None else epochs
            fine_tune(
                model,
                ctx.task,
                ctx.train_samples,
                ctx.img_size,
                epochs=epochs,
                lr=settings.lr,
                batch_size=settings.batch_size,
                seed=ctx.seed + step,
            )

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


def build(ctx: BuildContext) -> Built:
    model, network, facts = pruned_network(ctx)
    ctx.notes["pruned"] = facts
    return ctx.finish(network, model), False


VARIANT = Variant(
    "pruned",
    "FP32",
    Backend.OPENVINO,
    "Torch-Pruning removes whole channels (--prune-ratio, importance criterion) in steps, fine-tuning"
    " after each; the smaller network converted to FP32 IR",
    build,
    Pruning,
)
