"""Detection and segmentation imports: every format on tiny fixtures written by Datumaro's own exporters
(or by hand where Datumaro has no writer), plus ambiguous and malformed inputs."""

import json

import datumaro as dm
import numpy as np
import pytest
from PIL import Image

from engine.errors import StudioError
from engine.tasks import get_task
from tests.conftest import read

LABELS = ["cat", "dog", "car"]


def _image(seed: int, h: int = 40, w: int = 48) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def _boxes_of(i: int) -> list[tuple[int, list[float]]]:
    """1-3 boxes per image, classes cycling so every class has objects."""
    return [((i + k) % 3, [4.0 + 6 * k, 5.0 + 4 * k, 14.0, 12.0]) for k in range(1 + i % 3)]


def _mask_of(i: int, h: int = 40, w: int = 48) -> np.ndarray:
    """Background (0) with two rectangles of classes 1 and 2 (in VOC/Cityscapes order)."""
    mask = np.zeros((h, w), np.uint8)
    mask[5 : 15 + i, 5:20] = 1 + i % 2
    mask[20:35, 25 : 40 - i] = 2 - i % 2
    return mask


def _detection_dataset(n: int = 9, subsets=("train", "val", "test")) -> dm.Dataset:
    items = []
    for i in range(n):
        anns = [dm.Bbox(*box, label=cls) for cls, box in _boxes_of(i)]
        items.append(
            dm.DatasetItem(
                id=f"img{i}", subset=subsets[i % len(subsets)], media=dm.Image.from_numpy(_image(i)), annotations=anns
            )
        )
    return dm.Dataset.from_iterable(items, categories=LABELS)


def _segmentation_dataset(labels, n: int = 9, subsets=("train", "val", "test")) -> dm.Dataset:
    items = []
    for i in range(n):
        mask = _mask_of(i)
        anns = [dm.Mask(image=mask == c, label=int(c)) for c in np.unique(mask)]
        items.append(
            dm.DatasetItem(
                id=f"img{i}", subset=subsets[i % len(subsets)], media=dm.Image.from_numpy(_image(i)), annotations=anns
            )
        )
    return dm.Dataset.from_iterable(items, categories=labels)


def _targets(result):
    spec = get_task(result.task)
    return {item.id: spec.extract_target(item, result.labels)[0] for item in result.dataset}


def _assert_detection(result, fmt):
    assert (result.task, result.format) == ("detection", fmt)
    assert [n for n in result.labels if n != "background"] == LABELS  # VOC adds an (empty) background class
    targets = _targets(result)
    assert len(targets) == 9
    for i in range(9):
        target = targets[f"img{i}"]
        assert sorted(result.labels[c] for c in target["labels"]) == sorted(LABELS[c] for c, _ in _boxes_of(i))
        expected = sorted([x, y, x + w, y + h] for _, (x, y, w, h) in _boxes_of(i))
        np.testing.assert_allclose(sorted(target["boxes"].tolist()), expected, atol=0.6)


@pytest.mark.parametrize("fmt", ["coco_instances", "yolo", "voc_detection"])
def test_detection_formats_roundtrip(tmp_path, fmt):
    _detection_dataset().export(str(tmp_path / fmt), fmt, save_media=True)
    result = read(tmp_path / fmt, task="detection")
    _assert_detection(result, fmt)
    assert {s: len(result.dataset.get_subset(s)) for s in result.dataset.subsets()} == {"train": 3, "val": 3, "test": 3}


def test_coco_task_is_inferred_from_boxes(tmp_path):
    _detection_dataset().export(str(tmp_path / "coco"), "coco_instances", save_media=True)
    _assert_detection(read(tmp_path / "coco"), "coco_instances")


def test_coco_without_splits_gets_split(tmp_path):
    _detection_dataset(n=20, subsets=("default",)).export(str(tmp_path / "coco"), "coco_instances", save_media=True)
    result = read(tmp_path / "coco", task="detection")
    sizes = {s: len(result.dataset.get_subset(s)) for s in result.dataset.subsets()}
    assert sum(sizes.values()) == 20 and sizes["val"] >= 2 and sizes["test"] >= 2


def test_malformed_coco_names_the_file(tmp_path):
    _detection_dataset().export(str(tmp_path / "coco"), "coco_instances", save_media=True)
    bad = tmp_path / "coco" / "annotations" / "instances_val.json"
    bad.write_text(bad.read_text()[:-40])  # truncated JSON
    with pytest.raises(StudioError, match=r"instances_val\.json"):
        read(tmp_path / "coco", task="detection")


