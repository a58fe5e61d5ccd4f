"""Runs: every run in the workspace with its dataset, model, status, metrics and variants."""

import pandas as pd
import streamlit as st

import engine

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
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
)

st.subheader("Jobs")
jobs = engine.list_jobs()
if jobs:
    st.dataframe(
        pd.DataFrame(
            [
                {"job": j["id"], "title": j["title"], "status": j["status"], "run": j["run_id"], "error": j["error"]}
                for j in jobs
            ]
        ),
        hide_index=True,
        width="stretch",
    )

choice = st.selectbox("Details of run", [r["run"] for r in runs], index=len(runs) - 1)
st.json(engine.show_run(choice), expanded=1)
