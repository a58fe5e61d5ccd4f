"""Benchmark: latency and throughput of every variant on the chosen devices, with the precision that ran."""

import pandas as pd
import streamlit as st

import engine
from engine.registry import get_task
from ui import charts, jobs, state, widgets

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
        ["both", "latency", "throughput"],
        help="latency: synchronous requests; throughput: async with the optimal number of requests",
    )
    precisions = c2.multiselect(
        "Inference precision",
        ["default", "f32", "bf16", "f16"],
        default=["default", "f32"],
        help="INFERENCE_PRECISION_HINT. 'default' is what the device picks (BF16 on this CPU).",
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

results = engine.benchmark_results(run["run"])
if not results:
    st.info("No results yet: pick variants and devices above and press **Run benchmark**.")
    st.stop()
latest = {}
for r in results:  # newest result per (variant, device, precision)
    latest[(r["variant"], r["device"], r["precision_requested"])] = r
metric = get_task(run["task"]).primary_metric
accuracy = {v["name"]: v["metrics"].get(metric) for v in engine.show_run(run["run"])["variants"]}
rows, samples = [], []
for (variant, device, precision), r in latest.items():
    config = f"{variant} · {device} · {r.get('inference_precision')}"
    lat = r.get("latency_ms", {})
    rows.append(
        {
            "config": config,
            "variant": variant,
            "device": device,
            "precision asked": precision,
            "precision ran": r.get("inference_precision"),
            "median ms": lat.get("median"),
            "mean ms": lat.get("mean"),
            "p90 ms": lat.get("p90"),
            "p99 ms": lat.get("p99"),
            "min ms": lat.get("min"),
            "max ms": lat.get("max"),
            "fps": r.get("throughput", {}).get("fps"),
            "streams": r.get("throughput", {}).get("streams"),
            "nireq": r.get("throughput", {}).get("nireq"),
            "compile ms": r.get("compile_ms"),
            "first inference ms": r.get("first_inference_ms"),
            "contended": r["environment"]["contended"],
            metric: accuracy.get(variant),
        }
    )
    samples += [{"config": config, "latency_ms": s} for s in r.get("latency_samples_ms", [])]
table = pd.DataFrame(rows)
if table["contended"].any():
    st.warning("Some results were measured while other processes used the CPU: their timings are pessimistic.")
left, right = st.columns(2)
left.altair_chart(charts.latency_distribution(pd.DataFrame(samples)), width="stretch")
right.altair_chart(charts.throughput_bars(table.dropna(subset=["fps"])), width="stretch")
scatter = table.dropna(subset=["median ms", metric]).rename(columns={"median ms": "latency_ms", metric: "accuracy"})
if not scatter.empty:
    scatter["pareto"] = charts.pareto_front(scatter)
    st.altair_chart(charts.accuracy_vs_latency(scatter), width="stretch")
st.subheader("All statistics")
st.dataframe(table.drop(columns=["config"]), hide_index=True, width="stretch")
st.download_button(
    "Download CSV", table.to_csv(index=False), f"run{run['run']}-benchmark.csv", "text/csv", icon=":material/download:"
)
st.caption(
    "'precision ran' is the INFERENCE_PRECISION_HINT the compiled model reports: on CPUs with BF16 support,"
    " OpenVINO runs FP32/FP16 IRs in BF16 unless asked for f32."
)