def test_coco_annotation_with_unknown_image_names_the_file(tmp_path):
    _detection_dataset().export(str(tmp_path / "coco"), "coco_instances", save_media=True)
    path = tmp_path / "coco" / "annotations" / "instances_train.json"
    data = json.loads(path.read_text())
    data["annotations"][0]["bbox"] = "not a box"
    path.write_text(json.dumps(data))
    with pytest.raises(StudioError, match=r"instances_train\.json"):
        read(tmp_path / "coco", task="detection")


def _voc_both(tmp_path):
    """One VOC folder with boxes and class masks: Datumaro matches several VOC flavours."""
    voc_labels = ["background", *LABELS]
    items = []
    for i in range(9):
        mask = _mask_of(i)
        anns = [dm.Bbox(*box, label=cls + 1) for cls, box in _boxes_of(i)]
        anns += [dm.Mask(image=mask == c, label=int(c)) for c in np.unique(mask)]
        items.append(
            dm.DatasetItem(
                id=f"img{i}",
                subset=("train", "val", "test")[i % 3],
                media=dm.Image.from_numpy(_image(i)),
                annotations=anns,
            )
        )
    dm.Dataset.from_iterable(items, categories=voc_labels).export(str(tmp_path / "voc"), "voc", save_media=True)
    return tmp_path / "voc"


def test_ambiguous_voc_is_resolved_by_task(tmp_path):
    root = _voc_both(tmp_path)
    # no task given: the flavour most images are annotated for (here all, every flavour: the most specific)
    assert read(root).format == "voc_instance_segmentation"
    for extra in (root / "SegmentationObject").glob("img[0-4].png"):  # masks on fewer images than boxes
        extra.unlink()
    assert read(root).format == "voc_detection"
    det = read(root, task="detection")
    assert det.format == "voc_detection"
    assert all(len(t["boxes"]) == 1 + int(i[3:]) % 3 for i, t in _targets(det).items())
    seg = read(root, task="segmentation")
    assert seg.format == "voc_segmentation"
    targets = _targets(seg)
    names = seg.labels
    for i in range(9):
        mask = targets[f"img{i}"]
        expected = _mask_of(i)
        for c in np.unique(expected):
            assert (mask[expected == c] == names.index(["background", *LABELS][c])).mean() > 0.99


def _write_css(root, with_subsets: bool):
    labels = ["background", "road", "car"]
    meta = {
        "label_map": {str(i): n for i, n in enumerate(labels)},
        "segmentation_colors": [[0, 0, 0], [128, 64, 128], [0, 0, 142]],
    }
    palette = np.array(meta["segmentation_colors"], np.uint8)
    for i in range(9):
        folder = root / ("train", "val", "test")[i % 3] if with_subsets else root
        (folder / "images").mkdir(parents=True, exist_ok=True)
        (folder / "masks").mkdir(parents=True, exist_ok=True)
        (folder / "dataset_meta.json").write_text(json.dumps(meta))
        Image.fromarray(_image(i)).save(folder / "images" / f"img{i}.png")
        Image.fromarray(palette[_mask_of(i)]).save(folder / "masks" / f"img{i}.png")
    return labels


@pytest.mark.parametrize("with_subsets", [True, False])
def test_common_semantic_segmentation(tmp_path, with_subsets):
    labels = _write_css(tmp_path / "css", with_subsets)
    result = read(tmp_path / "css")  # task inferred from the masks
    expected_fmt = "common_semantic_segmentation" + ("_with_subset_dirs" if with_subsets else "")
    assert (result.task, result.format, result.labels) == ("segmentation", expected_fmt, labels)
    for item_id, mask in _targets(result).items():
        np.testing.assert_array_equal(mask, _mask_of(int(item_id.rsplit("img", 1)[1])))
    assert len(result.dataset) == 9


