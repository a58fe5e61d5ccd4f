import hashlib

import numpy as np
from PIL import Image

from engine.tasks.classification.sample import CLASSES, SampleConfig, generate


def _digest(folder):
    return hashlib.md5(b"".join(p.read_bytes() for p in sorted(folder.rglob("*.png")))).hexdigest()


def test_generator_is_deterministic_and_seeded(tmp_path):
    cfg = SampleConfig(seed=3, per_class=(("train", 3), ("test", 2)))
    counts = generate(tmp_path / "a", cfg)
    generate(tmp_path / "b", cfg)
    generate(tmp_path / "c", SampleConfig(seed=4, per_class=cfg.per_class))
    assert counts == {"train": 3 * len(CLASSES), "test": 2 * len(CLASSES)}
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_images_vary_in_size_and_are_not_separable_by_colour(tmp_path):
    generate(tmp_path, SampleConfig(seed=0, per_class=(("train", 25),)))
    sizes, means = set(), {c: [] for c in CLASSES}
    for cls in CLASSES:
        for path in (tmp_path / "train" / cls).glob("*.png"):
            arr = np.asarray(Image.open(path))
            assert 64 <= arr.shape[0] <= 96 and 64 <= arr.shape[1] <= 96
            sizes.add(arr.shape[:2])
            means[cls].append(arr.reshape(-1, 3).mean(0))
    assert len(sizes) > 10
    # mean colour carries no class signal: per-class average colours are close to each other
    centroids = np.stack([np.mean(v, axis=0) for v in means.values()])
    spread_within = np.mean([np.std(v, axis=0).mean() for v in means.values()])
    assert np.abs(centroids - centroids.mean(0)).max() < spread_within
