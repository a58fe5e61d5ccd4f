"""Where each model looks: RISE saliency maps of the original and the optimized model on Compare's image."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

import engine


def render(models: dict[str, object], image: np.ndarray) -> None:
    """``models``: variant -> loaded model, original first. Computed on request (it costs hundreds of
    predictions per model) and kept for this image and pair in the session."""
    (a, original), (b, optimized) = models.items()
    key = (a, b, hashlib.sha1(image.tobytes()).hexdigest())
    with st.expander("Saliency: where each model looks", icon=":material/visibility:"):
        st.caption(
            "RISE (randomized input sampling): the image is shown through hundreds of random masks, and each pixel"
            " scores how much of the original model's prediction survives when it is visible. Both models get the"
            " same masks and explain the same prediction, so the maps compare pixel by pixel."
        )
        c1, c2 = st.columns([1, 3])
        masks = c1.select_slider("Masks", [100, 200, 300, 500, 1000], 300, key="sal_masks")
        cached = st.session_state.get("_saliency", {})
        if c2.button("Explain this image", icon=":material/visibility:", key="sal_go"):
            with st.spinner(f"Running both models on {masks} masked copies..."):
                cached = {key: engine.explain(original, optimized, image, masks=masks)}
            st.session_state["_saliency"] = cached
        result = cached.get(key)
        if result is None:
            return
        sim = result["similarity"]
        st.markdown(
            f"{result['explained'].capitalize()} · maps agree: correlation **{sim['correlation']:.2f}**,"
            f" top-20 % pixels overlap **{sim['top20_iou']:.0%}**"
        )
        for col, (name, role) in zip(st.columns(2), ((a, "original"), (b, "optimized")), strict=True):
            col.image(result["overlays"][role], caption=f"{name} · {result['seconds'][role]:.1f} s", width="stretch")
