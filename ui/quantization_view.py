"""The Optimize page's quantization tools: which layers cost the accuracy (sensitivity, with a one-click
re-quantization that keeps them in float) and how many calibration images INT8 needs (calibration sweep).

Both run as jobs; the newest result of each is kept in the run folder, so it shows on every visit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import engine
from engine import charts
from ui import format as fmt
from ui import jobs

SIZES = (16, 32, 64, 128, 300, 1000, 0)  # 0: the whole split
TOP = 15  # groups in the chart


def _size_label(size: int) -> str:
    return "all" if size == 0 else str(size)


def _follow(verb: str, run_id: int) -> None:
    """The job's status while it runs; the page reruns once it completes (its result is in the run folder)."""
    job = jobs.latest_job(verb)
    if job is not None and job["kwargs"].get("run") == run_id:
        every = 2 if job["status"] in engine.JOB_UNFINISHED else None
        st.fragment(run_every=every)(jobs.follow)(verb, verb, run=run_id)


def sensitivity(run: dict) -> None:
    with st.expander("Quantization sensitivity: which layers cost the accuracy?", icon=":material/troubleshoot:"):
        st.caption(
            "Every group of INT8 quantizers NNCF's accuracy control would consider is put back in float alone"
            " and the network scored on the val split; the suggested ignored scope is the shortest set of"
            " groups that brings INT8 within the chosen drop of FP32."
        )
        with st.form("sensitivity"):
            left, right = st.columns(2)
            drop = left.number_input("Max drop vs FP32 (points)", 0.0, 20.0, 0.5, 0.1, format="%.1f")
            calib = right.number_input("Calibration images (train)", 1, 10_000, 300)
            if st.form_submit_button("Analyse", icon=":material/troubleshoot:"):
                kwargs = {"run": run["run"], "max_drop": drop / 100, "calib_size": int(calib)}
                jobs.start("sensitivity", kwargs, f"Sensitivity of run {run['run']}")
        _follow("sensitivity", run["run"])
        result = engine.saved_analysis(run["run"], "sensitivity")
        if result:
            _show_sensitivity(run, result)


def _show_sensitivity(run: dict, result: dict) -> None:
    name, suggested = result["metric_name"], result["suggested"]
    a, b, c = st.columns(3)
    a.metric(f"FP32 val {name}", f"{100 * result['fp32']:.2f} %")
    b.metric(f"INT8 val {name}", f"{100 * result['int8']:.2f} %", f"{100 * (result['int8'] - result['fp32']):+.2f} pp")
    c.metric(
        f"Suggested scope ({len(suggested['ignored_scope'])} layers)",
        f"{100 * suggested['metric']:.2f} %",
        f"{-suggested['drop_pp']:+.2f} pp vs FP32",
    )
    for warning in result["calibration"]["warnings"]:
        st.warning(warning, icon=":material/warning:")
    groups = pd.DataFrame(result["groups"])
    groups["label"] = [f"{ops[0]}{f' (+{len(ops) - 1})' if len(ops) > 1 else ''}" for ops in groups["operations"]]
    st.altair_chart(charts.sensitivity_bars(groups.head(TOP), name), width="stretch")
    table = groups.assign(
        metric=100 * groups["metric"],
        layers=groups["operations"].map(", ".join),
        types=groups["types"].map(lambda t: ", ".join(dict.fromkeys(t))),
    )[["group", "metric", "recovered_pp", "quantizers", "types", "layers"]]
    table = table.rename(columns={"metric": f"val {name} (%)", "recovered_pp": "recovered"})
    st.dataframe(fmt.frame(table, {"recovered": "pp"}), hide_index=True, width="stretch")
    st.markdown(f"**Suggested ignored scope** (max drop {100 * result['max_drop']:.2g} pp): {suggested['why']}.")
    if not suggested["ignored_scope"]:
        return
    st.code("\n".join(suggested["ignored_scope"]), language=None)
    ready = run["status"] in engine.RUN_HAS_MODEL
    if st.button(
        "Re-quantize without these (variant int8-custom)",
        type="primary",
        disabled=not ready,
        icon=":material/replay:",
        help="INT8 again with these layers in float: real int8 weights like int8; its speed and accuracy join"
        " the variant and benchmark tables.",
    ):
        kwargs = {
            "run": run["run"],
            "variants": ["int8-custom"],
            "ignored_scope": suggested["ignored_scope"],
            "calib_size": result["calibration"]["images"],
            "calib_split": result["calibration"]["split"],
        }
        jobs.start("optimize", kwargs, f"Optimize run {run['run']}: int8-custom")


def calibration(run: dict) -> None:
    with st.expander("Calibration: how many images, which ones?", icon=":material/tune:"):
        with st.form("calibration"):
            left, right = st.columns([1, 3])
            split = left.selectbox("Calibration split", ["train", "val"], help="test stays unseen.")
            sizes = right.multiselect(
                "Sizes", list(SIZES), default=[16, 64, 300, 0], format_func=_size_label, help="Images per INT8 model."
            )
            if st.form_submit_button("Sweep", icon=":material/tune:") and sizes:
                jobs.start(
                    "calibration_sweep",
                    {"run": run["run"], "sizes": sorted(sizes), "split": split},
                    f"Calibration sweep of run {run['run']}",
                )
        _follow("calibration_sweep", run["run"])
        result = engine.saved_analysis(run["run"], "calibration_sweep")
        if result:
            _show_calibration(result)


def _show_calibration(result: dict) -> None:
    name, rows = result["metric_name"], pd.DataFrame(result["rows"])
    st.altair_chart(charts.calibration_curve(rows, result["fp32"], name), width="stretch")
    table = rows.assign(
        metric=100 * rows["metric"],
        classes=rows["classes_covered"].map(lambda n: f"{n}/{result['classes']}"),
        overlap=rows["overlap"].map(lambda o: ", ".join(f"{k}: {v}" for k, v in o.items())),
    )[["size", "metric", "drop_pp", "quantize_s", "classes", "overlap"]]
    table = table.rename(
        columns={"size": f"{result['split']} images", "metric": f"val {name} (%)", "drop_pp": "drop vs FP32",
                 "quantize_s": "quantize", "overlap": "also in (same content)"}
    )  # fmt: skip
    st.dataframe(fmt.frame(table, {"drop vs FP32": "pp", "quantize": "seconds"}), hide_index=True, width="stretch")
    for warning in dict.fromkeys(w for row in result["rows"] for w in row["warnings"]):
        st.warning(warning, icon=":material/warning:")
    size = st.selectbox("Class coverage of the subset of", list(rows["size"]), index=len(rows) - 1)
    coverage = pd.DataFrame(rows.loc[rows["size"] == size, "coverage"].iloc[0])
    st.altair_chart(charts.bars(coverage, "class", "images", f"Calibration images per class ({size})"), width="stretch")
