"""Training settings: task defaults fill what is unset, every bad value is refused with a fix (no training)."""

from __future__ import annotations

import pytest

from engine.errors import StudioError
from engine.tasks import TASKS
from engine.training.config import TrainConfig


@pytest.mark.parametrize("task", list(TASKS))
def test_unset_settings_take_the_tasks_defaults(task):
    config = TrainConfig(task=task).resolved()
    spec = TASKS[task]
    assert config.model == spec.default_arch
    for key, value in spec.train_defaults.items():
        assert getattr(config, key) == value


def test_given_settings_win_over_the_defaults():
    config = TrainConfig(task="classification", epochs=3, img_size=96, model="resnet18").resolved()
    assert (config.epochs, config.img_size, config.model, config.batch_size) == (3, 96, "resnet18", 32)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("epochs", 0),
        ("epochs", -1),
        ("batch_size", 1),
        ("img_size", 16),
        ("img_size", 5000),
        ("lr", 0.0),
        ("lr", 1.5),
        ("patience", 0),
        ("max_steps", -2),
    ],
)
def test_bad_values_are_refused_naming_the_setting(setting, value):
    with pytest.raises(StudioError, match=f"invalid training setting {setting}={value}"):
        TrainConfig(task="classification", **{setting: value}).resolved()


def test_unknown_model_and_task_list_the_valid_ones():
    with pytest.raises(StudioError, match="unknown classification model 'vgg99'; valid: mobilenet_v3_small"):
        TrainConfig(task="classification", model="vgg99").resolved()
    with pytest.raises(StudioError, match=f"unknown task 'pose'; valid: {', '.join(TASKS)}"):
        TrainConfig(task="pose").resolved()


def test_config_roundtrips_and_ignores_unknown_keys():
    config = TrainConfig(task="detection", epochs=2).resolved()
    assert TrainConfig.from_dict({**config.to_dict(), "from_an_older_version": 1}) == config


def test_a_dataset_trains_only_its_own_task(tiny_imagenet, workspace):
    import engine

    dataset = engine.import_dataset(str(tiny_imagenet))["dataset"]
    with pytest.raises(StudioError, match="classification dataset; it cannot train a detection model"):
        engine.train(dataset, task="detection")
    with pytest.raises(StudioError, match="invalid training setting epochs=0"):
        engine.train(dataset, epochs=0)
    assert engine.list_runs() == []  # refused before a run was created


def test_resume_needs_last_pt_and_never_starts_over(tiny_imagenet, workspace):
    import engine
    from engine.store.db import Database

    dataset = engine.import_dataset(str(tiny_imagenet))["dataset"]
    run = engine.train(dataset, epochs=2, max_steps=1, img_size=32, batch_size=8)["run"]
    last = workspace / "runs" / str(run) / "checkpoints" / "last.pt"
    best = last.with_name("best.pt")
    assert last.is_file() and best.is_file()
    Database(workspace / "studio.db").update_run(run, status="cancelled")  # as a cancel leaves it
    last.unlink()
    before = best.read_bytes()
    with pytest.raises(StudioError, match=f"run {run} has no checkpoints/last.pt to resume from"):
        engine.train(resume=run)
    assert best.read_bytes() == before  # the trained model is untouched

    for bad in ({"seconds": -3.0}, {"warmup": -1}):  # refused before anything is measured or stored
        with pytest.raises(StudioError, match="--seconds and --warmup cannot be negative"):
            engine.benchmark(run, **bad)
    assert engine.show_run(run)["benchmarks"] == []
