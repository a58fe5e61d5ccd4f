"""Task pieces without training: IR post-processing vs torchvision, metrics on known values, overlays."""

from pathlib import Path

import numpy as np
import openvino as ov
import pytest
import torch

from engine.export import convert
from engine.inference.prediction import Prediction
from engine.tasks import get_task
from engine.tasks.detection.task import DetectionMetrics, match
from engine.tasks.segmentation.task import SegmentationMetrics

LABELS = ["circle", "square", "triangle"]


@pytest.fixture(scope="module")
def ssd():
    torch.manual_seed(0)
    spec = get_task("detection")
    model, _ = spec.build_model("ssdlite320_mobilenet_v3_large", len(LABELS), pretrained=False)
    with torch.no_grad():  # random-init heads score every anchor alike; spread the scores so order is defined
        for param in model.head.parameters():
            param.normal_(0, 0.2)
    return spec, model.eval()


@pytest.mark.e2e  # converts a detector to OpenVINO (seconds): beside the CLI's trained-model checks
def test_detection_ir_has_decoding_and_nms(ssd):
    spec, model = ssd
    ir = convert.finish(convert.to_openvino(model, 128, spec), spec, model, 128, LABELS)
    assert [o.get_any_name() for o in ir.outputs] == ["boxes", "labels"]
    compiled = ov.Core().compile_model(ir, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    x = torch.randn(1, 3, 128, 128)
    results = compiled(x.numpy())
    ov_boxes, ov_labels = (results[o] for o in compiled.outputs)
    with torch.inference_mode():
        pt_boxes, _ = spec.torch_outputs(model, x)[0]
    assert ov_boxes.shape[0] == 1 and ov_boxes.shape[2] == 5 and ov_boxes.shape[1] > 0
    # Random-init heads give many exactly equal scores, so which tied anchors survive NMS is arbitrary;
    # the trained-model check (fp32 IR vs torchvision on real images) lives in test_cli_e2e.py.
    assert ov_boxes.shape[1] == pt_boxes.shape[1]
    assert ov_boxes[0, 0, 4] == pytest.approx(pt_boxes[0, 0, 4], abs=1e-4)  # same best score
    assert (ov_boxes[0, :, :4] >= 0).all() and (ov_boxes[0, :, :4] <= 128).all()  # clipped to the input
    assert ov_labels.max() < len(LABELS)  # background never reported


@pytest.mark.e2e
def test_retinanet_converts_with_the_same_outputs():
    spec = get_task("detection")
    model, _ = spec.build_model("retinanet_mobilenet_v3_large_fpn", len(LABELS), pretrained=False)
    ir = convert.finish(convert.to_openvino(model.eval(), 128, spec), spec, model, 128, LABELS)
    compiled = ov.Core().compile_model(ir, "CPU")
    boxes, labels = (compiled(np.zeros((1, 3, 128, 128), np.float32))[o] for o in compiled.outputs)
    assert boxes.shape[2] == 5 and boxes.shape[1] == labels.shape[1]
    assert ir.get_rt_info(["model_info", "model_type"]).astype(str) == "SSD"


def test_detection_postprocess_scales_to_the_original_image():
    spec = get_task("detection")
    boxes = np.array([[[10, 20, 30, 40, 0.9], [0, 0, 64, 64, 0.5]]], np.float32)
    pred = spec.postprocess([boxes, np.array([[2, 0]])], (128, 256), (64, 64))
    np.testing.assert_allclose(pred.boxes[0], [40, 40, 120, 80])
    assert pred.box_labels.tolist() == [2, 0] and pred.score == pytest.approx(0.9)


def _det(boxes, scores, labels):
    return Prediction(
        "detection",
        boxes=np.array(boxes, np.float32).reshape(-1, 4),
        box_scores=np.array(scores, np.float32),
        box_labels=np.array(labels),
    )


def test_detection_metrics_perfect_and_missing():
    metrics = DetectionMetrics(LABELS)
    target = {"boxes": np.array([[0, 0, 10, 10], [20, 20, 40, 40]], np.float32), "labels": np.array([0, 1])}
    metrics.update_predictions([_det([[0, 0, 10, 10]], [0.9], [0])], [target])
    out = metrics.compute()
    assert out["per_class_ap50"]["circle"] == pytest.approx(1.0)
    assert out["per_class_ap50"]["square"] == pytest.approx(0.0)
    assert out["map_50"] == pytest.approx(0.5)
    assert out["per_class_ap50"]["triangle"] is None  # no ground truth, not scored


def test_detection_agreement_and_match():
    a = _det([[0, 0, 10, 10], [20, 20, 40, 40]], [0.9, 0.8], [0, 1])
    shifted = _det([[1, 0, 11, 10], [20, 20, 40, 40]], [0.85, 0.7], [0, 2])  # second box: other class
    assert match(a, shifted) == (1, 2)
    detection = get_task("detection")
    assert detection.agreement(a, a) == 1.0 and detection.agreement(a, shifted) == pytest.approx(0.5)
    assert detection.agreement(_det([], [], []), _det([], [], [])) == 1.0


def test_segmentation_metrics_known_values():
    metrics = SegmentationMetrics(["background", "a", "b"])
    target = np.array([[0, 0, 1, 1], [0, 0, 1, 255]], np.uint8)  # 255 ignored
    pred = Prediction("segmentation", mask=np.array([[0, 1, 1, 1], [0, 0, 1, 2]], np.uint8))
    metrics.update_predictions([pred], [target])
    out = metrics.compute()
    assert out["per_class_iou"]["background"] == pytest.approx(3 / 4)
    assert out["per_class_iou"]["a"] == pytest.approx(3 / 4)
    assert out["per_class_iou"]["b"] is None  # only predicted on an ignored pixel: not scored
    assert out["miou"] == pytest.approx(0.75)
    assert out["pixel_accuracy"] == pytest.approx(6 / 7)


def test_overlays_draw_on_the_image():
    image = np.full((60, 80, 3), 128, np.uint8)
    det = get_task("detection").draw(image, _det([[10, 10, 50, 40]], [0.9], [1]), LABELS)
    assert det.size[0] >= 80 and len(set(det.getdata())) > 2  # box and label drawn
    low = get_task("detection").draw(image, _det([[10, 10, 50, 40]], [0.05], [1]), LABELS)
    assert len(set(low.getdata())) == 1  # below the display threshold: nothing drawn
    mask = np.zeros((60, 80), np.uint8)
    mask[10:30, 10:40] = 2
    seg = get_task("segmentation").draw(image, Prediction("segmentation", mask=mask), ["background", "a", "b"])
    arr = np.asarray(seg.resize((80, 60)))
    assert (arr[20, 25] != 128).any() and (arr[55, 75] == 128).all()  # class painted, background left clear


def test_raw_network_outputs_decode_like_the_full_model(ssd):
    """What int8-acc scores (the bare network's outputs + torchvision decoding) equals the model's detections."""
    from engine.tasks.detection.models import DetectorNetwork

    spec, model = ssd
    x = torch.randn(1, 3, 128, 128)
    with torch.inference_mode():
        raw = [t.numpy() for t in DetectorNetwork(model)(x)]
        expected = spec.torch_outputs(model, x)[0]
    decoded = spec.decode_raw(model, raw, 128)
    np.testing.assert_allclose(decoded[0], expected[0], atol=1e-5)
    np.testing.assert_array_equal(decoded[1], expected[1])


def test_augmentation_keeps_boxes_and_masks_on_their_objects(tmp_path):
    """After the training transforms, the box still frames the drawn object and the mask still covers it."""
    from PIL import Image

    from engine.inference.preprocess import MEAN, STD
    from engine.tasks.detection.data import DetectionDataset
    from engine.tasks.segmentation.data import SegmentationDataset

    image = np.zeros((96, 128, 3), np.uint8)
    image[20:50, 30:90] = 255  # one white rectangle on black
    path = tmp_path / "img.png"
    Image.fromarray(image).save(path)
    mask = (image[..., 0] > 0).astype(np.uint8)
    target = {"boxes": np.array([[30, 20, 90, 50]], np.float32), "labels": np.array([0])}
    det = DetectionDataset([(str(path), target)], 64, train=True)
    seg = SegmentationDataset([(str(path), mask)], 64, train=True)
    white = (1 - np.asarray(MEAN)) / np.asarray(STD)
    torch.manual_seed(0)
    checked = 0
    for _ in range(20):
        x, t = det[0]
        bright = (x.numpy() > white[:, None, None] * 0.5).all(axis=0)  # robust to colour jitter
        if len(t["boxes"]) and bright.any():
            x1, y1, x2, y2 = t["boxes"][0].tolist()
            ys, xs = np.nonzero(bright)
            assert x1 - 2 <= xs.min() and xs.max() <= x2 + 2 and y1 - 2 <= ys.min() and ys.max() <= y2 + 2
        x, m = seg[0]
        bright = (x.numpy() > white[:, None, None] * 0.5).all(axis=0)
        assert m.shape == x.shape[1:]
        if bright.sum() > 20:  # interpolated edge pixels may differ; the object itself must coincide
            assert (m.numpy()[bright] == 1).mean() > 0.9
            mask_centre = np.argwhere(m.numpy() == 1).mean(axis=0)
            assert np.abs(mask_centre - np.argwhere(bright).mean(axis=0)).max() < 2.0
            checked += 1
    assert checked >= 10


def test_each_task_package_names_the_weights_its_builders_load():
    """`weights list` reads each task package's plain WEIGHTS (no torch); they must be what models.py's builders
    load: the same architectures, torchvision enum members and file names."""
    from engine.models import weights as store
    from engine.pipeline.weights_store import catalogue, listed

    built = {
        arch: {
            "task": entry["task"],
            "weights": f"{type(entry['weights']).__name__}.{entry['weights'].name}",
            "kind": entry["kind"],
            "file": store.file_name(entry["weights"]),
        }
        for arch, entry in catalogue().items()
    }
    assert listed() == built, "update WEIGHTS in the task package's __init__ to these: " + repr(built)


@pytest.mark.parametrize("env", [{}, {"TORCH_HOME": "/srv/torch"}, {"XDG_CACHE_HOME": "/srv/cache"}])
def test_the_weights_folder_is_found_where_torch_looks_without_importing_it(env, monkeypatch):
    from engine.models import weights as store

    for name in ("TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert store._torch_home() == Path(torch.hub._get_torch_home())
