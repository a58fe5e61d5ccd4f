"""Every architecture of every task (the list comes from the registry) goes through the pipeline's parts on a
tiny real dataset: it builds, trains a step through the one loop on real images, converts to a static IR, and
quantizes with the product's PTQ into an IR with int8 weights whose outputs agree with FP32. (Pruning every
architecture, keeping its outputs, is ``test_prune.py``.)
"""

from __future__ import annotations

import numpy as np
import openvino as ov
import pytest
import torch

import engine
from engine.compression.calibration import calibration_subset
from engine.compression.ptq import has_data_dependent_shapes, quantize_int8
from engine.data.images import read_rgb
from engine.export import convert
from engine.inference.preprocess import to_input
from engine.pipeline.context import Context
from engine.tasks import TASKS, get_task
from engine.training.loop import Loop, Step, cosine, make_loader, seed_everything

pytestmark = pytest.mark.e2e

CASES = [(task.name, arch) for task in TASKS.values() for arch in task.archs]
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """``tiny(task)``: (train samples, test samples, labels) of the task's tiny sample, imported."""
    made = {}

    def get(task: str):
        if task not in made:
            root = tmp_path_factory.mktemp(f"arch-{task}")
            get_task(task).write_sample(root / "data", tiny=True)
            dataset = engine.import_dataset(str(root / "data"), workspace=root / "ws")["dataset"]
            ctx = Context.open(root / "ws")
            row = ctx.db.get_dataset(dataset)
            made[task] = (ctx.samples(row, "train"), ctx.samples(row, "test"), row["info"]["labels"])
        return made[task]

    return get


def _outputs(compiled: ov.CompiledModel, images: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.concatenate([v.ravel() for v in compiled(x).values()]) for x in images])


@pytest.mark.parametrize(("task_name", "arch"), CASES, ids=[f"{t}-{a}" for t, a in CASES])
def test_architecture_trains_converts_and_quantizes(task_name, arch, tiny):
    task = get_task(task_name)
    train, test, labels = tiny(task_name)
    size = task.smallest_size  # small: this checks mechanics, not speed
    generator = seed_everything(0)
    model, status = task.build_model(arch, len(labels), pretrained=False)
    assert not status.pretrained

    # two real optimisation steps through the one loop
    loader = make_loader(task, train[:4], size, 2, generator=generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loop = Loop(
        Step(model, lambda x, y: task.train_loss(model, x, y), optimizer, cosine(optimizer, 2)),
        loader,
        epochs=1,
        generator=generator,
        max_steps=1,
    )
    assert loop.run() == "completed" and loop.total_steps == 1

    # static FP32 IR and the product's INT8 PTQ of the same network, outputs side by side
    model.eval()
    fp32 = convert.to_openvino(model, size, task)
    assert list(fp32.inputs[0].get_partial_shape().to_shape()) == [1, 3, size, size]
    # only Mask R-CNN's heads run on as many boxes as its NMS keeps: NNCF's full bias correction fails on those
    # shapes (it did for this test's one-step model), so the product quantizes it with the fast correction
    assert has_data_dependent_shapes(fp32) == ("masks" in task.output_names)
    int8 = quantize_int8(fp32, calibration_subset(train, 8), size)
    kinds = {op.get_element_type().get_type_name() for op in int8.get_ops() if op.get_type_name() == "Constant"}
    assert kinds & {"i8", "u8"}, f"no int8 constants in the INT8 IR of {arch}: {kinds}"
    finished = convert.finish(int8, task, model, size, labels)
    assert [o.get_any_name() for o in finished.outputs] == list(task.output_names)
    core = ov.Core()
    images = [to_input(read_rgb(path), size) for path, _ in test[:3]]
    if "masks" in task.output_names:  # Mask R-CNN: as many boxes as pass its score threshold, each with a mask
        # one training step leaves scores near it, so FP32 and INT8 keep different boxes: their agreement is
        # checked on the trained pipeline (test_cli_e2e.py); here the INT8 IR runs and keeps its layout
        for x in images:
            boxes, labels, masks = core.compile_model(finished, "CPU", F32)(x).values()
            assert boxes.shape[1:] == (5,) and labels.shape == boxes.shape[:1] and masks.shape[1:] == (28, 28)
            assert np.isfinite(boxes).all() and np.isfinite(masks).all()
        return
    a = _outputs(core.compile_model(fp32, "CPU", F32), images)
    b = _outputs(core.compile_model(int8, "CPU", F32), images)
    cosine_similarity = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
    assert cosine_similarity > 0.9, f"{arch}: INT8 outputs differ from FP32 (cosine {cosine_similarity:.3f})"
