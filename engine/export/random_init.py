"""Variants of a randomly initialised network, built by the product's own variant table: what the zoo, the
``measure-int8`` verb and the search's probe time. A network's speed does not depend on its weights' values, and
pruning by a ratio leaves the same shapes whichever channels it removes, so these IRs run as fast as trained ones
of the same architecture and size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.tasks.base import Task


def random_init_irs(
    task: Task,
    arch: str,
    size: int,
    labels: list[str],
    calibration: list,
    names: Sequence[str],
    folder: Path,
    *,
    prune_ratio: float = 0.5,
):
    """(the torch model, {variant: IR path}) for the variants ``names`` of a random ``arch`` at ``size`` px, saved
    under ``folder``; the pruned ones remove ``prune_ratio`` of the channels in one step, without fine-tuning."""
    from engine.export import convert
    from engine.export.variants import VARIANTS, BuildContext, Pruning

    model, _ = task.build_model(arch, len(labels), pretrained=False)
    model.eval()
    pruning = Pruning(ratio=prune_ratio, steps=1, epochs_per_step=0, recovery_epochs=0, lr=1e-3, batch_size=1)
    build = BuildContext(
        fp32_model=convert.to_openvino(model, size, task),
        finish=lambda m, trained=None: convert.finish(m, task, trained or model, size, labels),
        convert=lambda trained: convert.to_openvino(trained, size, task),
        torch_model=model,
        train_samples=[],
        val_samples=[],
        calibration=calibration,
        task=task,
        labels=labels,
        img_size=size,
        seed=0,
        settings={Pruning: pruning},
    )
    paths = {}
    for name in names:
        ir, fp16 = VARIANTS[name].build(build)
        paths[name] = convert.save_ir(ir, folder / name, fp16=fp16)
    return model, paths
