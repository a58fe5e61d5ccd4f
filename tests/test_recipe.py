"""The classification training recipe: augmentation policies, class balancing (sampler or weighted loss),
``--balance auto`` decided by the train split's class sizes, and all of it recorded in the run."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import torch

import engine
from engine.errors import StudioError
from engine.tasks import get_task
from engine.tasks.classification.data import ClassificationDataset, train_transform
from engine.tasks.classification.sample import SampleConfig, generate
from engine.training.config import TrainConfig, auto_balance
from engine.training.loop import make_loader
from tests.conftest import last_json, run_cli


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory):
    """4 classes, train 40 : 4 : 4 : 4 (10:1), val and test balanced."""
    out = tmp_path_factory.mktemp("imbalanced") / "data"
    generate(out, SampleConfig(seed=3, per_class=(("train", 40), ("val", 6), ("test", 6))))
    for folder in sorted((out / "train").iterdir())[1:]:
        for image in sorted(folder.iterdir())[4:]:
            image.unlink()
    return out


def _samples(folder):
    classes = sorted(p.name for p in (folder / "train").iterdir())
    return [(str(p), i) for i, c in enumerate(classes) for p in sorted((folder / "train" / c).iterdir())]


def test_auto_balance_follows_the_class_sizes():
    assert auto_balance({"a": 40, "b": 4})[0] == "sampler"
    assert "10.0x" in auto_balance({"a": 40, "b": 4})[1]
    assert auto_balance({"a": 40, "b": 20, "c": 0})[0] == "none"  # 2x; an empty class is not a class size
    assert auto_balance({"a": 40})[0] == "none" and auto_balance(None)[0] == "none"
    # the sampler draws from one process: a distributed fit weighs the loss instead, and says so
    assert auto_balance({"a": 40, "b": 4}, processes=2)[0] == "loss"
    assert "2 processes" in auto_balance({"a": 40, "b": 4}, processes=2)[1]
    assert auto_balance({"a": 40, "b": 20}, processes=2)[0] == "none"
    info = {"splits": {"train": {"per_class": {"a": 30, "b": 5}}}}
    config = TrainConfig(task="classification", balance="auto").resolved(info)
    assert config.balance == "sampler" and config.chosen["balance"].startswith("auto: the largest")
    assert TrainConfig(task="classification", balance="auto", nproc=2).resolved(info).balance == "loss"
    assert TrainConfig(task="classification", balance="loss").resolved(info).balance == "loss"  # given wins


def test_recipe_settings_are_checked_per_task():
    with pytest.raises(StudioError, match="detection training has no augment 'trivial'; valid: basic"):
        TrainConfig(task="detection", augment="trivial").resolved()
    with pytest.raises(StudioError, match="classification training has no balance 'smote'; valid: none, sampler"):
        TrainConfig(task="classification", balance="smote").resolved()
    with pytest.raises(StudioError, match="with --nproc > 1 use --balance loss"):
        TrainConfig(task="classification", balance="sampler", nproc=2, batch_size=32).resolved()
    old = TrainConfig(task="classification").resolved().to_dict()
    del old["augment"], old["balance"]
    resumed = TrainConfig.from_dict(old)  # a run saved before the settings existed resumes as it trained
    assert (resumed.augment, resumed.balance) == ("basic", "none")


def test_the_balanced_sampler_draws_every_class_about_equally(imbalanced):
    samples = _samples(imbalanced)
    assert Counter(t for _, t in samples) == {0: 40, 1: 4, 2: 4, 3: 4}
    task = get_task("classification")
    drawn = Counter()
    for balance, tally in (("sampler", drawn), ("none", plain := Counter())):
        loader = make_loader(task, samples, 32, 8, generator=torch.Generator().manual_seed(0), balance=balance)
        for _ in range(10):
            for _, targets in loader:
                tally.update(targets.tolist())
    assert sum(drawn.values()) == sum(plain.values())  # as many draws per epoch as images
    assert plain[0] / sum(plain.values()) > 0.7  # 40 of 52 images
    assert all(0.15 < drawn[c] / sum(drawn.values()) < 0.35 for c in range(4)), drawn


def test_the_trivial_policy_changes_images_differently_each_time(imbalanced):
    samples = _samples(imbalanced)[:1]
    dataset = ClassificationDataset(samples, 48, train=True, augment="trivial")
    torch.manual_seed(0)
    views = [dataset[0][0] for _ in range(6)]
    assert all(v.shape == (3, 48, 48) and v.dtype == torch.float32 for v in views)
    assert len({round(float(v.sum()), 3) for v in views}) == 6
    policies = {type(t).__name__ for t in train_transform("trivial", 48).transforms}
    assert {"RandomResizedCrop", "TrivialAugmentWide", "RandomErasing"} <= policies
    assert "TrivialAugmentWide" not in {type(t).__name__ for t in train_transform("basic", 48).transforms}


def test_the_weighted_loss_weighs_a_small_class_more():
    task = get_task("classification")
    logits = torch.zeros(2, 2, requires_grad=False)
    targets = torch.tensor([0, 1])
    weight = torch.tensor([52 / (2 * 40), 52 / (2 * 12)])

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x

    plain = task.train_loss(Fixed(), logits, targets)
    weighted = task.train_loss(Fixed(), logits, targets, weight=weight)
    assert plain.item() == pytest.approx(weighted.item())  # uniform logits: every class loses log 2 alike
    skewed = torch.tensor([[2.0, 0.0], [2.0, 0.0]])  # the small class 1 is wrong: weighted, that costs more
    assert task.train_loss(Fixed(), skewed, targets, weight=weight) > task.train_loss(Fixed(), skewed, targets)


@pytest.mark.e2e
def test_train_records_the_recipe_and_auto_picks_the_sampler(imbalanced, tmp_path):
    ws = tmp_path / "ws"
    data = tmp_path / "data"
    shutil.copytree(imbalanced, data)
    dataset = last_json(run_cli("data", "import", str(data), "--json", workspace=ws))["dataset"]
    common = ("train", "--dataset", str(dataset), "--epochs", "1", "--img-size", "32", "--batch-size", "8")
    auto = last_json(run_cli(*common, "--augment", "trivial", "--json", workspace=ws))
    weighted = last_json(run_cli(*common, "--balance", "loss", "--json", workspace=ws))
    shown = {r: engine.show_run(r, workspace=ws)["config"] for r in (auto["run"], weighted["run"])}
    assert shown[auto["run"]]["augment"] == "trivial" and shown[auto["run"]]["balance"] == "sampler"
    assert shown[auto["run"]]["chosen"]["balance"].startswith("auto: the largest train class has 10.0x")
    assert shown[weighted["run"]]["balance"] == "loss" and shown[weighted["run"]]["augment"] == "basic"
    bad = run_cli(*common, "--balance", "sampler", "--nproc", "2", workspace=ws, check=False)
    assert bad.returncode == 2 and bad.stderr.count("error:") == 1 and "--balance loss" in bad.stderr
