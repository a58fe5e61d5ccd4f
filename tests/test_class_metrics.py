"""Per-class precision and recall, balanced accuracy and macro F1 from a hand-made confusion, and the "keeps
accuracy" rule that a variant losing the minority class breaks even when top-1 barely moves."""

from __future__ import annotations

import pytest

from engine.tasks import get_task
from engine.tasks.classification.task import per_class_scores


def test_scores_from_a_hand_made_confusion():
    # rows: true class, columns: predicted. 90 "ok" (85 right, 5 called "defect"), 10 "defect" (6 right)
    scores = per_class_scores([[85, 5], [4, 6]], ["ok", "defect"])
    assert scores["per_class_recall"] == pytest.approx({"ok": 85 / 90, "defect": 6 / 10})
    assert scores["per_class_precision"] == pytest.approx({"ok": 85 / 89, "defect": 6 / 11})
    assert scores["balanced_accuracy"] == pytest.approx((85 / 90 + 6 / 10) / 2)
    f1_ok = 2 * (85 / 89) * (85 / 90) / (85 / 89 + 85 / 90)
    f1_defect = 2 * (6 / 11) * (6 / 10) / (6 / 11 + 6 / 10)
    assert scores["macro_f1"] == pytest.approx((f1_ok + f1_defect) / 2)


def test_a_class_without_images_is_left_out_and_one_never_predicted_has_precision_0():
    scores = per_class_scores([[5, 0, 0], [2, 0, 0], [0, 0, 0]], ["a", "b", "c"])
    assert set(scores["per_class_recall"]) == {"a", "b"}  # c has no images
    assert scores["per_class_precision"]["b"] == 0.0 and scores["per_class_recall"]["b"] == 0.0
    assert scores["balanced_accuracy"] == pytest.approx(0.5)


def _entry(confusion: list[list[int]], top1_drop_pp: float) -> dict:
    return {"drop_vs_torch_pp": top1_drop_pp, "metrics": per_class_scores(confusion, ["ok", "defect"])}


def test_a_variant_that_flips_the_minority_class_does_not_keep_accuracy():
    task = get_task("classification")
    # 1000 "ok" and 10 "defect" images: the variant calls 4 defects "ok" -> top-1 -0.4 pp (within 0.5 pp)
    original = _entry([[1000, 0], [1, 9]], 0.0)
    variant = _entry([[1000, 0], [5, 5]], 100 * 4 / 1010)
    kept, why = task.accuracy_kept(variant, original)
    assert not kept and why.startswith("balanced accuracy -20.0 pp")
    # the same top-1 drop spread over the majority class keeps it
    spread = _entry([[996, 4], [1, 9]], 100 * 4 / 1010)
    assert task.accuracy_kept(spread, original) == (True, "")
    # and a top-1 drop beyond 0.5 pp fails on top-1 first
    assert task.accuracy_kept(_entry([[990, 10], [1, 9]], 100 * 10 / 1010), original)[1].startswith("top-1 -")
