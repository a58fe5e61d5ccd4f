"""Valid datasets Datumaro alone refuses, and broken ones whose message must name the broken file."""

from __future__ import annotations

import datumaro as dm
import numpy as np
import pytest
from PIL import Image

from engine.errors import StudioError
from tests.conftest import read
from tests.test_import_formats import _detection_dataset, _voc_both, _write_css


def _png(path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(path)


def _classes(root, names=("a", "b"), splits=(None,), per=4, skip=()) -> None:
    seed = 0
    for split in splits:
        for name in names:
            if (split, name) in skip:
                continue
            for i in range(per):
                seed += 1
                _png((root / split if split else root) / name / f"{i}.png", seed)


def test_one_letter_class_folders_import(tmp_path):
    _classes(tmp_path / "d", ("a", "b", "c"))
    result = read(tmp_path / "d")
    assert result.labels == ["a", "b", "c"] and len(result.dataset) == 12


def test_a_class_without_val_images_imports_with_every_class(tmp_path):
    _classes(tmp_path / "d", ("cat", "dog", "emu"), splits=("train", "val", "test"), skip={("val", "emu")})
    result = read(tmp_path / "d")
    assert result.labels == ["cat", "dog", "emu"]
    by_split = {s: len(result.dataset.get_subset(s)) for s in result.dataset.subsets()}
    assert by_split == {"train": 12, "val": 8, "test": 12}
    emu = result.labels.index("emu")  # the re-indexed labels still point at the right folder
    train_emus = [i for i in result.dataset.get_subset("train") if i.annotations[0].label == emu]
    assert len(train_emus) == 4 and all("emu" in i.media.path for i in train_emus)


def test_a_gif_is_converted_and_other_files_are_listed(tmp_path):
    root = tmp_path / "d"
    _classes(root, ("cat", "dog"))
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(root / "cat" / "anim.gif")
    (root / "dog" / "notes.txt").write_text("not an image")
    result = read(root)
    assert len(result.dataset) == 9  # 8 PNGs and the GIF
    kinds = {(p["kind"], p["action"]): p["file"] for p in result.problems}
    assert kinds[("converted", "converted")] == str(root / "cat" / "anim.gif")
    assert kinds[("not an image", "skipped")] == str(root / "dog" / "notes.txt")


def test_a_decompression_bomb_is_listed_and_skipped(tmp_path):
    root = tmp_path / "d"
    _classes(root, ("cat", "dog"))
    Image.new("1", (14000, 14000)).save(root / "cat" / "huge.png")  # 196 MP in 24 KB
    result = read(root)
    assert len(result.dataset) == 8
    (bomb,) = [p for p in result.problems if p["file"].endswith("huge.png")]
    assert bomb["action"] == "skipped" and "decompression bomb" in bomb["message"]


def test_boxes_outside_the_image_are_reported_and_the_image_kept(tmp_path):
    ds = _detection_dataset()
    item = next(iter(ds))
    bad = [*item.annotations, dm.Bbox(500, 500, 10, 10, label=0), dm.Bbox(3, 3, 0, 5, label=1)]
    ds.put(item.wrap(annotations=bad))
    ds.export(str(tmp_path / "coco"), "coco_instances", save_media=True)
    result = read(tmp_path / "coco", task="detection")
    (problem,) = [p for p in result.problems if p["kind"] == "bad box"]
    assert problem["action"] == "kept" and problem["message"].startswith("2 boxes dropped")
    assert problem["file"].endswith(f"{item.id}.jpg")
    assert len(result.dataset) == 9


def test_malformed_voc_xml_names_its_file(tmp_path):
    root = _voc_both(tmp_path)
    xml = root / "Annotations" / "img4.xml"
    xml.write_text(xml.read_text()[:100])
    with pytest.raises(StudioError, match=r"in .*Annotations/img4\.xml\)"):
        read(root, task="detection")


def test_an_off_palette_mask_colour_names_the_file_and_the_colour(tmp_path):
    _write_css(tmp_path / "css", with_subsets=True)
    mask = tmp_path / "css" / "val" / "masks" / "img1.png"
    pixels = np.array(Image.open(mask))
    pixels[:3, :3] = (7, 7, 7)
    Image.fromarray(pixels).save(mask)
    with pytest.raises(StudioError, match=r"val/masks/img1\.png, colour \(7, 7, 7\) is not in dataset_meta\.json"):
        read(tmp_path / "css")
