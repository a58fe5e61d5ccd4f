"""Optimize: export OpenVINO IR variants (FP32, FP16, INT8 via NNCF) and compare their accuracy and size."""

import pandas as pd
import streamlit as st

import engine
from ui import jobs, state

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
    calib = st.number_input(
        "INT8 calibration images (from train)",
        1,
        10_000,
        300,
        help="NNCF collects activation ranges on this many training images.",
    )
    with st.expander("Structured pruning (variants pruned, pruned-int8)"):
        c1, c2, c3, c4 = st.columns(4)
        ratio = c1.slider("Channels removed", 0.1, 0.8, 0.3, 0.05, help="Share of the prunable channels removed.")
        importance = c2.selectbox("Importance", list(engine.PRUNE_IMPORTANCE), format_func=engine.PRUNE_IMPORTANCE.get)
        steps = c3.number_input("Steps", 1, 10, 3, help="Pruning steps; each is followed by fine-tuning.")
        epochs = c4.number_input("Fine-tune epochs per step", 0, 50, 2, help="Then 8 more after the last step.")
        st.caption(
            "Torch-Pruning removes whole channels, so the network does less work on any CPU. Unstructured sparsity"
            " (nncf.prune) is not offered: it zeroes weights but keeps every shape, which buys no CPU speed."
        )
    ready = run["status"] in ("completed", "early_stopped", "cancelled")
    if st.form_submit_button("Optimize", type="primary", disabled=not ready, icon=":material/compress:"):
        settings = {"prune_ratio": ratio, "prune_importance": importance, "prune_steps": int(steps)}
        jobs.start(
            "optimize",
            {"run": run["run"], "variants": chosen, "calib_size": int(calib), **settings, "prune_epochs": int(epochs)},
            f"Optimize run {run['run']}: {', '.join(chosen)}",
        )
    if not ready:
        st.caption("The run is still training; optimize it when it finishes.")


@st.fragment(run_every=2)
def progress() -> None:
    jobs.follow("optimize", "optimize", run=run["run"])


progress()

table = engine.variant_table(run["run"])
if len(table["rows"]) <= 1:
    st.info("No IR yet: choose variants above and press **Optimize**.")
    st.stop()
st.subheader("Variants")
st.dataframe(
    pd.DataFrame(table["rows"]).rename(columns={"metric": f"test {table['metric_name']}"}),
    hide_index=True,
    width="stretch",
    column_config={
        f"test {table['metric_name']}": st.column_config.ProgressColumn(min_value=0, max_value=1, format="percent"),
        "agreement with FP32": st.column_config.NumberColumn(format="percent"),
        "size ratio vs FP32": st.column_config.NumberColumn(format="%.2fx"),
        "size (MB)": st.column_config.NumberColumn(format="%.2f"),
        "MACs vs original": st.column_config.NumberColumn(format="percent"),
        "drop vs PyTorch (pp)": st.column_config.NumberColumn(format="%.2f"),
    },
)
st.caption(
    "Accuracy is scored with INFERENCE_PRECISION_HINT=f32, so each number reflects the variant's own"
    " weights; the Benchmark page shows the precision the device actually runs by default."
)
