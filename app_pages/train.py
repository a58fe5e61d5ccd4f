"""Train: pick a dataset and an architecture, start, and follow the run live."""

import pandas as pd
import streamlit as st

import engine
from engine import charts
from ui import format as fmt
from ui import jobs, state, widgets

RESUMABLE = engine.RUN_RESUMABLE  # continue from the last finished epoch

st.title("Train")
datasets = engine.list_datasets()
if not datasets:
    importing = [j for j in engine.list_jobs(active_only=True) if j["verb"] in ("demo", "import_dataset")]
    if importing:
        st.info(f"Job {importing[-1]['id']} is importing a dataset ({importing[-1]['title']}): the form appears here"
                " when it is in the workspace.", icon=":material/hourglass_top:")  # fmt: skip
    else:
        st.info("Import a dataset on the **Data** page first (or load the sample project on **Home**).")


def settings_form() -> tuple[str, dict]:
    """The form; returns the chosen dataset's task and its training defaults."""
    with st.form("train"):
        left, right = st.columns(2)
        dataset = widgets.dataset_picker(datasets, container=left, prefer=state.active_dataset(datasets))
        task = next(d["task"] for d in datasets if d["dataset"] == dataset)
        defaults = engine.training_defaults(task, dataset)
        archs, gains, weights = defaults["archs"], defaults["int8_short"], defaults["weights"]

        def label(a: str) -> str:
            imagenet = "ImageNet weights present" if weights.get(a) else "no ImageNet weights"
            return f"{a} ({archs[a]}) · {imagenet}" + (f" · {gains[a]}" if a in gains else "")

        arch = right.selectbox(
            "Architecture",
            list(archs),
            index=list(archs).index(defaults["model"]),
            format_func=label,
            help="INT8 x: the INT8 IR's batch-1 speed over the FP32 IR at the CPU's default precision: \"here\""
            " measured on this CPU (below: Measure on this CPU), else by benchmarks/zoo.py on a CPU of this ISA tier"
            ' ("elsewhere": another tier, so not a claim about this one).',
        )
        c1, c2, c3, c4 = st.columns(4)
        epochs = c1.number_input("Epochs", 1, 500, defaults["epochs"], help="Passes over the training split.")
        batch = c2.number_input("Batch size", 2, 512, defaults["batch_size"])
        size = c3.number_input(
            "Image size (px)",
            32,
            1024,
            defaults["img_size"],
            step=16,
            help="Images are resized to a square of this size; smaller is faster. The default follows the"
            f" dataset: {defaults['chosen'].get('img_size', 'the task default')}.",
        )
        lr = c4.number_input(
            "Peak learning rate",
            1e-5,
            0.5,
            defaults["lr"],
            format="%.4f",
            help="AdamW with a one-cycle schedule (warm-up, then cosine decay). Left at this value, an"
            " architecture with a learning rate of its own trains with it: "
            + (", ".join(f"{a} {d['lr']:g}" for a, d in defaults["arch_defaults"].items() if "lr" in d) or "none"),
        )
        if not all(weights.values()):
            st.caption(
                "Architectures without ImageNet weights train from random init. On this machine: copy the"
                " checkpoint files (e.g. a `hub/checkpoints` folder or a zip) and run `python -m engine weights"
                " import PATH`; online: `python -m engine weights fetch ARCH`. `weights list` names the files."
            )
        if "img_size" in defaults["chosen"]:
            st.caption(f"Image size {defaults['img_size']} px from the data: {defaults['chosen']['img_size']}.")
        recipe = st.columns(2)
        augments, balances = defaults["augments"], defaults["balances"]
        augment = recipe[0].selectbox(
            "Augmentation",
            list(augments),
            index=list(augments).index(defaults["augment"]),
            format_func=lambda name: f"{name}: {augments[name]}",
            disabled=len(augments) == 1,
        )
        balance = recipe[1].selectbox(
            "Unequal class sizes",
            list(balances),
            index=list(balances).index(defaults["balance"]) if defaults["balance"] in balances else 0,
            format_func=lambda name: f"{name}: {balances[name]}",
            disabled=len(balances) == 1,
            help=defaults["chosen"].get("balance", "What training does about classes of different sizes."),
        )
        c5, c6, c7 = st.columns(3)
        patience = c5.number_input(
            "Early-stopping patience",
            1,
            100,
            defaults["patience"],
            help="Stop after this many epochs without a better validation metric.",
        )
        seed = c6.number_input("Seed", 0, 2**31 - 1, defaults["seed"])
        pretrained = c7.toggle(
            "ImageNet weights when cached",
            True,
            help="Used only if already in the local torch cache; nothing is downloaded.",
        )
        if st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:"):
            settings = {
                "model": arch,
                "epochs": int(epochs),
                "batch_size": int(batch),
                "img_size": int(size),
                "lr": None if float(lr) == defaults["lr"] else float(lr),  # None: the architecture's own
                "patience": int(patience),
                "augment": augment,
                "balance": balance,
                "seed": int(seed),
                "pretrained": pretrained,
            }
            jobs.start("train", {"dataset": dataset, **settings}, f"Train {arch} on dataset {dataset}")
    return task, defaults


