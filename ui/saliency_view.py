"""Where each model looks: RISE saliency maps of the original and the optimized model on Compare's image.

The maps cost hundreds of predictions per model, so they are a background job (the ``saliency`` verb) started
by a button, followed with a progress line, and kept: the same run, pair, image and mask count is shown from
the finished job without running again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

import engine
from ui import jobs


def render(run: int, a: str, b: str, image: np.ndarray, image_path: str | None) -> None:
    """``image_path``: the image's file (a test image), else the pixels are kept in the workspace first."""
    with st.expander("Saliency: where each model looks", icon=":material/visibility:"):
        st.caption(
            "RISE (randomized input sampling): the image is shown through hundreds of random masks, and each pixel"
            " scores how much of the original model's prediction survives when it is visible. Both models get the"
            " same masks and explain the same prediction, so the maps compare pixel by pixel."
        )
        c1, c2 = st.columns([1, 3])
        masks = c1.select_slider("Masks", [100, 200, 300, 500, 1000], 300, key="sal_masks")
        digest = hashlib.sha1(image.tobytes()).hexdigest()[:12]
        folder = Path(engine.workspace_root()) / "runs" / str(run) / "saliency" / f"{digest}-{a}-{b}-{masks}"
        want = {"run": run, "a": a, "b": b, "masks": masks, "save": str(folder)}
        done = [
            j for j in engine.list_jobs() if j["verb"] == "saliency" and _same(j["kwargs"], want)
        ]  # fmt: skip
        finished = [
            j
            for j in done
            if j["status"] == engine.JobStatus.COMPLETED and all(Path(p).is_file() for p in j["result"]["saved"])
        ]
        if finished:
            _show(finished[-1]["result"], a, b)
            return
        running = [j for j in done if j["status"] in engine.JOB_UNFINISHED]
        if running:
            _follow(running[-1]["id"])
            return
        if c2.button("Explain this image", icon=":material/visibility:", key="sal_go"):
            if image_path is None:
                folder.mkdir(parents=True, exist_ok=True)
                image_path = str(folder / "image.png")
                Image.fromarray(image).save(image_path)
            jobs.start("saliency", {**want, "image": image_path}, f"Saliency of {a} and {b} on run {run}")
            st.rerun()


def _same(kwargs: dict, want: dict) -> bool:
    return all(kwargs.get(k) == v for k, v in want.items())


@st.fragment(run_every=2)
def _follow(job_id: int) -> None:
    job = next((j for j in engine.list_jobs() if j["id"] == job_id), None)
    if job is None or job["status"] == engine.JobStatus.COMPLETED:
        st.rerun(scope="app")
    jobs.job_status(job, key="saliency")
    st.caption("Both models run on every masked copy in a background job; the page stays usable meanwhile.")


def _show(result: dict, a: str, b: str) -> None:
    sim = result["similarity"]
    st.markdown(
        f"{result['explained'].capitalize()} · maps agree: correlation **{sim['correlation']:.2f}**,"
        f" top-20 % pixels overlap **{sim['top20_iou']:.0%}** · {result['masks']} masks"
    )
    original, optimized = result["saved"]
    for col, (name, path) in zip(st.columns(2), ((a, original), (b, optimized)), strict=True):
        col.image(path, caption=name, width="stretch")
