import altair as alt
import pandas as pd

from ui import charts


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


def test_chart_builders_return_altair_charts_with_the_right_fields():
    epochs = pd.DataFrame({"epoch": [1, 2], "train_loss": [1.2, 0.8], "val_loss": [1.1, 0.9], "top1": [0.5, 0.8]})
    spec = charts.training_curves(epochs).to_dict()
    assert spec["encoding"]["x"]["field"] == "epoch" and spec["encoding"]["color"]["field"] == "curve"
    assert isinstance(charts.metric_curve(epochs, "top1"), alt.Chart)
    rows = pd.DataFrame({"config": ["a", "b"], "latency_ms": [1.0, 2.0], "accuracy": [0.9, 0.95], "fps": [900, 450]})
    rows["pareto"] = charts.pareto_front(rows)
    layered = charts.accuracy_vs_latency(rows).to_dict()
    assert len(layered["layer"]) == 3  # points, front line, labels
    assert charts.throughput_bars(rows).to_dict()["encoding"]["x"]["field"] == "fps"