def test_cityscapes(tmp_path):
    from datumaro.plugins.data_formats.cityscapes import make_cityscapes_categories

    categories = make_cityscapes_categories()
    names = [c.name for c in categories[dm.AnnotationType.label].items]
    road, car = names.index("road"), names.index("car")
    items = []
    for i in range(6):
        mask = np.full((40, 48), road, np.uint8)
        mask[10:30, 10 : 30 + i] = car
        anns = [dm.Mask(image=mask == c, label=int(c)) for c in np.unique(mask)]
        items.append(
            dm.DatasetItem(
                id=f"city_{i:06d}_000019",
                subset=("train", "val")[i % 2],
                media=dm.Image.from_numpy(_image(i)),
                annotations=anns,
            )
        )
    dm.Dataset.from_iterable(items, categories=categories).export(str(tmp_path / "cs"), "cityscapes", save_media=True)
    result = read(tmp_path / "cs", task="segmentation")
    assert (result.task, result.format) == ("segmentation", "cityscapes")
    masks = _targets(result)
    assert len(masks) == 6
    for mask in masks.values():
        assert set(np.unique(mask)) == {result.labels.index("road"), result.labels.index("car")}
    assert "test" in result.dataset.subsets()  # missing split carved out


def test_segmentation_mask_of_wrong_size_is_skipped_with_a_problem(tmp_path):
    _write_css(tmp_path / "css", with_subsets=False)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "css" / "masks" / "img3.png")
    result = read(tmp_path / "css")
    assert len(result.dataset) == 8
    assert any(p["kind"] == "mask size" and "img3" in p["file"] for p in result.problems)


def test_detection_stats_in_info(tmp_path):
    from engine.data.stored import summarize

    _detection_dataset().export(str(tmp_path / "coco"), "coco_instances", save_media=True)
    result = read(tmp_path / "coco")
    info = summarize(result, get_task(result.task))
    total = sum(len(_boxes_of(i)) for i in range(9))
    assert sum(sum(s["per_class"].values()) for s in info["splits"].values()) == total
    assert info["boxes_per_image"]["histogram"] == {"1": 3, "2": 3, "3": 3}
    assert sum(info["box_size_buckets"].values()) == total


def test_yolo_boxes_beyond_the_image_are_clipped_and_reported(tmp_path):
    """YOLO coordinates above 1 reach outside the image: the box is cut to it and the user is told which."""
    _detection_dataset().export(str(tmp_path / "yolo"), "yolo", save_media=True)
    label_file = next(p for p in sorted((tmp_path / "yolo").rglob("img0.txt")))
    cls, *_ = label_file.read_text().split()
    label_file.write_text(f"{cls} 0.9 0.5 0.6 0.4\n")  # x from 0.6 to 1.2 of the width
    result = read(tmp_path / "yolo", task="detection")
    clipped = [p for p in result.problems if p["kind"] == "box clipped"]
    assert len(clipped) == 1 and clipped[0]["file"].endswith("img0.jpg") and clipped[0]["action"] == "kept"
    assert "reaches outside the 48x40 image" in clipped[0]["message"]
    box = _targets(result)["img0"]["boxes"][0]
    assert box[2] == pytest.approx(48)  # cut at the right edge


def test_a_zip_inside_the_folder_is_named_not_a_staging_folder(tmp_path):
    import zipfile

    folder = tmp_path / "upload"
    folder.mkdir()
    _detection_dataset().export(str(tmp_path / "coco"), "coco_instances", save_media=True)
    with zipfile.ZipFile(folder / "mydata.zip", "w") as zf:
        for path in (tmp_path / "coco").rglob("*"):
            zf.write(path, path.relative_to(tmp_path / "coco"))
    (folder / "notes.txt").write_text("the dataset is in the zip")
    with pytest.raises(StudioError) as info:
        read(folder)
    message = str(info.value)
    assert message.startswith(str(folder)) and "studio-staged" not in message
    assert "it holds mydata.zip: import the zip itself" in message


def test_a_dataset_whose_every_box_is_degenerate_says_so_not_that_classes_are_missing(tmp_path):
    """Every box under one pixel wide: the message names the dropped boxes, not "add images of other classes"."""
    items = [
        dm.DatasetItem(
            id=f"img{i}", subset="train", media=dm.Image.from_numpy(_image(i)),
            annotations=[dm.Bbox(10.0, 10.0, 0.5, 0.5, label=i % 3)],
        )
        for i in range(6)
    ]  # fmt: skip
    dm.Dataset.from_iterable(items, categories=LABELS).export(str(tmp_path / "voc"), "voc_detection", save_media=True)
    with pytest.raises(StudioError) as info:
        read(tmp_path / "voc", task="detection")
    message = str(info.value)
    assert message.startswith("no usable objects in the dataset: 6 image(s) had theirs dropped")
    assert "is empty or outside the image" in message and "add images of other classes" not in message