def int8_here(task: str, defaults: dict) -> None:
    """What INT8 buys each architecture on this CPU (measured here, else the committed table), and a job that
    measures it here at the dataset's input size."""
    size = defaults["img_size"]
    with st.expander("What INT8 buys each architecture on this CPU", icon=":material/speed:"):
        rows = [{"architecture": arch, "INT8 IR vs FP32 IR, batch 1": text} for arch, text in defaults["int8"].items()]
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(
            f"Measure here: every architecture's FP32 and INT8 IR (random init, NNCF PTQ) at {size} px, timed"
            " interleaved at this CPU's default precision; about 15-40 s per architecture. The result is kept for"
            " this CPU and replaces the table's numbers here, in the search's order and in the benchmark verdict."
        )
        if st.button("Measure on this CPU", icon=":material/speed:", key="measure_int8"):
            jobs.start("measure_int8", {"task": task, "size": size}, f"Measure INT8 on this CPU: {task}, {size} px")
            st.rerun()
        job = jobs.latest_job("measure_int8")
        active = job is not None and job["status"] in engine.JOB_UNFINISHED
        st.fragment(run_every=2 if active else None)(jobs.follow)("measure_int8", "int8")  # polls only while it runs


CURVE_REFRESH_S = 10  # while a run trains its curves redraw this often; the progress line every 2 s


def _watched() -> tuple[dict | None, int | None]:
    """The training job this page follows (this session's, else the newest) and its run: the job's own (a
    resume names it before the job starts), else the active run."""
    job = jobs.latest_job("train") or jobs.latest_job("demo")
    run = (job or {}).get("run_id") or (job or {}).get("kwargs", {}).get("resume")
    return job, run or (state.active_run() or {}).get("run")


@st.fragment(run_every=2)
def live(known_datasets: int) -> None:
    """Job status and the progress line: cheap, so it polls often. The curves are their own, slower fragment:
    building and sending two Altair charts every 2 s was most of what a watching tab cost the server
    (tests/e2e/test_dashboard_cpu.py measures it)."""
    if len(engine.list_datasets()) != known_datasets:  # a dataset arrived (e.g. the sample project): show the form
        st.rerun()
    job, run_id = _watched()
    if job:
        jobs.job_status(job, key="train")
    if run_id is None:
        return
    shown = engine.show_run(run_id)
    seen = (run_id, shown["status"], bool(shown["epochs"]))
    if st.session_state.setdefault("_train_seen", seen) != seen:  # started, first epoch, finished: redraw curves
        st.session_state["_train_seen"] = seen
        st.rerun()
    total = shown["config"].get("epochs", 1)
    st.subheader(f"Run {run_id} · {shown['model']} · {shown['status']}")
    active = state.active_run()
    if active is not None and active["run"] != run_id and st.button(f"Make run {run_id} active", key="train_active"):
        state.make_active(run=run_id)  # Optimize, Benchmark and Deploy then act on it
        st.rerun(scope="app")
    if shown["metrics"].get("weights_notice"):
        st.caption(shown["metrics"]["weights_notice"])
    if not shown["epochs"]:
        st.progress(0.0, text="Preparing data and model...")
        return
    last = shown["epochs"][-1]
    eta = "" if shown["status"] != engine.RunStatus.RUNNING else f" · ETA {fmt.duration(last['eta_s'])}"
    st.progress(
        min(int(last["epoch"]) / total, 1.0),
        text=f"Epoch {int(last['epoch'])}/{total} · {last['images_per_s']:.0f} img/s{eta}",
    )


def curves(run_id: int) -> None:
    shown = engine.show_run(run_id)
    epochs = pd.DataFrame(shown["epochs"])
    if epochs.empty:
        return
    left, right = st.columns(2)
    left.altair_chart(charts.training_curves(epochs), width="stretch")
    spec = engine.get_task(shown["task"])
    right.altair_chart(charts.metric_curve(epochs, spec.primary_metric, spec.metric_name), width="stretch")
    scores = {spec.primary_metric: spec.primary_metric, **spec.side_metrics}  # balanced accuracy, macro F1 ...
    best = shown["metrics"]
    if len(scores) > 1 and all(f"val_{key}" in best for key in scores):  # top-1 alone hides a small class
        for column, (key, label) in zip(st.columns(len(scores)), scores.items(), strict=True):
            column.metric(f"val {label}, best epoch", fmt.cell(best[f"val_{key}"], "percent"))
    per_class = {label: best[f"val_{key}"] for key, label in spec.per_class_columns.items() if f"val_{key}" in best}
    if per_class:  # the class that matters is often the small one: is it found?
        table = pd.DataFrame(per_class).rename_axis("class").reset_index()
        st.caption(f"Per class on val at the best epoch ({', '.join(per_class)})")
        st.dataframe(fmt.frame(table, dict.fromkeys(per_class, "percent")), hide_index=True)
    if shown["status"] in RESUMABLE and st.button("Resume this run", icon=":material/replay:"):
        jobs.start("train", {"resume": run_id}, f"Resume run {run_id}")
        st.rerun()


if datasets:
    int8_here(*settings_form())
live(len(datasets))
_, watched_run = _watched()
if watched_run is not None:
    running = engine.show_run(watched_run)["status"] == engine.RunStatus.RUNNING
    st.fragment(run_every=CURVE_REFRESH_S if running else None)(curves)(watched_run)
