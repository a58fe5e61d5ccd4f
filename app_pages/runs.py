"""Runs: every run in the workspace with its dataset, model, status, metrics and variants."""

import pandas as pd
import streamlit as st

import engine
from engine.registry import get_task

st.title("Runs")
runs = engine.list_runs()
if not runs:
    st.info("No runs yet. Start one on **Train**, or load the sample project on **Home**.")
    st.stop()


def _val_metric(run: dict) -> str:
    spec = get_task(run["task"])
    value = run["metrics"].get(f"val_{spec.primary_metric}")
    return f"{spec.metric_name} {value:.1%}" if isinstance(value, float) else ""


table = pd.DataFrame(
    [
        {
            "run": r["run"],
            "dataset": r["dataset"],
            "task": r["task"],
            "model": r["model"],
            "status": r["status"],
            "best epoch": r["metrics"].get("best_epoch"),
            "val metric": _val_metric(r),
            "variants": ", ".join(r["variants"]),
        }
        for r in runs
    ]
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={"val top-1": st.column_config.NumberColumn(format="percent")},
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
