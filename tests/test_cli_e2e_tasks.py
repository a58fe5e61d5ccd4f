"""Detection, segmentation and instance segmentation end to end through the CLI on tiny generated data:
import -> train -> optimize fp32,int8 -> evaluate -> benchmark -> predict --save, plus Model API agreement."""

from __future__ import annotations

import cv2
import numpy as np
import openvino as ov
import pytest
import torch
from torchvision.ops import box_iou

from engine.data.images import read_rgb
from engine.export.model_info import REQUIRED_KEYS
from engine.export.model_info import read as read_model_info
from engine.inference.predictor import OpenVINOPredictor
from tests.conftest import PIPELINES, last_json, run_cli

pytestmark = pytest.mark.e2e
F32 = {"INFERENCE_PRECISION_HINT": "f32"}

SETTINGS = {
    "detection": {"metric": "map_50", "margin": 0.05, "model_type": "SSD"},  # margin over the trivial baseline
    "segmentation": {"metric": "miou", "margin": 0.15, "model_type": "Segmentation"},
    "instance_segmentation": {"metric": "map_50", "margin": 0.05, "model_type": "MaskRCNN"},
}
BOXES = ("detection", "instance_segmentation")  # tasks whose predictions are scored boxes


@pytest.fixture(scope="module", params=list(SETTINGS))
def pipeline(request, prepared):
    """The session's pipeline of each task (tests/conftest.py), shared with the page tests."""
    return {**prepared(request.param), "settings": SETTINGS[request.param]}


def test_import_infers_the_task(pipeline):
    info = pipeline["dataset"]
    assert info["task"] == pipeline["task"]
    assert {s: v["images"] for s, v in info["splits"].items()} == dict(PIPELINES[pipeline["task"]]["sample"]["splits"])
    if pipeline["task"] in BOXES:
        assert info["format"] == "coco_instances" and info["labels"] == ["circle", "square", "triangle"]
        assert 1 <= info["boxes_per_image"]["min"] <= info["boxes_per_image"]["max"] <= 3
        instances = sum(sum(s["per_class"].values()) for s in info["splits"].values())
        assert sum(info["box_size_buckets"].values()) == instances
        if pipeline["task"] == "instance_segmentation":  # every instance has its mask
            assert sum(info["mask_area_buckets"].values()) == instances
    else:
        assert info["format"] == "common_semantic_segmentation_with_subset_dirs"
        assert info["labels"] == ["background", "paint", "stripes", "dots"]
        assert sum(info["mask_class_area"].values()) == pytest.approx(1.0)


def _trivial_baseline(pipeline) -> float:
    """Boxes: a model that finds nothing scores 0. Segmentation: all-background prediction's mIoU."""
    if pipeline["task"] in BOXES:
        return 0.0
    import engine
    from engine.data.masks import load_mask

    rows = engine.dataset_samples(pipeline["dataset"]["dataset"], "test", workspace=pipeline["ws"])
    masks = [load_mask(r["target"]) for r in rows]
    present = {int(c) for m in masks for c in np.unique(m)}
    background_iou = sum((m == 0).sum() for m in masks) / sum(m.size for m in masks)
    return background_iou / len(present)


def test_training_beats_the_trivial_baseline(pipeline):
    metric = pipeline["settings"]["metric"]
    variants = pipeline["optimize"]["variants"]
    baseline = _trivial_baseline(pipeline)
    for name in ("torch-fp32", "fp32", "int8"):
        assert 0.0 <= variants[name][metric] <= 1.0
    margin = pipeline["settings"]["margin"]
    assert variants["torch-fp32"][metric] > baseline + margin, (variants["torch-fp32"][metric], baseline)
    assert variants["fp32"][metric] == pytest.approx(variants["torch-fp32"][metric], abs=0.02)
    # the IR's own decoding + NMS (or arg-max) gives what torchvision gives
    assert variants["fp32"]["agreement"]["torch-fp32"] >= 0.95


def _confident(predictions: list) -> float:
    """The highest score threshold (from the drawing one, 0.3, down) at which FP32 keeps at least one box per
    image: the same seeded 10-epoch detector ends more or less confident on different CPUs (other kernels,
    another path from random init; on a Sapphire Rapids VM few boxes pass 0.3 and most pass 0.15)."""
    from engine.tasks.detection.task import SHOW_THRESHOLD

    for threshold in (SHOW_THRESHOLD, 0.2, 0.15, 0.1):
        if sum(len(p.above(threshold).boxes) for p in predictions) >= len(predictions):
            return threshold
    pytest.fail("the detector finds almost nothing at any threshold: the detection pipeline did not learn")


