"""Compare: the original and the optimized model on the same image, side by side, and where they disagree."""

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

import engine
from engine.pipeline.context import Context
from engine.pipeline.optimizing import load_predictor
from ui import jobs, state, widgets

st.title("Compare")
run = state.require_run()
st.caption(state.run_label(run))
if len(run["variants"]) < 2:
    st.info("Optimize the run first (**Optimize** page): Compare needs at least one OpenVINO variant.")
    st.stop()


@st.cache_resource(max_entries=8, show_spinner="Loading model...")
def predictor(run_id: int, variant: str, path: str, mtime: float):
    """One compiled model per variant file (the path and mtime key the cache)."""
    ctx = Context.open()
    model = load_predictor(ctx, ctx.run(run_id), variant, config={})
    model.predict([np.zeros((model.img_size, model.img_size, 3), np.uint8)] * 3)  # warm-up: first calls are slow
    return model


def get_predictor(variant: str):
    path = variant_paths[variant]
    return predictor(run["run"], variant, str(path), path.stat().st_mtime)


left, right = st.columns(2)
with left:
    a = widgets.variant_picker(run, "Original", "torch-fp32", key="cmp_a")
with right:
    b = widgets.variant_picker(run, "Optimized", "int8", key="cmp_b")

ctx = Context.open()
variant_paths = {v: ctx.variant_path(ctx.run(run["run"]), v) for v in (a, b)}

source = st.segmented_control("Image", ["Test split", "Upload", "Camera"], default="Test split", required=True)
image = None
if source == "Test split":
    samples = engine.dataset_samples(run["dataset"], "test")
    index = st.session_state.get("cmp_index", 0)
    index = st.slider("Test image", 0, len(samples) - 1, min(index, len(samples) - 1), key="cmp_slider")
    image = np.asarray(Image.open(samples[index][0]).convert("RGB"))
elif source == "Upload":
    upload = st.file_uploader("Image", type=["png", "jpg", "jpeg", "bmp", "webp"])
    if upload is not None:
        try:
            image = np.asarray(Image.open(upload).convert("RGB"))
        except Exception as exc:
            st.error(f"Cannot read {upload.name} as an image ({exc}); upload a PNG or JPEG.")
else:
    shot = st.camera_input("Take a picture")
    if shot is not None:
        image = np.asarray(Image.open(shot).convert("RGB"))

if image is not None:
    for col, variant in zip(st.columns(2), (a, b), strict=True):
        model = get_predictor(variant)
        pred = model.predict([image])[0]
        with col:
            st.markdown(f"**{variant}** · {model.backend}")
            st.image(model.spec.draw(image, pred, model.labels), width="stretch")
            st.metric(
                "Latency (pre + infer + post)",
                f"{pred.timing.total_ms:.2f} ms",
                help=f"pre {pred.timing.preprocess_ms:.2f} · infer {pred.timing.inference_ms:.2f}"
                f" · post {pred.timing.postprocess_ms:.2f} ms",
            )

st.subheader("Where they disagree")
want = {"run": run["run"], "a": a, "b": b}
newest_model = max(variant_paths[v].stat().st_mtime for v in (a, b))
compare_jobs = [j for j in engine.list_jobs() if j["verb"] == "compare" and j["kwargs"] == want]
done = [j for j in compare_jobs if j["status"] == "completed" and j["finished"] >= newest_model]
if not done:
    title = f"Compare {a} and {b} on run {run['run']}"
    if compare_jobs and compare_jobs[-1]["status"] == "failed":
        st.error(compare_jobs[-1]["error"])
        if st.button("Retry the comparison"):
            jobs.start("compare", want, title)
        st.stop()
    if not any(j["status"] in ("queued", "starting", "running") for j in compare_jobs):
        jobs.start("compare", want, title)  # both models on every test image, in the background

    @st.fragment(run_every=2)
    def ranking_job() -> None:
        jobs.follow("compare", "compare", run=run["run"])
        st.caption("Running both models on every test image in the background...")

    ranking_job()
    st.stop()
result = done[-1]["result"]
st.caption(
    f"They differ on {result['label_flips']} of {result['images']} test images · rows sorted by disagreement"
    " · select a row to open it above"
)
table = pd.DataFrame(result["rows"])
table.insert(0, "file", table["image"].map(lambda p: Path(p).name))
picked = st.dataframe(
    table.drop(columns=["image"]),
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="cmp_table",
)
rows = picked.selection.rows if picked else []
if rows:
    chosen = result["rows"][rows[0]]["image"]
    test_paths = [p for p, _ in engine.dataset_samples(run["dataset"], "test")]
    if chosen in test_paths and st.session_state.get("cmp_index") != test_paths.index(chosen):
        st.session_state["cmp_index"] = test_paths.index(chosen)
        st.session_state.pop("cmp_slider", None)
        st.rerun()
