"""The terminal rendering of each result type (what `python -m engine VERB` prints without --json)."""

from __future__ import annotations

import typing

import engine
from engine import plain_text as report
from engine import results as r


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def test_every_verb_declares_a_result_type():
    for name, fn in engine.VERBS.items():
        assert typing.get_type_hints(fn).get("return") is not None, name


def test_optimize_is_a_table_of_variants():
    result = {
        "run": 1,
        "primary_metric": "top1",
        "variants": {
            "fp32": {"variant": "fp32", "precision": "FP32", "top1": 0.98, "drop_vs_torch_pp": 0.0,
                     "agreement": {"fp32": 1.0}, "size_bytes": 6_220_000, "size_ratio_vs_fp32": 1.0},
            "int8": {"variant": "int8", "precision": "INT8", "top1": 0.97, "drop_vs_torch_pp": 1.0,
                     "agreement": {"fp32": 0.99}, "size_bytes": 3_320_000, "size_ratio_vs_fp32": 1.873},
        },
    }  # fmt: skip
    lines = _lines(report.render(result, r.OptimizeResult))
    assert lines[0] == "variant precision top1 drop_vs_torch_pp agree_fp32 size_MB size_ratio_vs_fp32"
    assert lines[2] == "int8 INT8 0.97 1 0.99 3.32 1.873"


def test_a_dataset_shows_counts_and_the_tasks_notes():
    info = {
        "dataset": 2, "task": "detection", "format": "coco_instances", "num_images": 3, "labels": ["cat", "dog"],
        "image_size": {"width": {"min": 10, "max": 20, "median": 15}, "height": {"min": 5, "max": 9, "median": 7}},
        "splits": {"train": {"images": 2, "per_class": {"cat": 3, "dog": 1}},
                   "test": {"images": 1, "per_class": {"cat": 0, "dog": 2}}},
        "boxes_per_image": {"min": 1, "max": 3, "median": 2}, "box_size_buckets": {"small (<32²)": 6},
        "problems": [{"kind": "corrupt image", "file": "x.png", "message": "cannot decode", "action": "skipped"}],
    }  # fmt: skip
    lines = _lines(report.render(info, r.DatasetInfo))
    assert lines[0] == "dataset 2: detection, format coco_instances, 3 images"
    assert "cat 3 0" in lines and "total 2 1" in lines
    assert "boxes per image: 1-3 (median 2)" in lines and "box sizes: small (<32²) 6" in lines
    assert lines[-2:] == ["problems: 1", "corrupt image: x.png — cannot decode (skipped)"]


def test_predictions_are_described_by_their_task():
    result = {
        "run": 1, "variant": "int8", "device": "CPU",
        "predictions": [
            {"image": "a.png", "task": "classification", "label": 1, "label_name": "dog", "score": 0.91234},
            {"image": "b.png", "task": "detection", "threshold": 0.3,
             "detections": [{"label": 0, "label_name": "cat", "score": 0.8, "box": [1, 2, 3, 4]}]},
            {"image": "c.png", "task": "segmentation", "class_area": {"background": 0.7, "road": 0.3}},
        ],
    }  # fmt: skip
    lines = _lines(report.render(result, r.PredictResult))
    assert lines[1:] == ["a.png dog 0.912", "b.png 1 object(s) >= 0.3: cat 0.80", "c.png background 70%, road 30%"]


def test_lists_become_tables_and_unknown_shapes_fields():
    rows = [{"run": 1, "model": "resnet18", "metrics": {"x": 1}}, {"run": 2, "model": "mobilenet_v3_small"}]
    assert _lines(report.render(rows, list[r.RunRow])) == ["run model", "1 resnet18", "2 mobilenet_v3_small"]
    assert report.render([], list[r.RunRow]) == "(none)"
    assert report.render(["coco", "voc"], list[str]) == "coco\nvoc"
    assert report.render({"task": "detection", "path": "/x"}, r.SampleResult) == "task: detection\npath: /x"
    recall = {"val_per_class_recall": {f"c{i}": 0.5 for i in range(14)} | {"none": None}}  # 15 classes
    assert report.render(recall, r.TrainResult) == "val_per_class_recall: " + ", ".join(
        [*(f"c{i} 0.5" for i in range(12)), "... (3 more)"]
    )


def test_deploy_says_where_the_zip_is():
    result = {"run": 1, "variant": "int8", "path": "/tmp/m.zip", "size_bytes": 2_500_000,
              "files": ["model.xml", "model.bin"], "snippets": {"model_api": "print(1)\n"}, "ovms": None}  # fmt: skip
    lines = _lines(report.render(result, r.DeployResult))
    assert lines[0] == "wrote /tmp/m.zip (2.50 MB): model.xml, model.bin" and "print(1)" in lines
    assert not any(line.startswith("OVMS") for line in lines)


def test_deploy_to_ovms_names_the_model_version_and_config():
    served = {"repository": "/srv/models", "name": "shapes", "version": 2, "path": "/srv/models/shapes/2",
              "config": "/srv/models/config.json",
              "models": ["shapes", "detector"]}  # fmt: skip
    result = {"run": 1, "variant": "int8", "path": "/srv/models/shapes/2", "size_bytes": 1_000_000,
              "files": ["model.xml", "model.bin"], "snippets": {"model_api": "print(1)\n"}, "ovms": served}  # fmt: skip
    lines = _lines(report.render(result, r.DeployResult))
    assert lines[1] == "OVMS model shapes version 2; /srv/models/config.json serves shapes, detector"
