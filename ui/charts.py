"""Chart builders: pure ``DataFrame -> alt.Chart`` functions (no Streamlit), so they are easy to test."""

from __future__ import annotations

import altair as alt
import pandas as pd

ACCENT = "#0068B5"  # Intel blue


def training_curves(epochs: pd.DataFrame) -> alt.Chart:
    """Train and validation loss per epoch."""
    long = epochs.melt(
        id_vars="epoch",
        value_vars=[c for c in ("train_loss", "val_loss") if c in epochs],
        var_name="curve",
        value_name="loss",
    )
    return (
        alt.Chart(long, title="Loss")
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y="loss:Q",
            color="curve:N",
            tooltip=["epoch", "curve", alt.Tooltip("loss:Q", format=".4f")],
        )
    )


def metric_curve(epochs: pd.DataFrame, metric: str) -> alt.Chart:
    return (
        alt.Chart(epochs, title=f"Validation {metric}")
        .mark_line(point=True, color=ACCENT)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y(f"{metric}:Q", scale=alt.Scale(domain=[0, 1])),
            tooltip=["epoch", alt.Tooltip(f"{metric}:Q", format=".3f")],
        )
    )


def class_distribution(counts: pd.DataFrame, unit: str = "images") -> alt.Chart:
    """``counts``: columns class, split, images (``unit`` names what was counted: images or objects)."""
    return (
        alt.Chart(counts, title=f"{unit.capitalize()} per class and split")
        .mark_bar()
        .encode(
            x=alt.X("class:N", sort="-y"),
            y=alt.Y("images:Q", title=unit),
            color="split:N",
            xOffset="split:N",
            tooltip=["class", "split", alt.Tooltip("images:Q", title=unit)],
        )
    )


def image_sizes(sizes: pd.DataFrame, title: str = "Image sizes (px)") -> alt.Chart:
    """``sizes``: columns width, height (one row per image, or per box)."""
    return (
        alt.Chart(sizes, title=title)
        .mark_circle(opacity=0.4, color=ACCENT)
        .encode(x="width:Q", y="height:Q", tooltip=["width", "height"])
    )


def bars(rows: pd.DataFrame, x: str, y: str, title: str) -> alt.Chart:
    """A plain bar chart of ``rows[y]`` per ``rows[x]``."""
    return (
        alt.Chart(rows, title=title)
        .mark_bar(color=ACCENT)
        .encode(x=alt.X(f"{x}:O"), y=alt.Y(f"{y}:Q"), tooltip=[x, alt.Tooltip(f"{y}:Q", format=".3")])
    )


def latency_distribution(samples: pd.DataFrame) -> alt.Chart:
    """``samples``: columns config, latency_ms (one row per request)."""
    return (
        alt.Chart(samples, title="Latency per request (ms, batch 1)")
        .mark_boxplot(extent="min-max", color=ACCENT)
        .encode(x=alt.X("latency_ms:Q", title="latency (ms)"), y=alt.Y("config:N", title=None))
    )


def throughput_bars(rows: pd.DataFrame) -> alt.Chart:
    """``rows``: columns config, fps."""
    return (
        alt.Chart(rows, title="Throughput (images/s)")
        .mark_bar(color=ACCENT)
        .encode(
            x=alt.X("fps:Q", title="images/s"),
            y=alt.Y("config:N", sort="-x", title=None),
            tooltip=["config", alt.Tooltip("fps:Q", format=".1f")],
        )
    )


def pareto_front(rows: pd.DataFrame, x: str = "latency_ms", y: str = "accuracy") -> pd.Series:
    """True for rows no other row beats on both lower ``x`` and higher ``y``."""
    flags = []
    for _, row in rows.iterrows():
        dominated = ((rows[x] <= row[x]) & (rows[y] >= row[y]) & ((rows[x] < row[x]) | (rows[y] > row[y]))).any()
        flags.append(not dominated)
    return pd.Series(flags, index=rows.index)


