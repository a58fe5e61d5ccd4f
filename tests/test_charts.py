"""The pure chart builders: which fields they encode and which data they carry (not just that they build)."""

import pandas as pd

from engine import charts


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
    assert spec["encoding"]["color"]["field"] == "split"  # named for people, not by the event keys
    assert sorted((d["split"], d["epoch"], d["loss"]) for d in _data(spec)) == [
        ("train", 1, 1.2), ("train", 2, 0.8), ("val", 1, 1.1), ("val", 2, 0.9),
    ]  # fmt: skip


def test_epoch_axis_lists_whole_epochs_up_to_20_then_lets_vega_lite_pick():
    """A run past 20 epochs once raised a schema error on every Train-page poll (``values=None``)."""
    for n, listed in ((3, [1, 2, 3]), (60, None)):
        epochs = pd.DataFrame({"epoch": range(1, n + 1), "train_loss": 1.0, "val_loss": 1.0, "top1": 0.5})
        for chart in (charts.training_curves(epochs), charts.metric_curve(epochs, "top1", "top-1")):
            axis = _spec(chart)["encoding"]["x"]["axis"]
            assert axis.get("values") == listed and axis["format"] == "d"


def test_metric_curve_plots_the_named_metric_on_0_to_1():
    spec = _spec(charts.metric_curve(pd.DataFrame({"epoch": [1, 2], "map_50": [0.2, 0.4]}), "map_50", "mAP@0.5"))
    assert spec["encoding"]["y"]["field"] == "map_50" and spec["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert spec["title"] == "Validation mAP@0.5" and spec["encoding"]["y"]["title"] == "mAP@0.5"


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
    layered = _spec(charts.accuracy_vs_latency(rows, "top-1"))
    marks = [layer["mark"]["type"] for layer in layered["layer"]]
    assert marks == ["circle", "line", "text"]  # points, the front, labels of the front
    x, y = layered["layer"][0]["encoding"]["x"], layered["layer"][0]["encoding"]["y"]
    assert x["field"] == "latency_ms" and x["scale"]["type"] == "log"  # PyTorch cannot squash the IRs to 0
    assert y["field"] == "points" and y["title"] == "top-1 (%)"
    low, high = y["scale"]["domain"]  # 90-95 % on an axis at least 10 pp wide: a 5 pp gap looks like half of it
    assert high - low >= 10 and low <= 90 and high >= 95
    assert [d["pareto"] for d in _data(layered)] == [True, True]
    bars = _spec(charts.throughput_bars(rows))
    encoding = bars["layer"][0]["encoding"]
    assert encoding["x"]["field"] == "fps" and encoding["y"]["field"] == "config"
    assert encoding["x"]["scale"] == {"type": "log", "domain": [100.0, 2700.0]}  # bars from the decade below
    assert bars["layer"][1]["encoding"]["text"]["format"] == ",.0f"  # each bar labelled, rounded
    box = _spec(charts.latency_distribution(pd.DataFrame({"config": ["a"] * 3, "latency_ms": [1.0, 1.1, 0.9]})))
    assert box["mark"]["type"] == "boxplot" and box["encoding"]["x"]["field"] == "latency_ms"
    assert box["encoding"]["x"]["scale"]["type"] == "log"


def test_accuracy_axis_is_at_least_ten_points_wide_and_stays_within_0_100():
    assert charts.points_domain(pd.Series([85.0, 86.0])) == [80.5, 90.5]
    assert charts.points_domain(pd.Series([99.0, 99.5])) == [90.0, 100.0]  # pushed down from 100
    assert charts.points_domain(pd.Series([1.0, 2.0])) == [0.0, 10.0]
    assert charts.points_domain(pd.Series([20.0, 80.0])) == [20.0, 80.0]  # wide data keeps its own range
