"""Chart builders: pure ``DataFrame -> alt.Chart`` functions (no Streamlit), so they are easy to test."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

ACCENT = "#0068B5"  # Intel blue

LABELS = {  # event keys as people read them (a task names its own metrics: ``Task.metric_name``)
    "train_loss": "train",
    "val_loss": "val",
    "images_per_s": "images/s",
    "epoch_s": "epoch time (s)",
    "eta_s": "time left (s)",
    "lr": "learning rate",
}


def label(key: str) -> str:
    """An event key as a label ("val_loss" -> "val"); unknown keys with spaces for underscores."""
    return LABELS.get(key, key.replace("_", " "))


def _epoch_axis(epochs: pd.DataFrame) -> alt.X:
    """Whole epochs only (a linear axis over 3 epochs would label 1, 1.5, 2 ...)."""
    ticks = sorted(int(e) for e in epochs["epoch"].unique())
    values = ticks if len(ticks) <= 20 else alt.Undefined  # past 20 epochs Vega-Lite picks the ticks
    return alt.X("epoch:Q", axis=alt.Axis(values=values, format="d", tickMinStep=1))


def training_curves(epochs: pd.DataFrame) -> alt.Chart:
    """Train and validation loss per epoch."""
    long = epochs.melt(
        id_vars="epoch",
        value_vars=[c for c in ("train_loss", "val_loss") if c in epochs],
        var_name="split",
        value_name="loss",
    )
    long["split"] = long["split"].map(label)
    return (
        alt.Chart(long, title="Loss per epoch")
        .mark_line(point=True)
        .encode(
            x=_epoch_axis(epochs),
            y=alt.Y("loss:Q", title="loss"),
            color=alt.Color("split:N", title=None),
            tooltip=["epoch", "split", alt.Tooltip("loss:Q", format=".3f")],
        )
    )


def metric_curve(epochs: pd.DataFrame, metric: str, name: str) -> alt.Chart:
    """Column ``metric`` per epoch, shown as ``name`` (the task's ``metric_name``: "top-1", "mAP@0.5" ...)."""
    return (
        alt.Chart(epochs, title=f"Validation {name}")
        .mark_line(point=True, color=ACCENT)
        .encode(
            x=_epoch_axis(epochs),
            y=alt.Y(f"{metric}:Q", title=name, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            tooltip=["epoch", alt.Tooltip(f"{metric}:Q", format=".1%", title=name)],
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


LOG = alt.Scale(type="log")  # PyTorch is often 10-100x an IR: on a linear axis every IR is a sliver at 0


def latency_distribution(samples: pd.DataFrame) -> alt.Chart:
    """``samples``: columns config, latency_ms (one row per request), on a log axis."""
    return (
        alt.Chart(samples, title="Latency per request (ms, batch 1, log scale)")
        .mark_boxplot(extent="min-max", color=ACCENT)
        .encode(
            x=alt.X("latency_ms:Q", title="latency (ms, log scale)", scale=LOG, axis=alt.Axis(format="~g")),
            y=alt.Y("config:N", title=None, axis=alt.Axis(labelLimit=320)),
        )
    )


def throughput_bars(rows: pd.DataFrame) -> alt.Chart:
    """``rows``: columns config, fps; a log axis (bars start at the decade below the slowest) and each bar
    labelled with its rounded value."""
    low = 10 ** math.floor(math.log10(max(float(rows["fps"].min()), 1e-3))) if len(rows) else 1.0
    high = float(rows["fps"].max()) * 3 if len(rows) else 10.0
    scale = alt.Scale(type="log", domain=[low, high])
    base = alt.Chart(rows.assign(base=low), title="Throughput (images/s, log scale)").encode(
        x=alt.X("fps:Q", title="images/s (log scale)", scale=scale, axis=alt.Axis(format="~s")),
        x2="base:Q",
        y=alt.Y("config:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=["config:N", alt.Tooltip("fps:Q", format=",.0f", title="images/s")],
    )
    return base.mark_bar(color=ACCENT) + base.mark_text(align="left", dx=4).encode(
        text=alt.Text("fps:Q", format=",.0f")
    )


def pareto_front(rows: pd.DataFrame, x: str = "latency_ms", y: str = "accuracy") -> pd.Series:
    """True for rows no other row beats on both lower ``x`` and higher ``y``."""
    flags = []
    for _, row in rows.iterrows():
        dominated = ((rows[x] <= row[x]) & (rows[y] >= row[y]) & ((rows[x] < row[x]) | (rows[y] > row[y]))).any()
        flags.append(not dominated)
    return pd.Series(flags, index=rows.index)


MIN_SPAN_PP = 10.0  # an accuracy axis spans at least this many points, so a 0.5 pp drop looks like one


def points_domain(values: pd.Series, span: float = MIN_SPAN_PP) -> list[float]:
    """A 0-100 axis range around ``values`` (in points) at least ``span`` wide, so small gaps look small."""
    low, high = float(values.min()), float(values.max())
    pad = max(span - (high - low), 0) / 2
    low, high = low - pad, high + pad
    if low < 0:
        low, high = 0.0, min(100.0, high - low)
    if high > 100:
        low, high = max(0.0, low - (high - 100)), 100.0
    return [round(low, 2), round(high, 2)]


def accuracy_vs_latency(rows: pd.DataFrame, metric_name: str = "accuracy") -> alt.Chart:
    """``rows``: config, latency_ms, accuracy (0-1), pareto (bool). Log latency axis; the metric in points on
    an axis at least 10 pp wide; the Pareto front as a line, its points named."""
    data = rows.assign(points=100 * rows["accuracy"])
    base = alt.Chart(data, title="Test metric vs median latency (Pareto front in blue)")
    x = alt.X("latency_ms:Q", title="median latency (ms, log scale)", scale=LOG, axis=alt.Axis(format="~g"))
    y = alt.Y("points:Q", title=f"{metric_name} (%)", scale=alt.Scale(domain=points_domain(data["points"])))
    points = base.mark_circle(size=120).encode(
        x=x,
        y=y,
        color=alt.condition("datum.pareto", alt.value(ACCENT), alt.value("#999999")),
        tooltip=[
            "config",
            alt.Tooltip("latency_ms:Q", format=".3~f", title="ms"),
            alt.Tooltip("points:Q", format=".1f", title=metric_name),
        ],
    )
    front = base.transform_filter("datum.pareto").mark_line(color=ACCENT).encode(x=x, y=y, order="latency_ms:Q")
    labels = (  # name the front only: dominated points crowd the plot and are in the table below
        base.transform_filter("datum.pareto").mark_text(dy=-12, fontSize=11).encode(x=x, y=y, text="config:N")
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


def confusion_matrices(cells: pd.DataFrame) -> alt.Chart:
    """One confusion matrix per variant side by side (``cells``: variant, true, predicted, images), the count in
    each cell, the diagonal the right answers: where the optimized model's mistakes differ from the original's."""
    base = alt.Chart().encode(
        x=alt.X("predicted:N", title="predicted", sort=None),
        y=alt.Y("true:N", title="true class", sort=None),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("images:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=["variant:N", "true:N", "predicted:N", "images:Q"],
    )
    text = base.mark_text(fontSize=11).encode(
        text="images:Q", color=alt.condition("datum.images > 0", alt.value("#111"), alt.value("#bbb"))
    )
    return alt.layer(heat, text, data=cells).facet(column=alt.Column("variant:N", title=None, sort=None))
