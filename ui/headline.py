"""The result at a glance: the optimized variant against the original, in three big numbers."""

from __future__ import annotations

import streamlit as st

import engine
from engine import precision_label
from ui import format as fmt


def render(run: dict, *, measured: dict | None = None) -> dict | None:
    """Speed-up vs the FP32 IR (the baseline: same device, same hint) first, then vs PyTorch, metric change and
    size ratio of the benchmark's pick (else INT8), from the newest Benchmark results; nothing but a hint before
    the first benchmark. Returns the headline."""
    measured = measured if measured is not None else engine.benchmark_table(run["run"])
    h = measured.get("headline")
    if h is None:
        st.caption("Benchmark the run (**Benchmark** page) to see the optimized model's speed-up here.")
        return None
    with st.container(border=True, key="headline"):
        title = f"**{h['variant']} IR** on {h['device']} ({precision_label(h['variant'], h['precision_ran'])})"
        st.markdown(title if h["optimized"] else f"{title} · :orange[{h['why_not']}]")
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(
            "Speed vs the FP32 IR",
            fmt.ratio(h["speedup_vs_fp32_ir"]) if h["speedup_vs_fp32_ir"] else "-",
            help="The baseline: the FP32 IR on the same device with the same (default) precision hint. Ratio of"
            " benchmarked median latencies, batch 1, from the Benchmark job.",
        )
        c2.metric(
            "Speed vs PyTorch",
            fmt.ratio(h["speedup_vs_original"]) if h["speedup_vs_original"] else "-",
            help="The original PyTorch model (eager, FP32) on the same CPU: what converting to OpenVINO buys on top.",
        )
        change = h["metric_change_pp"]
        c3.metric(
            f"Test {measured['metric_name']} change",
            "-" if change is None else f"{change:+.1f} pp",
            help="The variant's test metric minus the PyTorch model's, in percentage points.",
        )
        c4.metric(
            "Size",
            f"{fmt.ratio(h['size_ratio_vs_fp32'])} smaller" if h["size_ratio_vs_fp32"] else "-",
            help="FP32 IR size divided by this variant's (model.xml + model.bin).",
        )
        notes = [f"median {fmt.ms(h['median_ms'])}"]
        if h["original_ms"]:
            notes.append(f"PyTorch {fmt.ms(h['original_ms'])}")
        if h["contended"]:
            notes.append(":orange[measured while other processes used the CPU]")
        st.caption(" · ".join(notes))
    return h
