"""Home: the pipeline at a glance and a one-click sample project."""

import streamlit as st

import engine
from ui import format as fmt
from ui import headline, jobs, state

st.title("Edge Model Studio")
st.markdown(
    "Train a vision model on your images, compress it with **NNCF**, export **OpenVINO** IR and see how fast it"
    " runs on Intel hardware — all offline."
)

run = state.active_run()
measured = engine.benchmark_table(run["run"]) if run else None
if run is not None:
    shown = headline.render(run, measured=measured)
    if shown is not None:
        left, right = st.columns(2)
        left.page_link(
            "app_pages/live.py", label="Booth mode: both models live, side by side", icon=":material/videocam:"
        )
        right.link_button("Full screen (kiosk)", "./live?kiosk=1", icon=":material/fullscreen:")
STAGE_CARD = {"import": "Data", "train": "Train", "optimize": "Optimize", "benchmark": "Benchmark"}


def _running_job() -> dict | None:
    active = [j for j in engine.list_jobs(active_only=True) if j["status"] in engine.JOB_ACTIVE]
    return active[-1] if active else None


def cards() -> None:
    """The pipeline's steps for the active run; the step a job is on says so. Redrawn when the job moves to
    another stage (``current_job`` reruns the page then), not on every poll: a watching tab stays cheap."""
    run = state.active_run()
    measured = engine.benchmark_table(run["run"]) if run else None
    datasets = engine.list_datasets()
    variants = run["variants"] if run else []
    benchmarks = measured["rows"] if measured else []
    job = _running_job()
    progress = engine.job_progress(job) if job else None
    working = STAGE_CARD.get(progress["stage"]) if progress else None
    if job and job["verb"] in ("train", "optimize", "benchmark", "import_dataset"):
        working = {"import_dataset": "Data"}.get(job["verb"], job["verb"].capitalize())
    steps = [
        (
            "Data",
            "app_pages/data.py",
            f"{len(datasets)} dataset(s)" if datasets else "import a dataset",
            bool(datasets),
        ),
        (
            "Train",
            "app_pages/train.py",
            f"run {run['run']}: {run['status']}" if run else "no run yet",
            bool(run) and run["status"] in engine.RUN_FINISHED,
        ),
        (
            "Optimize",
            "app_pages/optimize.py",
            ", ".join(v for v in variants if v != "torch-fp32") or "no IR yet",
            "int8" in variants,
        ),
        (
            "Benchmark",
            "app_pages/benchmark.py",
            f"{len(benchmarks)} result(s)" if benchmarks else "not measured",
            bool(benchmarks),
        ),
        (
            "Compare",
            "app_pages/compare.py",
            "original vs optimized" if "int8" in variants else "needs INT8",
            "int8" in variants,
        ),
        ("Deploy", "app_pages/deploy.py", "download the IR" if len(variants) > 1 else "needs an IR", len(variants) > 1),
    ]
    for col, (name, page, status, done) in zip(st.columns(len(steps)), steps, strict=True):
        with col.container(border=True):
            icon = ":material/pending:" if name == working else ":material/check_circle:" if done else (
                ":material/radio_button_unchecked:"
            )  # fmt: skip
            st.markdown(f"{icon} **{name}**")
            st.caption(f"in progress: {progress['text'].lower()}" if name == working and progress else status)
            st.page_link(page, label="Open", help=f"Open the {name} page")


cards()

st.divider()
left, right = st.columns([1, 2])
with left:
    st.subheader("New here?")
    st.write(
        "Load a built-in sample project: it writes a generated dataset into the workspace, imports it, trains"
        " a model from scratch (one INT8 speeds up where this CPU has VNNI or AMX, else the task's fastest in"
        " float), quantizes it to INT8 with NNCF and benchmarks every variant."
        " Then open **Compare** and **Benchmark**."
    )
    plans = engine.sample_plans()
    task = st.radio(
        "Task",
        list(engine.TASKS),
        index=list(engine.TASKS).index(engine.DEFAULT_TASK),
        format_func=lambda t: f"{t} ({plans[t]['project']})",
        key="sample_task",
    )
    st.caption(f"Trains {plans[task]['why']}.")
    demo_job = jobs.latest_job("demo")
    busy = demo_job is not None and demo_job["status"] in engine.JOB_UNFINISHED
    if st.button(
        "Load sample project",
        type="primary",
        icon=":material/rocket:",
        disabled=busy,
        help="Already running: follow it on the right." if busy else None,
    ):
        jobs.start("demo", {"task": task}, f"Sample {task} project: import, train, optimize, benchmark")
        st.rerun()


@st.fragment(run_every=2)
def current_job() -> None:
    """The job running now (any verb), else the newest sample project: stage, epoch, ETA and a bar."""
    active = [j for j in engine.list_jobs(active_only=True) if j["status"] in engine.JOB_ACTIVE]
    job = active[-1] if active else jobs.latest_job("demo")
    if job is None:
        st.caption("No job yet: load the sample project, or start one on any page.")
        return
    jobs.job_status(job, key="home")
    progress = engine.job_progress(job)
    stage = (job["id"], job["status"], progress["stage"])
    if st.session_state.setdefault("_home_stage", stage) != stage:  # a new stage: the cards above follow it
        st.session_state["_home_stage"] = stage
        st.rerun()
    if job["status"] in engine.JOB_ACTIVE:
        text = progress["text"]
        if progress["epoch"] is not None:
            text += f" · epoch {progress['epoch']}/{progress['epochs']}"
        if progress["eta_s"] is not None:
            text += f" · ETA {fmt.duration(progress['eta_s'])}"
        if progress["fraction"] is None:
            st.caption(text)
        else:
            st.progress(progress["fraction"], text=text)
    # the sample project this session started has finished: its run becomes the active one (a job of another
    # session, or one that finished before this session looked, never changes this session's run)
    done = job["verb"] == "demo" and job["status"] == engine.JobStatus.COMPLETED
    new = done and st.session_state.get("_announced") != job["id"]
    if new and job["run_id"] and jobs.is_mine(job):
        st.session_state["_announced"] = job["id"]
        state.make_active(run=job["run_id"], dataset=(job["result"] or {}).get("dataset"))
        st.toast(f"Sample project ready: run {job['run_id']} is now the active run", icon=":material/check_circle:")
        st.rerun()


with right:
    st.subheader("Current job")
    current_job()
