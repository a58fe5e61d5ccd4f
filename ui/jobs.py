"""Starting jobs and following them: the page never blocks; a fragment polls the database."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import engine

STATUS_ICON = {
    engine.JobStatus.QUEUED: ":material/hourglass_top:",
    engine.JobStatus.STARTING: ":material/rocket_launch:",
    engine.JobStatus.RUNNING: ":material/autorenew:",
    engine.JobStatus.COMPLETED: ":material/check_circle:",
    engine.JobStatus.FAILED: ":material/error:",
    engine.JobStatus.CANCELLED: ":material/stop_circle:",
    engine.JobStatus.INTERRUPTED: ":material/sync_problem:",
}


def start(verb: str, kwargs: dict, title: str) -> dict:
    job = engine.submit_job(verb, kwargs, title=title)
    st.session_state.setdefault("_my_jobs", {})[verb] = job["id"]  # this browser session follows its own job
    if job["backend"] == "ray":
        st.toast(f"Job {job['id']} sent to the Ray cluster: {title}", icon=":material/hub:")
    elif job["status"] == engine.JobStatus.QUEUED:
        st.toast(
            f"Job {job['id']} queued: another job is running (at most one at a time).", icon=":material/hourglass_top:"
        )
    else:
        st.toast(f"Job {job['id']} started: {title}", icon=":material/rocket_launch:")
    return job


def where(job: dict) -> str:
    """Where a job runs: ``local`` or ``ray · <submission id>``."""
    return f"ray · {job['backend_id']}" if job["backend"] == "ray" else "local"


def is_mine(job: dict) -> bool:
    """Whether this browser session started ``job``."""
    return job["id"] in st.session_state.get("_my_jobs", {}).values()


def latest_job(verb: str | None = None) -> dict | None:
    """The job this session started last for ``verb`` (several people may share the app), else the newest."""
    jobs = [j for j in engine.list_jobs() if verb is None or j["verb"] == verb]
    mine = st.session_state.get("_my_jobs", {}).get(verb)
    own = [j for j in jobs if j["id"] == mine]
    return own[0] if own else (jobs[-1] if jobs else None)


def job_status(job: dict, *, key: str) -> None:
    """One job: status line, error, cancel button and log tail."""
    icon = STATUS_ICON.get(job["status"], "")
    st.markdown(f"{icon} **Job {job['id']}** · {job['title']} · `{job['status']}`")
    if job["status"] == engine.JobStatus.QUEUED and job["backend"] == "ray":
        st.caption(f"Waiting in the Ray cluster's queue for a free CPU ({where(job)}).")
    elif job["backend"] == "ray":
        st.caption(f"On the Ray cluster: {where(job)}")
    elif job["status"] == engine.JobStatus.QUEUED:
        ahead = [j for j in engine.list_jobs(active_only=True) if j["id"] < job["id"] and j["backend"] == "local"]
        st.caption(f"Waiting for {len(ahead)} job(s) ahead of it (one job runs at a time on this machine).")
    if job["error"] and job["status"] in engine.JOB_ACTIVE:  # the only note a running job carries
        st.caption("Cancelling: the job saves what it finished and stops.")
    elif job["error"]:
        st.error(job["error"])
    if job["status"] in engine.JOB_UNFINISHED and st.button("Cancel", key=f"cancel-{key}-{job['id']}"):
        engine.cancel_job(job["id"])
        st.rerun()
    tail = engine.job_log_tail(job["id"])
    if tail:
        with st.expander("Log", expanded=job["status"] == engine.JobStatus.FAILED):
            st.code("\n".join(tail), language=None)


def follow(verb: str, key: str, *, run: int | None = None, on_done: Callable[[dict], None] | None = None) -> None:
    """Show the newest ``verb`` job while it is unfinished; rerun the page once when it completes (after
    ``on_done(job)``, for a job this session started: select what it made, say so).

    Call it inside an ``st.fragment(run_every=...)`` so the page polls without blocking.
    """
    job = latest_job(verb)
    if job is not None and run is not None and job["kwargs"].get("run") != run:
        job = None
    seen = f"_done_{key}"
    if seen not in st.session_state:  # first look: jobs that finished before the page opened are old news
        st.session_state[seen] = job["id"] if job and job["status"] == engine.JobStatus.COMPLETED else None
    if job is None:
        return
    if job["status"] != engine.JobStatus.COMPLETED:
        job_status(job, key=key)
    elif st.session_state[seen] != job["id"]:  # it finished while the page was open: refresh the results
        st.session_state[seen] = job["id"]
        if on_done is not None and is_mine(job):
            on_done(job)
        st.rerun(scope="app")
