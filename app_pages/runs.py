"""Runs: every run with its dataset, model, status, metrics and variants; each run's report card."""

from pathlib import Path

import pandas as pd
import streamlit as st

import engine
from engine import charts
from ui import format as fmt
from ui import jobs as job_view
from ui import state

st.title("Runs")
runs = engine.list_runs()
if not runs:
    st.info("No runs yet. Start one on **Train**, or load the sample project on **Home**.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "run": r["run"],
            "dataset": r["dataset"],
            "task": r["task"],
            "model": r["model"],
            "status": r["status"],
            "best epoch": r["metrics"].get("best_epoch"),
            "val metric": f"{r['metric_name']} {r['val_metric']:.1%}" if r["val_metric"] is not None else "",
            "variants": ", ".join(r["variants"]),
        }
        for r in runs
    ]
)
st.dataframe(fmt.frame(table), hide_index=True, width="stretch")

st.subheader("Run details")
current = state.active_run(runs)
ids = [r["run"] for r in runs]
choice = st.selectbox(
    "Run", ids, index=ids.index(current["run"]), format_func=lambda i: state.run_label(runs[ids.index(i)])
)
if choice != current["run"] and st.button(f"Make run {choice} active", icon=":material/radio_button_checked:"):
    state.make_active(run=choice)  # every page then acts on it (the sidebar shows it)
    st.toast(f"Run {choice} is now the active run", icon=":material/check_circle:")
    st.rerun()
shown = engine.show_run(choice)
left, right = st.columns([2, 3])
with left:
    st.dataframe(fmt.frame(engine.run_settings(shown)), hide_index=True, width="stretch")
    if shown["metrics"].get("weights_notice"):
        st.caption(shown["metrics"]["weights_notice"])
    st.caption(f"Folder: `{shown['folder']}`")
with right:
    epochs = pd.DataFrame(shown["epochs"])
    if not epochs.empty:
        st.altair_chart(charts.training_curves(epochs), width="stretch")
    variants = engine.variant_table(choice)["rows"]
    if variants:
        metric = f"test {runs[ids.index(choice)]['metric_name']}"
        shown_variants = pd.DataFrame(variants)[["variant", "precision", "metric", "size (MB)"]]
        st.dataframe(
            fmt.frame(shown_variants.rename(columns={"metric": metric}), {metric: "percent"}),
            hide_index=True,
            width="stretch",
        )

st.markdown("**Report card** · one HTML file with the machine, versions, settings, curves, variants, benchmark charts"
            " and sample predictions; it opens offline.")  # fmt: skip
if st.button("Write the report card", icon=":material/description:", key="report_go"):
    with st.spinner("Writing the report card..."):
        st.session_state["_report"] = engine.report(choice)
card = st.session_state.get("_report")
if card and card["run"] == choice:
    st.download_button(
        f"Download run{choice}-report.html ({card['size_bytes'] / 1e6:.1f} MB)",
        Path(card["path"]).read_bytes(),
        f"run{choice}-report.html",
        "text/html",
        type="primary",
        icon=":material/download:",
    )

st.subheader("Jobs")
jobs = engine.list_jobs()
if jobs:
    st.dataframe(
        fmt.frame(
            [
                {
                    "job": j["id"],
                    "status": f"{j['status']}",
                    "title": j["title"],
                    "run": j["run_id"]
                    if j["run_id"] is not None
                    else j["kwargs"].get("run", j["kwargs"].get("resume")),
                    "where": job_view.where(j),
                    "started": j["started"],
                    "error": j["error"] or "",
                }
                for j in reversed(jobs)
            ],
            {"started": "time"},
        ),
        hide_index=True,
        width="stretch",
        column_config={"error": st.column_config.TextColumn(width="large")},
    )
    active = [j for j in jobs if j["status"] in engine.JOB_UNFINISHED]
    for j in active:
        job_view.job_status(j, key="runs")
