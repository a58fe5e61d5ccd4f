"""The default input size follows the data: its images' sizes (and, for detection, its boxes), within bounds."""

from __future__ import annotations

from engine.tasks import TASK_NAMES, get_task
from engine.training.config import TrainConfig


def _info(width: float, height: float, **extra) -> dict:
    spread = lambda v: {"min": v, "median": v, "max": v}  # noqa: E731
    return {"image_size": {"width": spread(width), "height": spread(height)}, **extra}


def test_larger_images_get_a_larger_default_size_within_the_bounds():
    task = get_task("classification")
    small, why_small = task.input_size(_info(48, 48))
    large, why_large = task.input_size(_info(256, 256))
    mid, _ = task.input_size(_info(300, 170))  # the shorter side decides, rounded down to a multiple of 32
    assert (small, large, mid) == (64, 224, 160)
    assert "lower bound" in why_small and "upper bound" in why_large


def test_every_task_has_bounds_and_a_reason_for_missing_sizes():
    for name in TASK_NAMES:
        task = get_task(name)
        lo, hi = task.size_bounds
        assert lo < hi and lo % 32 == 0 and hi % 32 == 0
        size, why = task.input_size({})
        assert size == lo and "no image sizes" in why


def test_detection_raises_the_size_until_small_boxes_stay_visible():
    task = get_task("detection")
    roomy, _ = task.input_size(_info(256, 256, box_sizes=[[80, 60]] * 5))
    tiny, why = task.input_size(_info(256, 256, box_sizes=[[8, 10]] * 5))
    assert roomy == 256
    assert tiny == 512 and "median box 8 px" in why  # 16 px at the input needs 512 px (the upper bound)


def test_the_run_records_each_default_it_took_and_why():
    config = TrainConfig(task="classification", epochs=3).resolved(_info(200, 180))
    assert config.img_size == 160
    assert "median image 180 px" in config.chosen["img_size"]
    assert set(config.chosen) == {"model", "batch_size", "img_size", "lr", "augment", "balance"}  # epochs was given
    assert TrainConfig.from_dict(config.to_dict()).chosen == config.chosen
    given = TrainConfig(task="classification", img_size=96).resolved(_info(200, 180))
    assert given.img_size == 96 and "img_size" not in given.chosen