def accuracy_vs_latency(rows: pd.DataFrame) -> alt.Chart:
    """``rows``: config, latency_ms, accuracy, pareto (bool). The Pareto front is drawn as a line."""
    base = alt.Chart(rows, title="Accuracy vs latency (Pareto front in blue)")
    points = base.mark_circle(size=120).encode(
        x=alt.X("latency_ms:Q", title="median latency (ms)"),
        y=alt.Y("accuracy:Q", scale=alt.Scale(zero=False)),
        color=alt.condition("datum.pareto", alt.value(ACCENT), alt.value("#999999")),
        tooltip=["config", alt.Tooltip("latency_ms:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f")],
    )
    front = base.transform_filter("datum.pareto").mark_line(color=ACCENT).encode(x="latency_ms:Q", y="accuracy:Q")
    labels = (  # name the front only: dominated points crowd the plot and are in the table below
        base.transform_filter("datum.pareto")
        .mark_text(dy=-12, fontSize=11)
        .encode(x="latency_ms:Q", y="accuracy:Q", text="config:N")
    )
    return points + front + labels


def search_front(points: pd.DataFrame, floor: float | None, metric_name: str) -> alt.Chart:
    """``points``: label, variant, latency_ms, metric, front (bool). Every candidate variant as a point, the
    Pareto front as a line and the accuracy floor as a dashed rule: the pick is the leftmost point above it."""
    base = alt.Chart(points, title=f"{metric_name} vs batch-1 latency (on the reference's scale)")
    tooltip = ["label", "variant", alt.Tooltip("latency_ms:Q", format=".3f"), alt.Tooltip("metric:Q", format=".4f")]
    layers = [
        base.transform_filter("datum.front")
        .mark_line(color=ACCENT, strokeWidth=1.5)
        .encode(x="latency_ms:Q", y="metric:Q", order="latency_ms:Q"),
        base.mark_point(size=110, filled=True).encode(
            x=alt.X("latency_ms:Q", title="latency (ms, median of interleaved rounds)", scale=alt.Scale(zero=False)),
            y=alt.Y("metric:Q", title=metric_name, scale=alt.Scale(zero=False)),
            color=alt.Color("variant:N"),
            shape=alt.Shape("front:N", title="Pareto front"),
            tooltip=tooltip,
        ),
    ]
    if floor is not None:
        rule = pd.DataFrame({"floor": [floor]})
        layers.append(alt.Chart(rule).mark_rule(strokeDash=[6, 4], color="#C00000").encode(y="floor:Q"))
    return alt.layer(*layers)


def from_spec(chart: dict) -> alt.Chart:
    """A task's statistics chart (``{"kind": "bars" | "sizes", "title", "x", "y", "rows"}``) drawn."""
    rows = pd.DataFrame(chart["rows"], columns=[chart["x"], chart["y"]])
    if chart["kind"] == "sizes":
        return image_sizes(rows, title=chart["title"])
    return bars(rows, chart["x"], chart["y"], chart["title"])


def sensitivity_bars(groups: pd.DataFrame, metric_name: str) -> alt.Chart:
    """``groups``: label, recovered_pp (one row per quantizer group, most sensitive first): the metric points
    each group wins back on val when it alone stays in float."""
    return (
        alt.Chart(groups, title=f"val {metric_name} recovered with one group in float (pp)")
        .mark_bar(color=ACCENT)
        .encode(
            x=alt.X("recovered_pp:Q", title="points recovered vs INT8"),
            y=alt.Y("label:N", sort=None, title=None),
            tooltip=["label", alt.Tooltip("recovered_pp:Q", format=".2f", title="pp")],
        )
    )


def calibration_curve(rows: pd.DataFrame, fp32: float, metric_name: str) -> alt.Chart:
    """``rows``: size, metric (one per calibration size): INT8's val metric against the number of calibration
    images on a log axis, FP32's as a dashed rule (the axis starts where the data does, in points)."""
    points = rows.assign(points=100 * rows["metric"])
    line = (
        alt.Chart(points, title=f"INT8 val {metric_name} vs calibration images")
        .mark_line(point=True, color=ACCENT)
        .encode(
            x=alt.X("size:Q", scale=alt.Scale(type="log"), title="calibration images (log scale)"),
            y=alt.Y("points:Q", scale=alt.Scale(zero=False), title=f"{metric_name} (%)"),
            tooltip=["size", alt.Tooltip("points:Q", format=".2f", title=metric_name)],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"fp32": [100 * fp32]}))
        .mark_rule(strokeDash=[6, 4], color="#C00000")
        .encode(y="fp32:Q", tooltip=[alt.Tooltip("fp32:Q", format=".2f", title="FP32")])
    )
    return line + rule
