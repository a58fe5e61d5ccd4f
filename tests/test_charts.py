"""The pure chart builders: which fields they encode and which data they carry (not just that they build)."""

import pandas as pd

from ui import charts


def _spec(chart) -> dict:
    return chart.to_dict()


def _data(spec: dict) -> list[dict]:
    return next(iter(spec["datasets"].values()))


def test_pareto_front_keeps_only_undominated_configurations():
    rows = pd.DataFrame(
        {
            "config": ["torch", "fp32", "int8", "slow-and-worse", "tie"],
            "latency_ms": [2.5, 0.6, 0.55, 3.0, 0.55],
            "accuracy": [0.98, 0.98, 0.97, 0.90, 0.97],
        }
    )
    front = charts.pareto_front(rows)
    assert list(rows.loc[front, "config"]) == ["fp32", "int8", "tie"]


def test_training_curves_melt_both_losses_into_one_field():
    epochs = pd.DataFrame({"epoch": [1, 2], "train_loss": [1.2, 0.8], "val_loss": [1.1, 0.9]})
    spec = _spec(charts.training_curves(epochs))
    assert spec["encoding"]["x"]["field"] == "epoch" and spec["encoding"]["y"]["field"] == "loss"
    assert spec["encoding"]["color"]["field"] == "curve"
    assert sorted((d["curve"], d["epoch"], d["loss"]) for d in _data(spec)) == [
        ("train_loss", 1, 1.2), ("train_loss", 2, 0.8), ("val_loss", 1, 1.1), ("val_loss", 2, 0.9),
    ]  # fmt: skip


def test_metric_curve_plots_the_named_metric_on_0_to_1():
    spec = _spec(charts.metric_curve(pd.DataFrame({"epoch": [1, 2], "map_50": [0.2, 0.4]}), "map_50"))
    assert spec["encoding"]["y"]["field"] == "map_50" and spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["title"] == "Validation map_50"


def test_class_distribution_names_what_it_counts():
    counts = pd.DataFrame({"class": ["a", "b"], "split": ["train", "train"], "images": [3, 5]})
    spec = _spec(charts.class_distribution(counts, "objects"))
    assert spec["title"] == "Objects per class and split" and spec["encoding"]["y"]["title"] == "objects"
    assert spec["encoding"]["xOffset"]["field"] == "split"


def test_task_statistics_charts_from_their_spec():
    bars = _spec(charts.from_spec({"kind": "bars", "title": "Boxes per image", "x": "boxes", "y": "images",
                                   "rows": [{"boxes": 1, "images": 4}, {"boxes": 2, "images": 1}]}))  # fmt: skip
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["x"]["field"] == "boxes"
    assert _data(bars) == [{"boxes": 1, "images": 4}, {"boxes": 2, "images": 1}]
    sizes = _spec(charts.from_spec({"kind": "sizes", "title": "Box sizes (px)", "x": "width", "y": "height",
                                    "rows": [{"width": 10, "height": 20}]}))  # fmt: skip
    assert sizes["mark"]["type"] == "circle" and sizes["title"] == "Box sizes (px)"


def test_benchmark_charts_encode_latency_throughput_and_the_front():
    rows = pd.DataFrame({"config": ["a", "b"], "latency_ms": [1.0, 2.0], "accuracy": [0.9, 0.95], "fps": [900, 450]})
    rows["pareto"] = charts.pareto_front(rows)
    layered = _spec(charts.accuracy_vs_latency(rows))
    marks = [layer["mark"]["type"] for layer in layered["layer"]]
    assert marks == ["circle", "line", "text"]  # points, the front, labels of the front
    assert layered["layer"][0]["encoding"]["x"]["field"] == "latency_ms"
    assert [d["pareto"] for d in _data(layered)] == [True, True]
    bars = _spec(charts.throughput_bars(rows))
    assert bars["encoding"]["x"]["field"] == "fps" and bars["encoding"]["y"]["field"] == "config"
    box = _spec(charts.latency_distribution(pd.DataFrame({"config": ["a"] * 3, "latency_ms": [1.0, 1.1, 0.9]})))
    assert box["mark"]["type"] == "boxplot" and box["encoding"]["x"]["field"] == "latency_ms"
