from collections import Counter

from engine.data.splits import assign_splits, canonical_subset


def test_no_subsets_gives_stratified_seeded_split():
    strata = [c for c in range(3) for _ in range(40)]
    splits = assign_splits([None] * len(strata), strata, seed=7)
    per = Counter(zip(splits, strata, strict=True))
    for cls in range(3):
        assert per[("val", cls)] == 6  # 15 % of 40
        assert per[("test", cls)] == 6
        assert per[("train", cls)] == 28
    assert splits == assign_splits([None] * len(strata), strata, seed=7)
    assert splits != assign_splits([None] * len(strata), strata, seed=8)


def test_existing_splits_are_kept_and_only_missing_ones_carved():
    subsets = ["train"] * 20 + ["validation"] * 5
    strata = [0, 1] * 10 + [0] * 5
    splits = assign_splits(subsets, strata, seed=0)
    assert splits[20:] == ["val"] * 5  # validation -> val, untouched
    # 15 % of each class total (15 and 10 images) -> 2 + 2 test images carved out of train
    assert Counter(splits[:20]) == {"train": 16, "test": 4}
    assert {strata[i] for i, s in enumerate(splits) if s == "test"} == {0, 1}


def test_tiny_class_keeps_a_training_image():
    splits = assign_splits([None] * 2, [0, 0], seed=0, fractions={"val": 0.5, "test": 0.5})
    assert "train" in splits


def test_subset_aliases():
    assert canonical_subset("Validation") == "val"
    assert canonical_subset("trainval") is None