def test_int8_agrees_with_fp32(pipeline):
    fp32 = OpenVINOPredictor(pipeline["xml"]["fp32"], "CPU", F32)
    int8 = OpenVINOPredictor(pipeline["xml"]["int8"], "CPU", F32)
    images = [read_rgb(p) for p in pipeline["test_images"]]
    a, b = fp32.predict(images), int8.predict(images)
    if pipeline["task"] == "detection":
        from engine.tasks.detection.task import match

        threshold = _confident(a)
        matched = [match(x, y, threshold=threshold) for x, y in zip(a, b, strict=True)]
        found, total = sum(m for m, _ in matched), sum(n for _, n in matched)
        assert total >= len(images)  # the model is confident about real objects, so the check has teeth
        assert found / total >= 0.8, (threshold, found, total)
    elif pipeline["task"] == "instance_segmentation":  # same class, mask IoU >= 0.5, at a confident threshold
        from engine.tasks.instance_segmentation.metrics import mask_agreement

        threshold = _confident(a)
        shown = [(x.above(threshold), y.above(threshold)) for x, y in zip(a, b, strict=True)]
        assert sum(len(x.boxes) for x, _ in shown) >= len(images)
        agreement = np.mean([mask_agreement(x, y) for x, y in shown])
        assert agreement >= 0.8, (threshold, agreement)
    else:
        pixels = sum((x.mask == y.mask).sum() for x, y in zip(a, b, strict=True))
        assert pixels / sum(x.mask.size for x in a) >= 0.95
    int8_size = pipeline["optimize"]["variants"]["int8"]["size_bytes"]
    assert int8_size < 0.7 * pipeline["optimize"]["variants"]["fp32"]["size_bytes"]


def test_ir_has_static_input_and_model_info(pipeline):
    model = ov.Core().read_model(pipeline["xml"]["int8"])
    assert model.input(0).get_partial_shape().is_static
    info = read_model_info(model)
    assert all(key in info for key in REQUIRED_KEYS)
    assert info["model_type"] == pipeline["settings"]["model_type"]
    names = [o.get_any_name() for o in model.outputs]
    if pipeline["task"] == "detection":
        assert names == ["boxes", "labels"]
        assert model.output(0).get_partial_shape()[2].get_length() == 5
        # NMS and decoding stay in float: no FakeQuantize feeds the post-processing
        ops = {op.get_friendly_name(): op for op in model.get_ordered_ops()}
        nms = ops["postprocess/nms"]
        upstream = [nms.input_value(i).get_node() for i in range(2)]
        assert all(n.get_type_name() != "FakeQuantize" for n in upstream)
        assert any(op.get_type_name() == "FakeQuantize" for op in ops.values())
    elif pipeline["task"] == "instance_segmentation":
        assert names == ["boxes", "labels", "masks"]
        assert model.output(0).get_partial_shape()[1].get_length() == 5
        assert [d.get_length() for d in model.output(2).get_partial_shape()[1:]] == [28, 28]
        types = {op.get_type_name() for op in model.get_ordered_ops()}
        assert "FakeQuantize" in types and "If" not in types
    else:
        assert names == ["scores"]
        assert model.output(0).get_partial_shape()[1].get_length() == 4


def test_evaluate_matches_optimize(pipeline):
    metric = pipeline["settings"]["metric"]
    result = last_json(
        run_cli("evaluate", str(pipeline["train"]["run"]), "--variant", "int8", "--json", workspace=pipeline["ws"])
    )
    assert result["metrics"][metric] == pytest.approx(pipeline["optimize"]["variants"]["int8"][metric], abs=1e-6)
    per_class = "per_class_ap50" if pipeline["task"] in BOXES else "per_class_iou"
    assert set(result["metrics"][per_class]) == set(pipeline["dataset"]["labels"])


def test_benchmark_runs_both_backends(pipeline):
    result = last_json(
        run_cli(
            "benchmark",
            str(pipeline["train"]["run"]),
            "--variants",
            "torch-fp32,fp32,int8",
            "--precision",
            "default",
            "--iterations",
            "10",
            "--json",
            workspace=pipeline["ws"],
        )
    )
    rows = {r["variant"]: r for r in result["results"]}
    assert set(rows) == {"torch-fp32", "fp32", "int8"}
    for r in rows.values():
        assert r["latency_ms"]["count"] >= 10 and r["latency_ms"]["median"] > 0


