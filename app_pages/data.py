"""Data: import a dataset (zip upload or server path), see its statistics, samples and problems."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

import engine
from engine.data.archive import dataset_root, safe_extract
from engine.data.images import read_rgb
from engine.data.importer import supported_formats
from engine.errors import StudioError
from engine.registry import get_task
from ui import charts, jobs, state, widgets

MAX_UPLOAD_MB = 1024

st.title("Data")

with st.expander("Import a dataset", expanded=not engine.list_datasets()):
    source = st.segmented_control(
        "Source", ["Upload a zip", "Folder on the server"], default="Upload a zip", required=True
    )
    fmt = st.selectbox(
        "Format",
        ["auto-detect", *supported_formats()],
        help="Datumaro detects the format; pick one only when detection is ambiguous or wrong.",
    )
    name = st.text_input("Name (optional)")
    path = None
    if source == "Upload a zip":
        upload = st.file_uploader(f"Dataset zip (up to {MAX_UPLOAD_MB} MB)", type=["zip"])
        if upload is not None and st.button("Extract and import", type="primary"):
            if upload.size > MAX_UPLOAD_MB * 1024**2:
                st.error(f"{upload.name} is {upload.size / 1e6:.0f} MB; the limit is {MAX_UPLOAD_MB} MB.")
            else:
                target = Path(state.workspace()) / "uploads" / f"{Path(upload.name).stem}-{upload.file_id[:8]}"
                if target.is_dir():  # the same upload again: it was extracted and checked already
                    path = dataset_root(target)
                else:
                    with tempfile.NamedTemporaryFile(suffix=".zip") as tmp:
                        tmp.write(upload.getbuffer())
                        tmp.flush()
                        try:
                            path = safe_extract(tmp.name, target)
                        except StudioError as exc:
                            st.error(str(exc))
    else:
        server_path = st.text_input("Folder path", placeholder="/data/my-dataset")
        if st.button("Import", type="primary", disabled=not server_path):
            path = Path(server_path)
    if path is not None:
        kwargs = {"path": str(path), "format": None if fmt == "auto-detect" else fmt, "name": name or None}
        jobs.start("import_dataset", kwargs, f"Import {path.name}")


@st.fragment(run_every=2)
def import_job() -> None:
    jobs.follow("import_dataset", "data")


import_job()

datasets = engine.list_datasets()
if not datasets:
    st.info("No dataset yet: import one above, or load the sample project on Home.")
    st.stop()
active = state.active_run()
choice = widgets.dataset_picker(datasets, prefer=active["dataset"] if active else None)
info = engine.dataset_info(choice)
st.caption(
    f"Format **{info['format']}** (auto-detected by Datumaro) · task **{info['task']}** · from `{info['source']}`"
)

cols = st.columns(4)
for col, split in zip(cols, ("train", "val", "test"), strict=False):
    col.metric(split, info["splits"][split]["images"])
cols[3].metric("classes", len(info["labels"]))

counts = pd.DataFrame(
    [{"class": c, "split": s, "images": n} for s, v in info["splits"].items() for c, n in v["per_class"].items()]
)
left, right = st.columns(2)
unit = "objects" if info["task"] == "detection" else "images"
left.altair_chart(charts.class_distribution(counts, unit), width="stretch")
sizes = pd.DataFrame(info.get("image_sizes", []), columns=["width", "height"])
right.altair_chart(charts.image_sizes(sizes), width="stretch")
if "boxes_per_image" in info:
    left, right = st.columns(2)
    per_image = pd.DataFrame(
        [{"boxes": int(k), "images": v} for k, v in info["boxes_per_image"].get("histogram", {}).items()]
    )
    left.altair_chart(charts.bars(per_image, "boxes", "images", "Boxes per image"), width="stretch")
    box_sizes = pd.DataFrame(info.get("box_sizes", []), columns=["width", "height"])
    right.altair_chart(charts.image_sizes(box_sizes, title="Box sizes (px)"), width="stretch")
if "mask_class_area" in info:
    areas = pd.DataFrame([{"class": k, "share": v} for k, v in info["mask_class_area"].items()])
    st.altair_chart(charts.bars(areas, "class", "share", "Share of annotated pixels per class"), width="stretch")

st.subheader("Samples")
split = st.segmented_control("Split", ["train", "val", "test"], default="train", required=True, key="gallery_split")
samples = engine.dataset_samples(choice, split)
step = max(len(samples) // 12, 1)
spec = get_task(info["task"])
for col, (image_path, target) in zip(st.columns(6) * 2, samples[::step][:12], strict=False):
    shown = spec.draw(read_rgb(image_path), spec.ground_truth(target), info["labels"])  # the annotations, drawn
    col.image(shown, caption=spec.gallery_caption(target, info["labels"]), width="stretch")

st.subheader("Problems found")
problems = info.get("problems", [])
if problems:
    st.warning(f"{len(problems)} problem(s). Skipped items are not used; fix the files and import again to use them.")
    st.dataframe(pd.DataFrame(problems), width="stretch", hide_index=True)
else:
    st.success("No problems: every image decoded and annotated, no image appears in two splits.")
