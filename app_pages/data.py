"""Data: import a dataset (zip upload or server path), see its statistics, samples and problems."""

from pathlib import Path

import pandas as pd
import streamlit as st

import engine
from engine import charts
from ui import auth, jobs, state, widgets
from ui import format as fmt

MAX_UPLOAD_MB = int(st.get_option("server.maxUploadSize"))  # .streamlit/config.toml, or --server.maxUploadSize

st.title("Data")

with st.expander("Import a dataset", expanded=not engine.list_datasets()):
    source = st.segmented_control(
        "Source", ["Upload a zip", "Folder on the server"], default="Upload a zip", required=True
    )
    fmt = st.selectbox(
        "Format",
        ["auto-detect", *engine.list_formats()],
        help="Datumaro detects the format; pick one only when detection is ambiguous or wrong.",
    )
    name = st.text_input("Name (optional)")
    path = None
    if source == "Upload a zip":
        upload = st.file_uploader(f"Dataset zip (up to {MAX_UPLOAD_MB} MB)", type=["zip"])
        if upload is not None and st.button("Extract and import", type="primary"):
            if upload.size > MAX_UPLOAD_MB * 1024**2:
                st.error(f"{upload.name} is {upload.size / 1e6:.0f} MB; the limit is {MAX_UPLOAD_MB} MB.")
            else:  # the import job checks and extracts the zip safely
                path = engine.save_upload(upload.name, upload.getvalue())
                name = name or Path(upload.name).stem  # the user's file name, not the stored copy's
    else:
        roots = auth.data_roots()
        if roots == []:
            st.info(
                "Folder imports are off in a shared deployment: set `STUDIO_DATA_ROOTS` to the folders users may"
                " import from (e.g. `/data`), or upload a zip.",
                icon=":material/lock:",
            )
        server_path = st.text_input("Folder path", placeholder="/data/my-dataset", disabled=roots == [])
        if st.button("Import", type="primary", disabled=not server_path):
            if auth.allowed_path(server_path, roots):
                path = server_path
            else:
                st.error(f"{server_path} is outside the folders this deployment allows: {', '.join(roots)}")
    if path is not None:
        kwargs = {"path": str(path), "format": None if fmt == "auto-detect" else fmt, "name": name or None}
        jobs.start("import_dataset", kwargs, f"Import {name or path}")


def _imported(job: dict) -> None:
    """This session's import finished: its dataset becomes the one shown, and the user is told."""
    result = job["result"] or {}
    state.make_active(dataset=result.get("dataset"))
    st.session_state["_import_note"] = (
        f"Imported dataset {result.get('dataset')} · {result.get('name', '')}: {result.get('num_images', 0)} images,"
        f" {len(result.get('labels', []))} classes ({result.get('task', '')}, {result.get('format', '')})"
    )


@st.fragment(run_every=2)
def import_job() -> None:
    jobs.follow("import_dataset", "data", on_done=_imported)


import_job()

datasets = engine.list_datasets()
if not datasets:
    st.info("No dataset yet: import one above, or load the sample project on Home.")
    st.stop()
if "_import_note" in st.session_state:
    st.success(st.session_state.pop("_import_note"), icon=":material/check_circle:")
choice = widgets.active_dataset_picker(datasets, key="data_dataset")
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
left.altair_chart(charts.class_distribution(counts, info["count_unit"]), width="stretch")
sizes = pd.DataFrame(info.get("image_sizes", []), columns=["width", "height"])
right.altair_chart(charts.image_sizes(sizes), width="stretch")
task_charts = info["charts"]  # the task's own statistics (boxes per image, box sizes, pixel shares...)
for start in range(0, len(task_charts), 2):
    for col, chart in zip(st.columns(2), task_charts[start : start + 2], strict=False):
        col.altair_chart(charts.from_spec(chart), width="stretch")

st.subheader("Samples")
split = st.segmented_control("Split", ["train", "val", "test"], default="train", required=True, key="gallery_split")
for col, (shown, caption) in zip(st.columns(6) * 2, engine.gallery(choice, split, count=12), strict=False):
    col.image(shown, caption=caption, width="stretch")  # the annotations, drawn

st.subheader("Problems found")
for note in info.get("notes", []):
    st.info(
        f"**{note['kind'].capitalize()}**: {note['message']}. {note['action'].capitalize()}.", icon=":material/info:"
    )
problems = info.get("problems", [])
if problems:
    st.warning(f"{len(problems)} problem(s). Skipped items are not used; fix the files and import again to use them.")
    st.dataframe(fmt.frame(problems), width="stretch", hide_index=True)
else:
    st.success("No problems: every image decoded and annotated, no image appears in two splits.")
