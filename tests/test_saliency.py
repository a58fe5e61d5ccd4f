"""RISE saliency: it finds the pixels a prediction depends on, for any backend, and the verb refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest

from engine.inference import saliency
from engine.inference.prediction import Prediction
from engine.tasks import get_task
from tests.conftest import last_json, run_cli, tiny_optimized_run


class CornerModel:
    """A fake classifier whose class-1 probability is the brightness of the image's top-left quarter."""

    task = get_task("classification")
    labels = ("other", "corner")

    def predict(self, images):
        out = []
        for image in images:
            p = float(image[: image.shape[0] // 2, : image.shape[1] // 2].mean() / 255)
            out.append(Prediction("classification", label=1, score=p, scores=np.array([1 - p, p])))
        return out


def test_rise_puts_the_saliency_where_the_evidence_is():
    image = np.full((32, 32, 3), 200, np.uint8)
    image[16:, 16:] = 20  # the mean fill differs from the corner, so hiding it changes the score
    masks = saliency.rise_masks(400, (32, 32), seed=0)
    assert masks.shape == (400, 32, 32) and masks.min() >= 0.0 and masks.max() <= 1.0
    assert 0.4 < masks.mean() < 0.6  # each cell visible with p = 0.5
    model = CornerModel()
    reference = model.predict([image])[0]
    heat = saliency.rise(model, image, reference, masks)
    top = heat >= np.quantile(heat, 0.8)  # the most salient fifth of the pixels lies in the evidence corner
    assert top[:16, :16].sum() / top.sum() > 0.9, top.astype(int)
    same = saliency.similarity(heat, heat)
    assert same == {"correlation": 1.0, "top20_iou": 1.0}
    other = saliency.similarity(heat, heat[::-1, ::-1])  # the evidence moved to the opposite corner
    assert other["correlation"] < 0 and other["top20_iou"] < 0.5
    shown = saliency.overlay(image, heat)
    assert shown.shape == (256, 256, 3) and shown.dtype == np.uint8


def test_masks_are_reproducible_from_their_seed():
    assert np.array_equal(saliency.rise_masks(5, (20, 30), seed=3), saliency.rise_masks(5, (20, 30), seed=3))
    assert not np.array_equal(saliency.rise_masks(5, (20, 30), seed=3), saliency.rise_masks(5, (20, 30), seed=4))


@pytest.fixture(scope="module")
def small_run(tiny_imagenet, tmp_path_factory):
    ws = tmp_path_factory.mktemp("saliency") / "ws"
    run = tiny_optimized_run(tiny_imagenet, ws, epochs=1, max_steps=3)
    return ws, run


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_the_verb_explains_the_original_and_the_int8_ir_and_saves_both(small_run, tmp_path):
    ws, run = small_run
    out = last_json(run_cli("saliency", str(run), "--index", "2", "--masks", "32", "--save", str(tmp_path / "s"),
                            "--json", workspace=ws))  # fmt: skip
    assert (out["a"], out["b"], out["masks"]) == ("torch-fp32", "int8", 32)
    assert out["explained"].startswith("evidence for '") and -1.0 <= out["similarity"]["correlation"] <= 1.0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(
        f"{out['image'].rsplit('/', 1)[-1][:-4]}_{v}_saliency.png" for v in ("torch-fp32", "int8")
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--index", "999"), "out of range: the test split has"),
        (("--masks", "3"), "--masks 3 is out of range"),
        (("--b", "nope"), "nope"),
    ],
)
@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_bad_input_is_one_line_and_exit_2(small_run, args, says):
    ws, run = small_run
    proc = run_cli("saliency", str(run), *args, workspace=ws, check=False)
    assert proc.returncode == 2 and says in proc.stderr and "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("error")]) == 1
