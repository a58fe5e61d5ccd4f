"""Data notes on import: imbalance, too few images, tiny or huge images, each with what the product does."""

from __future__ import annotations

from engine.data.notes import data_notes


def _info(per_class: dict, side: float) -> dict:
    spread = {"min": side, "median": side, "max": side}
    return {"splits": {"train": {"per_class": per_class}}, "image_size": {"width": spread, "height": spread}}


def test_an_imbalanced_dataset_of_tiny_images_with_a_rare_class():
    notes = {n["kind"]: n for n in data_notes(_info({"ok": 300, "defect": 12}, 28), (64, 224))}
    assert set(notes) == {"class imbalance", "few images", "tiny images"}
    assert notes["class imbalance"]["message"].startswith("25:1 in the train split ('ok' 300 images, 'defect' 12)")
    assert "recall" in notes["class imbalance"]["action"] and "sampling" not in notes["class imbalance"]["action"]
    sampled = data_notes(_info({"ok": 300, "defect": 12}, 28), (64, 224), ("none", "sampler"))[0]
    assert sampled["kind"] == "class imbalance" and "class-balanced sampling" in sampled["action"]
    assert notes["few images"]["message"] == "class 'defect' has 12 training images"
    assert "64 px" in notes["tiny images"]["action"]


def test_a_balanced_dataset_of_ordinary_images_has_no_notes_and_huge_ones_are_said():
    assert data_notes(_info({"a": 100, "b": 90}, 300), (64, 224)) == []
    [huge] = data_notes(_info({"a": 100, "b": 90}, 3000), (64, 224))
    assert huge["kind"] == "huge images" and "224 px at most" in huge["action"]
