"""Optimize: export OpenVINO IR variants (FP32, FP16, INT8 via NNCF) and compare their accuracy and size."""

import pandas as pd
import streamlit as st

import engine
from engine.export.variants import DEFAULT_OPTIMIZE, VARIANTS
from engine.registry import get_task
from ui import jobs, state

st.title("Optimize")
run = state.require_run()
st.caption(state.run_label(run))

exportable = [name for name, v in VARIANTS.items() if v.build is not None]
with st.form("optimize"):
    chosen = st.multiselect(
        "Variants", exportable, default=list(DEFAULT_OPTIMIZE), format_func=lambda n: f"{n} — {VARIANTS[n].how}"
    )
    calib = st.number_input(
        "INT8 calibration images (from train)",
        1,
        10_000,
        300,
        help="NNCF collects activation ranges on this many training images.",
    )
    ready = run["status"] in ("completed", "early_stopped", "cancelled")
    if st.form_submit_button("Optimize", type="primary", disabled=not ready, icon=":material/compress:"):
        jobs.start(
            "optimize",
            {"run": run["run"], "variants": chosen, "calib_size": int(calib)},
            f"Optimize run {run['run']}: {', '.join(chosen)}",
        )
    if not ready:
        st.caption("The run is still training; optimize it when it finishes.")


@st.fragment(run_every=2)
def progress() -> None:
    jobs.follow("optimize", "optimize", run=run["run"])


progress()

shown = engine.show_run(run["run"])
if len(shown["variants"]) <= 1:
    st.info("No IR yet: choose variants above and press **Optimize**.")
    st.stop()
rows = []
fp32_size = next((v["size_bytes"] for v in shown["variants"] if v["name"] == "fp32"), None)
for v in shown["variants"]:
    m = v["metrics"]
    key = get_task(run["task"]).primary_metric
    rows.append(
        {
            "variant": v["name"],
            "precision": v["precision"],
            "backend": m["backend"],
            key: m[key],
            "drop vs PyTorch (pp)": m["drop_vs_torch_pp"],
            "agreement with FP32": m["agreement"].get("fp32"),
            "size (MB)": v["size_bytes"] / 1e6,
            "size ratio vs FP32": (fp32_size or v["size_bytes"]) / v["size_bytes"],
        }
    )
st.subheader("Variants")
st.dataframe(
    pd.DataFrame(rows),
    hide_index=True,
    width="stretch",
    column_config={
        get_task(run["task"]).primary_metric: st.column_config.ProgressColumn(
            "test metric", min_value=0, max_value=1, format="percent"
        ),
        "agreement with FP32": st.column_config.NumberColumn(format="percent"),
        "size ratio vs FP32": st.column_config.NumberColumn(format="%.2fx"),
        "size (MB)": st.column_config.NumberColumn(format="%.2f"),
        "drop vs PyTorch (pp)": st.column_config.NumberColumn(format="%.2f"),
    },
)
st.caption(
    "Accuracy is scored with INFERENCE_PRECISION_HINT=f32, so each number reflects the variant's own"
    " weights; the Benchmark page shows the precision the device runs by default (BF16 on this CPU)."
)
