"""Instance segmentation pieces without a trained model: what is read from COCO (RLE and polygons), how the task is
told from detection, the IR's outputs as Model API's MaskRCNN reads them, the metrics on known values, drawing."""

from __future__ import annotations

import json

import numpy as np
import openvino as ov
import pytest
import torch
from PIL import Image

import engine
from engine.export import convert
from engine.inference.prediction import Prediction
from engine.tasks import get_task

LABELS = ["circle", "square", "triangle"]
TASK = "instance_segmentation"


def _coco(folder, annotations, size=(48, 64)):
    (folder / "annotations").mkdir(parents=True)
    (folder / "images" / "train").mkdir(parents=True)
    h, w = size
    images = []
    for i in range(4):
        Image.new("RGB", (w, h), (i * 40, 90, 160)).save(folder / "images" / "train" / f"{i}.jpg")
        images.append({"id": i + 1, "file_name": f"{i}.jpg", "width": w, "height": h})
    coco = {
        "images": images,
        "annotations": [{"id": n + 1, "iscrowd": 0, **a} for n, a in enumerate(annotations)],
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(LABELS)],
    }
    (folder / "annotations" / "instances_train.json").write_text(json.dumps(coco))
    return folder


def test_coco_polygons_import_as_instance_segmentation_and_boxes_alone_as_detection(tmp_path):
    polygon = {"image_id": 1, "category_id": 2, "bbox": [10, 10, 20, 10], "area": 200}
    polygon["segmentation"] = [[10, 10, 30, 10, 30, 20, 10, 20]]
    box = {"image_id": 2, "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100, "segmentation": []}
    masks = engine.import_dataset(str(_coco(tmp_path / "masks", [polygon, box])), workspace=tmp_path / "ws")
    boxes = engine.import_dataset(str(_coco(tmp_path / "boxes", [box])), workspace=tmp_path / "ws")
    assert (masks["task"], boxes["task"]) == (TASK, "detection")
    info = engine.dataset_info(masks["dataset"], workspace=tmp_path / "ws")
    assert info["mask_area_buckets"]["small (<32²)"] == 1  # the 20 x 10 polygon; the box alone has no mask


def test_voc_instance_masks_are_recognised_and_each_instance_keeps_its_own_mask(tmp_path):
    """A VOC folder matches every VOC flavour Datumaro knows; its SegmentationObject masks make it instances."""
    import datumaro as dm

    from engine.tasks.instance_segmentation.metrics import target_masks
    from tests.conftest import read

    def masks(i):  # two touching instances of the same class and one of another
        out = [np.zeros((40, 48), bool) for _ in range(3)]
        out[0][5:20, 4:20], out[1][5:20, 20 : 30 + i], out[2][25:38, 10:40] = True, True, True
        return out

    items = [
        dm.DatasetItem(
            id=f"img{i}",
            subset=("train", "val", "test")[i % 3],
            media=dm.Image.from_numpy(np.full((40, 48, 3), 30 * i, np.uint8)),
            annotations=[
                dm.Mask(image=m, label=lab, id=k + 1, group=k + 1)
                for k, (m, lab) in enumerate(zip(masks(i), (0, 0, 1), strict=True))
            ],
        )
        for i in range(6)
    ]
    dm.Dataset.from_iterable(items, categories=["cat", "dog"]).export(
        str(tmp_path / "voc"), "voc_instance_segmentation", save_media=True
    )
    result = read(tmp_path / "voc")  # no --task: told by the annotations
    assert (result.task, result.format) == (TASK, "voc_instance_segmentation")
    names = result.labels  # VOC adds its (empty) background class
    for item in result.dataset:
        target, problem = get_task(TASK).extract_target(item, names)
        assert problem is None
        got = sorted((names[c], int(m.sum())) for c, m in zip(target["labels"], target_masks(target), strict=True))
        i = int(item.id[3:])
        assert got == sorted((n, int(m.sum())) for n, m in zip(("cat", "cat", "dog"), masks(i), strict=True))


def test_a_polygon_becomes_its_mask_and_box():
    import datumaro as dm

    item = dm.DatasetItem(
        "a",
        media=dm.Image.from_numpy(np.zeros((40, 50, 3), np.uint8)),
        annotations=[dm.Polygon([10, 5, 30, 5, 30, 25, 10, 25], label=1), dm.Bbox(0, 0, 5, 5, label=0)],
    )
    target, problem = get_task(TASK).extract_target(item, LABELS)
    assert problem is None and target["labels"].tolist() == [1]  # the box without a mask is not an instance
    np.testing.assert_allclose(target["boxes"], [[10, 5, 30, 25]], atol=1)
    from engine.tasks.instance_segmentation.metrics import target_masks

    mask = target_masks(target)
    assert mask.shape == (1, 40, 50) and abs(int(mask.sum()) - 20 * 20) <= 45


def test_the_sample_hides_what_a_later_shape_covers(tmp_path):
    from pycocotools import mask as coco_mask

    spec = get_task(TASK)
    spec.write_sample(tmp_path, tiny=True)
    coco = json.loads((tmp_path / "annotations" / "instances_train.json").read_text())
    by_image: dict[int, list] = {}
    for ann in coco["annotations"]:
        rle = {**ann["segmentation"], "counts": ann["segmentation"]["counts"].encode()}
        by_image.setdefault(ann["image_id"], []).append(coco_mask.decode(rle).astype(bool))
    overlaps = [np.logical_and(a, b).sum() for ms in by_image.values() for i, a in enumerate(ms) for b in ms[i + 1 :]]
    assert overlaps and max(overlaps) == 0  # visible masks never share a pixel
    assert max(len(ms) for ms in by_image.values()) >= 3


@pytest.mark.e2e  # converts Mask R-CNN (seconds)
def test_the_ir_has_model_apis_three_outputs_and_no_branch():
    torch.manual_seed(0)
    spec = get_task(TASK)
    model, _ = spec.build_model(spec.default_arch, len(LABELS), pretrained=False)
    ir = convert.finish(convert.to_openvino(model.eval(), 128, spec), spec, model, 128, LABELS)
    assert [o.get_any_name() for o in ir.outputs] == ["boxes", "labels", "masks"]
    kinds = {op.get_type_name() for op in ir.get_ordered_ops()}
    assert "If" not in kinds and {"NonMaxSuppression", "ROIAlign"} <= kinds  # NNCF calibrates through it
    info = ir.get_rt_info()["model_info"]
    assert info["model_type"].astype(str) == "MaskRCNN"
    assert info["labels"].astype(str).split() == ["background", *LABELS]  # Model API adds 1 to every label
    x = torch.rand(1, 3, 128, 128)
    compiled = ov.Core().compile_model(ir, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    boxes, labels, masks = (compiled(x.numpy())[o] for o in compiled.outputs)
    with torch.no_grad():
        ref = spec.torch_outputs(model, x)[0]
    assert boxes.shape[1] == 5 and masks.shape[1:] == (28, 28) and len(boxes) == len(labels) == len(masks)
    assert len(boxes) == len(ref[0])
    np.testing.assert_allclose(boxes[:3, 4], ref[0][:3, 4], atol=1e-3)


def _instances(masks, labels, scores):
    masks = np.asarray(masks, bool)
    boxes = []
    for m in masks:
        ys, xs = np.nonzero(m)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return Prediction(
        TASK,
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        box_scores=np.asarray(scores, np.float32),
        box_labels=np.asarray(labels, np.int64),
        instance_masks=masks,
    )


def test_mask_map_is_one_for_the_truth_and_drops_for_a_wrong_mask():
    from engine.tasks.instance_segmentation.data import encode

    a = np.zeros((40, 40), bool)
    a[5:20, 5:20] = True
    b = np.zeros((40, 40), bool)
    b[22:38, 20:36] = True
    truth = {
        "boxes": np.array([[5, 5, 20, 20], [20, 22, 36, 38]], np.float32),
        "labels": np.array([0, 1]),
        "masks": [encode(a), encode(b)],
        "hw": [40, 40],
    }
    spec = get_task(TASK)
    metrics = spec.make_metrics(LABELS)
    metrics.update_predictions([_instances([a, b], [0, 1], [0.9, 0.8])], [truth])
    exact = metrics.compute()
    assert exact["map_50"] == pytest.approx(1.0) and exact["box_map_50"] == pytest.approx(1.0)
    hollow = b.copy()
    hollow[26:34, 24:32] = False  # the box is right, a quarter of the mask is missing: IoU 0.75
    metrics = spec.make_metrics(LABELS)
    metrics.update_predictions([_instances([a, hollow], [0, 1], [0.9, 0.8])], [truth])
    worse = metrics.compute()
    assert worse["map_50"] == pytest.approx(1.0) and worse["map"] < exact["map"] - 0.1
    assert worse["per_class_ap"]["square"] < exact["per_class_ap"]["square"]


def test_agreement_counts_instances_by_mask():
    a = np.zeros((30, 30), bool)
    a[2:12, 2:12] = True
    b = np.zeros((30, 30), bool)
    b[15:28, 15:28] = True
    spec = get_task(TASK)
    one = _instances([a, b], [0, 1], [0.9, 0.9])
    assert spec.agreement(one, one) == 1.0
    assert spec.agreement(one, _instances([a], [0], [0.9])) == pytest.approx(2 / 3)
    assert spec.agreement(one, _instances([a, b], [0, 2], [0.9, 0.9])) == pytest.approx(0.5)  # other class


def test_drawing_paints_each_instance_and_postprocess_pastes_masks_at_image_size():
    spec = get_task(TASK)
    boxes = np.array([[8, 8, 24, 24, 0.9]], np.float32)
    raw = np.ones((1, 28, 28), np.float32)
    pred = spec.postprocess([boxes, np.array([1]), raw], (64, 96), (32, 32))
    assert pred.instance_masks.shape == (1, 64, 96)
    ys, xs = np.nonzero(pred.instance_masks[0])
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == pytest.approx((24, 71, 16, 47), abs=2)
    image = np.full((64, 96, 3), 128, np.uint8)
    drawn = np.asarray(spec.draw(image, pred, LABELS).resize((96, 64)))
    assert np.abs(drawn[30, 50].astype(int) - 128).sum() > 40  # inside the mask: tinted
    assert np.abs(drawn[60, 5].astype(int) - 128).sum() < 10  # outside: untouched


def test_variants_the_task_cannot_build_are_refused_before_any_work(tmp_path):
    spec = get_task(TASK)
    assert set(spec.unsupported_variants) == {"int8-qat", "pruned", "pruned-int8"}
    from engine.errors import StudioError
    from engine.pipeline import optimizing

    class Ctx:
        def task(self, run):
            return spec

    refusal = r"^int8-qat cannot be built for instance_segmentation: NNCF.*; leave it out of --variants$"
    with pytest.raises(StudioError, match=refusal):
        optimizing._plan(Ctx(), {"task": TASK}, ["fp32", "int8-qat"], [], 16)


def test_masks_are_pasted_pixel_for_pixel_as_model_api_pastes_them():
    from model_api.models.instance_segmentation import _segm_postprocess

    from engine.tasks.instance_segmentation.paste import paste_mask

    rng = np.random.default_rng(0)
    h, w = 90, 120
    for _ in range(200):
        x0, y0 = rng.uniform(-10, w - 5), rng.uniform(-10, h - 5)
        box = np.array([x0, y0, x0 + rng.uniform(1, 70), y0 + rng.uniform(1, 60)])  # some cross the border
        mask = rng.random((28, 28)).astype(np.float32)
        theirs_box = np.clip(np.around(box), 0, [w, h, w, h])  # what the reader does to a box before pasting
        theirs = _segm_postprocess(theirs_box, mask, h, w).astype(bool)
        np.testing.assert_array_equal(paste_mask(box, mask, (h, w)), theirs)


def test_a_search_leaves_out_what_the_task_cannot_build_and_refuses_when_nothing_is_left(tmp_path):
    from engine.errors import StudioError

    get_task(TASK).write_sample(tmp_path / "data", tiny=True)
    dataset = engine.import_dataset(str(tmp_path / "data"), workspace=tmp_path / "ws")["dataset"]
    with pytest.raises(StudioError, match=r"^none of the variants asked for can be built for instance_segmentation"):
        engine.search(dataset, variants=["int8-qat", "pruned-int8"], workspace=tmp_path / "ws")
    assert engine.list_searches(workspace=tmp_path / "ws") == []  # refused before a search was recorded