def test_predict_saves_overlays(pipeline, tmp_path):
    images = pipeline["test_images"][:3]
    result = last_json(
        run_cli(
            "predict",
            str(pipeline["train"]["run"]),
            "--variant",
            "int8",
            *map(str, images),
            "--save",
            str(tmp_path),
            "--json",
            workspace=pipeline["ws"],
        )
    )
    assert len(result["predictions"]) == 3
    for pred, path in zip(result["predictions"], images, strict=True):
        saved = cv2.imread(pred["saved"])
        original = cv2.imread(str(path))
        assert saved is not None and saved.shape[0] >= original.shape[0]
        if pipeline["task"] in BOXES:
            assert all(d["label_name"] in {"circle", "square", "triangle"} for d in pred["detections"])
            assert all(d["score"] >= pred["threshold"] for d in pred["detections"])
            if pipeline["task"] == "instance_segmentation":
                assert all(d["mask_pixels"] > 0 for d in pred["detections"])
        else:
            assert sum(pred["class_area"].values()) == pytest.approx(1.0, abs=1e-3)
            assert not np.array_equal(cv2.resize(saved, original.shape[1::-1]), original)  # the overlay is drawn


def test_model_api_reads_the_ir_and_agrees(pipeline):
    from model_api.adapters import OpenvinoAdapter, create_core
    from model_api.models import Model

    xml = pipeline["xml"]["fp32"]
    adapter = OpenvinoAdapter(create_core(), str(xml), device="CPU", plugin_config=F32)
    ours = OpenVINOPredictor(xml, "CPU", F32)
    if pipeline["task"] == "detection":
        threshold = _confident(ours.predict([read_rgb(p) for p in pipeline["test_images"]]))
        wrapper = Model.create_model(adapter, configuration={"confidence_threshold": threshold}, preload=True)
        total = agreed = 0
        for path in pipeline["test_images"]:
            mine = ours.predict([read_rgb(path)])[0].above(threshold)
            theirs = wrapper(cv2.imread(str(path)))
            assert len(theirs.bboxes) == len(mine.boxes)
            for box, label in zip(mine.boxes, mine.box_labels, strict=True):
                total += 1
                ious = [
                    _iou(box, other) for other, lab in zip(theirs.bboxes, theirs.labels, strict=True) if lab == label
                ]
                agreed += int(max(ious, default=0) >= 0.9)
        assert total >= len(pipeline["test_images"]) and agreed == total
    elif pipeline["task"] == "instance_segmentation":  # the same instances and the same pixels
        from engine.tasks.instance_segmentation.metrics import mask_iou

        threshold = _confident(ours.predict([read_rgb(p) for p in pipeline["test_images"]]))
        wrapper = Model.create_model(adapter, configuration={"confidence_threshold": threshold}, preload=True)
        labels, ious = pipeline["dataset"]["labels"], []
        for path in pipeline["test_images"]:
            mine = ours.predict([read_rgb(path)])[0].above(threshold)
            names = [labels[i] for i in mine.box_labels]  # Model API counts background as label 0: compare names
            theirs = wrapper(cv2.imread(str(path)))
            assert sorted(theirs.label_names or []) == sorted(names), path.name
            for mask, name in zip(mine.instance_masks, names, strict=True):
                same = [m for m, other in zip(theirs.masks, theirs.label_names, strict=True) if other == name]
                ious.append(max(mask_iou(mask, m.astype(bool)) for m in same))
        assert len(ious) >= len(pipeline["test_images"]) and min(ious) >= 0.99, sorted(ious)[:5]  # same pasting
    else:
        wrapper = Model.create_model(adapter, preload=True)
        same = pixels = 0
        for path in pipeline["test_images"]:
            mine = ours.predict([read_rgb(path)])[0].mask
            theirs = wrapper(cv2.imread(str(path))).resultImage
            same += int((mine == theirs).sum())
            pixels += mine.size
        assert same / pixels >= 0.99


def _iou(a, b) -> float:
    return float(box_iou(torch.as_tensor([a], dtype=torch.float32), torch.as_tensor([b], dtype=torch.float32))[0, 0])
