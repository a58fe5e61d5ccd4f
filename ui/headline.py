"""The result at a glance: the optimized variant against the original, in three big numbers."""

from __future__ import annotations

import streamlit as st

import engine
from ui import format as fmt


def render(run: dict, *, measured: dict | None = None) -> dict | None:
    """Speed-up vs the original PyTorch model, metric change and size ratio of the benchmark's pick (else INT8),
    from the newest Benchmark results; nothing but a hint before the first benchmark. Returns the headline."""
    measured = measured if measured is not None else engine.benchmark_table(run["run"])
    h = measured.get("headline")
    if h is None:
        st.caption("Benchmark the run (**Benchmark** page) to see the optimized model's speed-up here.")
        return None
    with st.container(border=True, key="headline"):
        speed = h["speedup_vs_original"] or h["speedup_vs_fp32_ir"]
        versus = "the original PyTorch model" if h["speedup_vs_original"] else "the FP32 IR"
        title = f"**{h['variant']}** on {h['device']} ({h['precision_ran'] or 'precision not reported'})"
        st.markdown(title if h["optimized"] else f"{title} · :orange[not faster than the FP32 IR here]")
        c1, c2, c3 = st.columns(3)
        c1.metric(
            f"Speed vs {versus}",
            fmt.ratio(speed) if speed else "-",
            help="Ratio of benchmarked median latencies (batch 1) on the same device, from the Benchmark job.",
        )
        change = h["metric_change_pp"]
        c2.metric(
            f"Test {measured['metric_name']} change",
            "-" if change is None else f"{change:+.1f} pp",
            help="The variant's test metric minus the PyTorch model's, in percentage points.",
        )
        c3.metric(
            "Size",
            f"{fmt.ratio(h['size_ratio_vs_fp32'])} smaller" if h["size_ratio_vs_fp32"] else "-",
            help="FP32 IR size divided by this variant's (model.xml + model.bin).",
        )
        notes = [f"median {fmt.ms(h['median_ms'])}"]
        if h["original_ms"]:
            notes.append(f"PyTorch {fmt.ms(h['original_ms'])}")
        if h["speedup_vs_fp32_ir"] is not None:
            notes.append(f"{fmt.ratio(h['speedup_vs_fp32_ir'])} the FP32 IR")
        if h["contended"]:
            notes.append(":orange[measured while other processes used the CPU]")
        st.caption(" · ".join(notes))
    return h
