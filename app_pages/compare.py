"""Compare: the original and the optimized model on the same image, side by side, and where they disagree."""

from pathlib import Path

import pandas as pd
import streamlit as st

import engine
from engine import charts
from ui import format as fmt
from ui import headline, jobs, saliency_view, state, widgets
from ui.models import loaded

st.title("Compare")
run = state.require_run()
st.caption(state.run_label(run))
if len(run["variants"]) < 2:
    st.info("Optimize the run first (**Optimize** page): Compare needs at least one OpenVINO variant.")
    st.stop()


measured = engine.benchmark_table(run["run"])
headline.render(run, measured=measured)
benchmarked = {
    r["variant"]: r["median ms"] for r in measured["rows"] if r["device"] == "CPU" and "(default)" in r["config"]
}

left, right = st.columns(2)
with left:
    a = widgets.variant_picker(run, "Original", "torch-fp32", key="cmp_a")
with right:  # the variant measured fastest within the accuracy budget here, else INT8
    pick = measured["pick"]
    b = widgets.variant_picker(run, "Optimized", pick["variant"] if pick else "int8", key="cmp_b")
mtimes = {v: engine.variant_file(run["run"], v).stat().st_mtime for v in (a, b)}

source = st.segmented_control("Image", ["Test split", "Upload", "Camera"], default="Test split", required=True)
image, image_path = None, None
if source == "Test split":
    samples = engine.dataset_samples(run["dataset"], "test", captions=False)
    if "cmp_index" in st.session_state:  # a row of the ranking below was chosen: show that image
        st.session_state["cmp_slider"] = min(st.session_state.pop("cmp_index"), len(samples) - 1)
    index = st.slider("Test image", 0, len(samples) - 1, key="cmp_slider")
    image_path = samples[index]["image"]
    image = engine.read_image(image_path)
else:
    upload = (
        st.file_uploader("Image", type=["png", "jpg", "jpeg", "bmp", "webp"])
        if source == "Upload"
        else st.camera_input("Take a picture")
    )
    if upload is not None:
        try:
            image = engine.read_image(upload, upload.name)
        except engine.StudioError as exc:
            st.error(str(exc))

if image is not None:
    models = {variant: loaded(run["run"], variant) for variant in (a, b)}
    for col, variant in zip(st.columns(2), (a, b), strict=True):
        model = models[variant]
        pred = model.predict([image])[0]
        with col:
            st.markdown(f"**{variant}** · {model.backend}")
            st.image(model.draw(image, pred), width="stretch")
            c1, c2 = st.columns(2)
            c1.metric(
                "Benchmarked median",
                fmt.ms(benchmarked.get(variant)),
                help="Median of the Benchmark job's requests (batch 1, CPU, the device's default precision)."
                if variant in benchmarked
                else "Not benchmarked yet: run it on the Benchmark page.",
            )
            c2.metric(
                "This image (single sample)",
                fmt.ms(pred.timing.total_ms),
                help=f"One request, pre + infer + post: pre {pred.timing.preprocess_ms:.2f} · infer"
                f" {pred.timing.inference_ms:.2f} · post {pred.timing.postprocess_ms:.2f} ms. One sample swings"
                " with whatever else the machine does; the benchmarked median is the number to compare.",
            )

    if a != b:
        saliency_view.render(run["run"], a, b, image, image_path)

matrices = engine.confusions(run["run"], [a, b])
if matrices["cells"]:  # classification: the classes each model confuses, side by side
    st.subheader("Per class")
    st.altair_chart(charts.confusion_matrices(pd.DataFrame(matrices["cells"])))
    recall = {c: "percent" for row in matrices["per_class"][:1] for c in row if c != "class"}
    st.dataframe(fmt.frame(matrices["per_class"], recall), hide_index=True, width="stretch")

st.subheader("Where they disagree")
want = {"run": run["run"], "a": a, "b": b}
compare_jobs = [j for j in engine.list_jobs() if j["verb"] == "compare" and j["kwargs"] == want]
done = [j for j in compare_jobs if j["status"] == engine.JobStatus.COMPLETED and j["finished"] >= max(mtimes.values())]
if not done:
    title = f"Compare {a} and {b} on run {run['run']}"
    if compare_jobs and compare_jobs[-1]["status"] == engine.JobStatus.FAILED:
        st.error(compare_jobs[-1]["error"])
        if st.button("Retry the comparison"):
            jobs.start("compare", want, title)
        st.stop()
    if not any(j["status"] in engine.JOB_UNFINISHED for j in compare_jobs):
        st.caption(
            "Run both models on every test image and rank the images by how much they disagree: a background"
            " job, kept for this pair of variants."
        )
        if st.button("Find where they disagree", icon=":material/difference:", key="cmp_go"):
            jobs.start("compare", want, title)
            st.rerun()
        st.stop()

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
table.insert(0, "test image", table.pop("index"))  # the slider's number, so a row and the slider agree
picked = st.dataframe(
    fmt.frame(table.drop(columns=["image"])),
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="cmp_table",
)
rows = picked.selection.rows if picked else []
if rows and st.session_state.get("_cmp_picked") != rows[0]:  # a newly selected row: open its image above
    st.session_state["_cmp_picked"] = rows[0]
    st.session_state["cmp_index"] = result["rows"][rows[0]]["index"]
    st.rerun()
