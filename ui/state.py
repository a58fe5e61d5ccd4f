"""Session state shared by the pages: the workspace and the active run."""

from __future__ import annotations

import streamlit as st

import engine


def workspace() -> str:
    return str(engine.workspace_root())


def runs() -> list[dict]:
    return engine.list_runs()


def active_run(all_runs: list[dict] | None = None) -> dict | None:
    """The run chosen in the sidebar (default: the newest one), or ``None`` in an empty workspace."""
    all_runs = runs() if all_runs is None else all_runs
    if not all_runs:
        return None
    wanted = st.session_state.get("run")
    return next((r for r in all_runs if r["run"] == wanted), all_runs[-1])


def make_active(*, run: int | None = None, dataset: int | None = None) -> None:
    """Make ``run`` (and/or ``dataset``) this session's active one: only the user's actions call this (the
    sidebar's picker, "Make this run active", a job this session started finishing). Applied on the next
    rerun, before the sidebar's picker is drawn."""
    if run is not None:
        st.session_state["pending_run"] = run
    if dataset is not None:
        st.session_state["active_dataset"] = dataset


def active_dataset(datasets: list[dict]) -> int | None:
    """This session's dataset: the one the user last picked or imported, else the active run's, else the newest."""
    ids = [d["dataset"] for d in datasets]
    wanted = st.session_state.get("active_dataset")
    if wanted in ids:
        return wanted
    run = active_run()
    if run is not None and run["dataset"] in ids:
        return run["dataset"]
    return ids[-1] if ids else None


def run_label(run: dict) -> str:
    value = run.get("val_metric")
    score = f" · val {run['metric_name']} {value:.1%}" if value is not None else ""
    return f"run {run['run']} · {run['model']} · {run['status']}{score}"


def require_run() -> dict:
    run = active_run()
    if run is None:
        st.info("No runs yet. Start one on the **Train** page, or click **Load sample project** on **Home**.")
        st.page_link("app_pages/home.py", label="Go to Home", icon=":material/home:")
        st.stop()
    return run
