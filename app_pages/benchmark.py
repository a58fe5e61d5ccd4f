"""Benchmark: latency and throughput of every variant on the chosen devices, with the precision that ran."""

import pandas as pd
import streamlit as st

import engine
from engine import charts
from ui import format as fmt
from ui import headline, jobs, profile_view, state, widgets

st.title("Benchmark")
run = state.require_run()
st.caption(state.run_label(run))

with st.form("benchmark"):
    left, right = st.columns(2)
    variants = left.multiselect("Variants", run["variants"], default=run["variants"])
    devices = widgets.device_picker("bench_devices", container=right)
    c1, c2, c3 = st.columns(3)
    hint = c1.selectbox(
        "Performance hint",
        list(engine.HINTS)[::-1],
        help="latency: synchronous requests; throughput: async with the optimal number of requests",
    )
    precisions = c2.multiselect(
        "Inference precision",
        list(engine.PRECISIONS),
        default=["default", "f32"],
        help="INFERENCE_PRECISION_HINT. 'default' is what the device picks; the table shows what it ran.",
    )
    mode = c3.radio("Measure", ["iterations", "seconds"], horizontal=True)
    amount = c3.number_input("Amount", 1, 100_000, 200 if mode == "iterations" else 5)
    if st.form_submit_button("Run benchmark", type="primary", icon=":material/speed:"):
        kwargs = {
            "run": run["run"],
            "variants": variants,
            "devices": devices,
            "hint": hint,
            "precisions": precisions,
            "iterations": int(amount) if mode == "iterations" else 1,
            "seconds": float(amount) if mode == "seconds" else 0.0,
        }
        jobs.start("benchmark", kwargs, f"Benchmark run {run['run']}")


@st.fragment(run_every=2)
def progress() -> None:
    jobs.follow("benchmark", "bench", run=run["run"])


progress()
profile_view.render(run)

measured = engine.benchmark_table(run["run"])
if not measured["rows"]:
    st.info("No results yet: pick variants and devices above and press **Run benchmark**.")
    st.stop()
table = pd.DataFrame(measured["rows"]).rename(columns={"metric": measured["metric_name"]})
headline.render(run, measured=measured)
(st.success if measured["pick"] else st.warning)(engine.benchmark_verdict(measured))
if measured["contended"]:
    st.warning("Some results were measured while other processes used the CPU: their timings are pessimistic.")
left, right = st.columns(2)
left.altair_chart(charts.latency_distribution(pd.DataFrame(measured["samples"])), width="stretch")
right.altair_chart(charts.throughput_bars(table.dropna(subset=["fps"])), width="stretch")
scatter = table.dropna(subset=["median ms", measured["metric_name"]])
scatter = scatter.rename(columns={"median ms": "latency_ms", measured["metric_name"]: "accuracy"})
if not scatter.empty:
    scatter["pareto"] = charts.pareto_front(scatter)
    st.altair_chart(charts.accuracy_vs_latency(scatter, measured["metric_name"]), width="stretch")
st.subheader("Results")
MAIN = ["config", "median ms", "p90 ms", "fps", "speed-up vs FP32", measured["metric_name"], "contended"]
kinds = {"median ms": "ms", "p90 ms": "ms", "speed-up vs FP32": "ratio", measured["metric_name"]: "percent"}
shown = table[MAIN].rename(columns={"config": "variant · device · precision ran", "fps": "images/s"})
st.dataframe(fmt.frame(shown, kinds), hide_index=True, width="stretch")
with st.expander("All statistics"):
    every = table.drop(columns=["config"])
    st.dataframe(
        fmt.frame(every, {**kinds, **{c: "ms" for c in every.columns if c.endswith(" ms")}}),
        hide_index=True,
        width="stretch",
    )
st.download_button(
    "Download CSV", table.to_csv(index=False), f"run{run['run']}-benchmark.csv", "text/csv", icon=":material/download:"
)
st.caption(widgets.precision_note())
