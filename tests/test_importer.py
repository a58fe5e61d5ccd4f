import shutil

import datumaro as dm
import pytest

from engine.data.importer import detect_format
from engine.errors import StudioError
from engine.tasks import TASKS, get_task
from tests.conftest import read


def _split_sizes(result):
    return {s: len(result.dataset.get_subset(s)) for s in result.dataset.subsets()}


def test_imagenet_with_subset_dirs(tiny_imagenet):
    result = read(tiny_imagenet)
    assert (result.task, result.format) == ("classification", "imagenet_with_subset_dirs")
    assert result.labels == ["circle", "cross", "square", "triangle"]
    assert _split_sizes(result) == {"train": 80, "val": 24, "test": 32}
    assert result.problems == []


def test_imagenet_without_subsets_gets_a_stratified_split(tiny_imagenet):
    result = read(tiny_imagenet / "train", seed=0)
    assert result.format == "imagenet"
    assert _split_sizes(result) == {"train": 56, "val": 12, "test": 12}
    per_class = {}
    for item in result.dataset.get_subset("test"):
        per_class[item.annotations[0].label] = per_class.get(item.annotations[0].label, 0) + 1
    assert per_class == {0: 3, 1: 3, 2: 3, 3: 3}


def test_datumaro_format_roundtrip(tiny_imagenet, tmp_path):
    dm.Dataset.import_from(str(tiny_imagenet), "imagenet_with_subset_dirs").export(
        str(tmp_path / "dm"), "datumaro", save_media=True
    )
    result = read(tmp_path / "dm")
    assert result.format == "datumaro"
    assert _split_sizes(result) == {"train": 80, "val": 24, "test": 32}


def _voc_classification(root, tiny_imagenet):
    (root / "JPEGImages").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    classes = ["circle", "square"]
    (root / "labelmap.txt").write_text("# label:color_rgb:parts:actions\n" + "".join(f"{c}:0,0,0::\n" for c in classes))
    ids = {"train": [], "val": []}
    for split, src_split in (("train", "train"), ("val", "test")):
        for cls in classes:
            for path in sorted((tiny_imagenet / src_split / cls).glob("*.png"))[:6]:
                image_id = f"{split}_{path.stem}"
                shutil.copy(path, root / "JPEGImages" / f"{image_id}.png")
                ids[split].append((image_id, cls))
    for split, entries in ids.items():
        (root / "ImageSets" / "Main" / f"{split}.txt").write_text("\n".join(i for i, _ in entries) + "\n")
        for cls in classes:
            lines = [f"{i} {1 if c == cls else -1}" for i, c in entries]
            (root / "ImageSets" / "Main" / f"{cls}_{split}.txt").write_text("\n".join(lines) + "\n")


def test_voc_classification_is_picked_by_task(tiny_imagenet, tmp_path):
    _voc_classification(tmp_path / "voc", tiny_imagenet)
    assert detect_format(tmp_path / "voc", list(TASKS.values()), get_task("classification")) == "voc_classification"
    result = read(tmp_path / "voc", task="classification")
    assert result.format == "voc_classification"
    sizes = _split_sizes(result)
    assert sizes["val"] == 12 and sizes["train"] + sizes["test"] == 12  # test carved from train


def test_corrupt_images_are_listed_and_skipped(tiny_imagenet, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(tiny_imagenet, copy)
    bad = sorted((copy / "train" / "circle").glob("*.png"))
    bad[0].write_bytes(b"not an image at all")
    bad[1].write_bytes(bad[1].read_bytes()[:200])  # truncated PNG
    result = read(copy)
    corrupt = [p for p in result.problems if p["kind"] == "corrupt image"]
    assert sorted(p["file"] for p in corrupt) == sorted(str(p) for p in bad[:2])
    assert all(p["action"] == "skipped" for p in corrupt)
    assert _split_sizes(result)["train"] == 78


def test_split_overlap_keeps_the_test_copy(tiny_imagenet, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(tiny_imagenet, copy)
    leaked = sorted((copy / "test" / "cross").glob("*.png"))[0]
    shutil.copy(leaked, copy / "train" / "cross" / "leak.png")
    result = read(copy)
    dup = [p for p in result.problems if p["kind"] == "duplicate"]
    assert len(dup) == 1 and "split overlap" in dup[0]["message"] and dup[0]["file"].endswith("leak.png")
    assert _split_sizes(result)["train"] == 80


def test_bad_inputs_have_clear_messages(tiny_imagenet, tmp_path):
    with pytest.raises(StudioError, match="does not exist"):
        read(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StudioError, match="could not recognise a dataset format"):
        read(tmp_path / "empty")
    one = tmp_path / "one"
    shutil.copytree(tiny_imagenet / "train" / "circle", one / "circle")
    with pytest.raises(StudioError, match="at least 2 classes"):
        read(one)
    broken = tmp_path / "broken"
    for cls in ("cat", "dog"):
        (broken / cls).mkdir(parents=True)
        (broken / cls / "x.png").write_bytes(b"junk")
    with pytest.raises(StudioError, match="no usable images"):
        read(broken)
    with pytest.raises(StudioError, match="unknown dataset format 'nope'"):
        read(tiny_imagenet, fmt="nope")
