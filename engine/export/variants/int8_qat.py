"""``int8-qat``: NNCF quantization-aware training — quantizers calibrated on the trained network, a few epochs
of fine-tuning with them in place (a resumable part of the optimize job), stripped and converted to INT8 IR."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.choices import CALIB_SIZE
from engine.export.variants.base import BuildContext, Built, Variant, VariantSettings, like_the_run, option
from engine.status import Backend

LR = "a learning rate between 0 and 1"


@dataclass(frozen=True)
class QATSettings(VariantSettings):
    """How ``int8-qat`` fine-tunes (engine.training.qat)."""

    title = "Quantization-aware training"
    caption = (
        "QAT trains the network with INT8 rounding in the loop, so it can win back accuracy post-training"
        " quantization loses. It runs as part of the optimize job: cancel it and optimize again with the same"
        " settings to resume from its last epoch."
    )

    epochs: int = option(
        3,
        "qat_epochs",
        "QAT epochs",
        "QAT: fine-tuning epochs with the INT8 quantizers in",
        valid=lambda v: v >= 1,
        need="at least 1",
        bounds=(1, 50),
    )
    lr: float | None = option(
        None,
        "qat_lr",
        "Peak learning rate (0 = a tenth of the run's)",
        "QAT: peak learning rate, cosine decay (default: a tenth of the run's training peak)",
        valid=lambda v: 0 < v < 1,
        need=LR,
        bounds=(0.0, 0.1),
    )
    batch_size: int | None = None  # None: the run's training batch size
    calib_size: int = CALIB_SIZE
    seed: int = 0

    def resolved(self, config: Mapping[str, Any], **facts: Any) -> QATSettings:
        """A tenth of the run's training peak learning rate and its batch size, unless given."""
        self.check()
        return dataclasses.replace(
            self,
            **like_the_run(self, config, lr_divisor=10),
            calib_size=facts.get("calib_size", self.calib_size),
            seed=facts.get("seed", self.seed),
        )


def build(ctx: BuildContext) -> Built:
    from engine.compression.qat import to_openvino
    from engine.training.qat import quantization_aware_training

    result = quantization_aware_training(
        ctx.torch_model,
        ctx.task,
        ctx.labels,
        ctx.train_samples,
        ctx.val_samples,
        ctx.img_size,
        ctx.settings_of(QATSettings),
        ctx.folder / "qat",
        ctx.source,
    )
    ctx.notes["int8-qat"] = result.facts
    return ctx.finish(to_openvino(result.network, ctx.img_size), result.model), False


VARIANT = Variant(
    "int8-qat",
    "INT8",
    Backend.OPENVINO,
    "NNCF quantization-aware training: INT8 quantizers calibrated on the trained network, then a few"
    " epochs of fine-tuning with them in place (resumable job), stripped and converted to INT8 IR",
    build,
    QATSettings,
)
