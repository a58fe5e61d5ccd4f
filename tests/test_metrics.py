import numpy as np
import pytest
import torch

from engine.benchmark.stats import latency_stats
from engine.tasks import get_task
from engine.tasks.classification.task import ClassificationMetrics


def test_top1_top5_per_class_and_confusion():
    labels = [f"c{i}" for i in range(6)]
    metrics = ClassificationMetrics(labels)
    scores = torch.eye(6)[[0, 1, 2, 3, 4, 0]]  # last sample (class 5) predicted as 0
    scores[5, 5] = 0.5  # ...but class 5 is its second choice
    metrics.update(scores, torch.arange(6))
    out = metrics.compute()
    assert out["top1"] == pytest.approx(5 / 6)
    assert out["top5"] == pytest.approx(1.0)
    assert out["per_class"]["c5"] == 0.0 and out["per_class"]["c0"] == 1.0
    assert out["confusion"][5][0] == 1


def test_top5_only_when_more_than_five_classes():
    metrics = ClassificationMetrics(["a", "b", "c"])
    metrics.update(torch.tensor([[0.1, 0.8, 0.1]]), torch.tensor([1]))
    assert "top5" not in metrics.compute()


def test_postprocess_softmax():
    pred = get_task("classification").postprocess([np.array([[1.0, 3.0, 0.0]], dtype=np.float32)], (8, 8), (8, 8))
    assert pred.label == 1
    assert pred.scores.sum() == pytest.approx(1.0)
    assert pred.score == pytest.approx(np.exp(3) / (np.exp(1) + np.exp(3) + 1))


def test_latency_stats_are_ordered():
    stats = latency_stats([5.0, 1.0, 3.0, 2.0, 100.0, 4.0])
    assert stats["min"] == 1.0 and stats["max"] == 100.0 and stats["median"] == 3.5
    assert stats["min"] <= stats["median"] <= stats["p90"] <= stats["p99"] <= stats["max"]
