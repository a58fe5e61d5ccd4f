"""The Benchmark page's Profile view: per-layer time by op type and kernel precision, variants side by side."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

import engine
from ui import format as fmt
from ui import jobs


def precision_bars(profiles: dict[str, dict]) -> alt.Chart:
    """Milliseconds per kernel precision, one stacked bar per variant (pure: profiles -> chart)."""
    rows = [
        {"variant": name, "precision": row["precision"], "ms": row["ms"], "share": row["share"]}
        for name, prof in profiles.items()
        for row in prof["by_precision"]
    ]
    return (
        alt.Chart(pd.DataFrame(rows), title="Where the time goes, by kernel precision")
        .mark_bar()
        .encode(
            y=alt.Y("variant:N", title=None),
            x=alt.X("ms:Q", title="time per inference (ms, sum of layers)"),
            color=alt.Color("precision:N", title="kernel precision"),
            tooltip=["variant", "precision", alt.Tooltip("ms:Q", format=".3f"), alt.Tooltip("share:Q", format=".0%")],
        )
    )


def render(run: dict) -> None:
    irs = [v for v in run["variants"] if engine.VARIANTS[v].backend == engine.Backend.OPENVINO]
    with st.expander("Per-layer profile: why is (or isn't) a variant faster?", icon=":material/query_stats:"):
        if not irs:
            st.info("Optimize the run first: the profile reads OpenVINO's per-layer counters of its IRs.")
            return
        with st.form("profile"):
            left, right = st.columns(2)
            default = [v for v in ("fp32", "int8") if v in irs] or irs[:1]
            chosen = left.multiselect("Variants", irs, default=default)
            precision = right.selectbox("Inference precision", list(engine.PRECISIONS))
            if st.form_submit_button("Profile", icon=":material/query_stats:") and chosen:
                kwargs = {"run": run["run"], "variants": chosen, "precision": precision}
                jobs.start("profile", kwargs, f"Profile run {run['run']}")
        job = jobs.latest_job("profile")
        active = job is not None and job["status"] in engine.JOB_UNFINISHED
        st.fragment(run_every=2 if active else None)(_latest)(run["run"])  # polls only while a job runs


def _latest(run_id: int) -> None:
    job = jobs.latest_job("profile")
    if job is None or job["kwargs"].get("run") != run_id:
        return
    if job["status"] == engine.JobStatus.COMPLETED:
        _show(job["result"])
        return
    jobs.job_status(job, key="profile")


def _show(result: dict) -> None:
    profiles = result["profiles"]
    columns = st.columns(len(profiles))
    for column, (name, prof) in zip(columns, profiles.items(), strict=True):
        column.metric(
            f"{name} ({prof['inference_precision']})",
            f"{prof['total_ms']:.3f} ms",
            f"{prof['int8_share']:.0%} in INT8 kernels",
            delta_color="off",
        )
    st.altair_chart(precision_bars(profiles), width="stretch")
    st.markdown("**Time by op type** (ms per inference)")
    st.dataframe(fmt.frame(result["by_type"]), hide_index=True, width="stretch")
    for name, prof in profiles.items():
        st.markdown(f"**{name}: slowest layers** ({prof['layer_count']} executed)")
        slow = pd.DataFrame(prof["layers"])[["name", "type", "kernel", "precision", "ms"]]
        st.dataframe(fmt.frame(slow, {"ms": "ms"}), hide_index=True, width="stretch")
        if prof["float_compute"] and prof["quantized_ops"]:
            st.markdown(f"**{name}: {len(prof['float_compute'])} compute layers left in float**")
            st.dataframe(fmt.frame(prof["float_compute"]), hide_index=True, width="stretch")
    st.caption(
        f"{result['device']}, precision asked: {result['precision']}; the kernel names are what OpenVINO reported"
        " running (PERF_COUNT), their suffix the precision they computed in."
    )
