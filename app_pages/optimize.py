"""Optimize: export OpenVINO IR variants (FP32, FP16, INT8 via NNCF) and compare their accuracy and size."""

import pandas as pd
import streamlit as st

import engine
from ui import format as fmt
from ui import jobs, quantization_view, state, widgets

st.title("Optimize")
run = state.require_run()
st.caption(state.run_label(run))

exportable = [name for name, v in engine.VARIANTS.items() if v.build is not None]
with st.form("optimize"):
    chosen = st.multiselect(
        "Variants",
        exportable,
        default=list(engine.DEFAULT_OPTIMIZE),
        format_func=lambda n: f"{n} — {engine.VARIANTS[n].how}",
    )
    c1, c2 = st.columns([1, 3])
    calib_split = c1.selectbox("Calibration split", ["train", "val"], help="The test split stays unseen.")
    calib = c2.number_input(
        "INT8 calibration images",
        1,
        10_000,
        engine.CALIB_SIZE,
        help="NNCF collects activation ranges on this many images of the calibration split.",
    )
    options = {}
    for form in engine.variant_options():  # each variant's own settings, declared in its module
        with st.expander(f"{form['title']} (variants {', '.join(form['variants'])})"):
            for column, option in zip(st.columns(len(form["options"])), form["options"], strict=True):
                options[option["parameter"]] = widgets.variant_option(column, option)
            st.caption(form["caption"])
    ready = run["status"] in engine.RUN_HAS_MODEL
    if st.form_submit_button("Optimize", type="primary", disabled=not ready, icon=":material/compress:"):
        settings = {**options, "calib_size": int(calib), "calib_split": calib_split}
        jobs.start(
            "optimize",
            {"run": run["run"], "variants": chosen, **settings},
            f"Optimize run {run['run']}: {', '.join(chosen)}",
        )
    if not ready:
        st.caption("The run is still training; optimize it when it finishes.")


@st.fragment(run_every=2)
def progress() -> None:
    jobs.follow("optimize", "optimize", run=run["run"])
    job = jobs.latest_job("optimize")
    active = job is not None and job["status"] == engine.JobStatus.RUNNING and job["kwargs"].get("run") == run["run"]
    qat = engine.qat_progress(run["run"]) if active else None
    if qat and qat["status"] == engine.RunStatus.RUNNING and qat["epochs"]:
        eta = f", about {qat['eta_s']:.0f} s left" if qat["eta_s"] is not None else ""
        st.progress(qat["epoch"] / qat["epochs"], text=f"QAT epoch {qat['epoch']}/{qat['epochs']}{eta}")


progress()
quantization_view.sensitivity(run)
quantization_view.calibration(run)

table = engine.variant_table(run["run"])
if len(table["rows"]) <= 1:
    st.info("No IR yet: choose variants above and press **Optimize**.")
    st.stop()
st.subheader("Variants")
for warning in table["warnings"]:
    st.warning(warning, icon=":material/warning:")
metric = f"test {table['metric_name']}"
st.dataframe(
    fmt.frame(
        pd.DataFrame(table["rows"]).rename(columns={"metric": metric}),
        {
            metric: "percent",
            "agreement with FP32": "percent",
            "size ratio vs FP32": "ratio",
            "MACs vs original": "percent",
            "drop vs PyTorch (pp)": "pp",
            "balanced accuracy": "percent",
            "macro F1": "percent",
        },
    ),
    hide_index=True,
    width="stretch",
)
st.caption(
    "Accuracy is scored with INFERENCE_PRECISION_HINT=f32, so each number reflects the variant's own"
    " weights; the Benchmark page shows the precision the device actually runs by default."
)
