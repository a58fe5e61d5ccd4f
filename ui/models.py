"""Loaded models shared by the pages (compiled once per variant file, warmed up)."""

from __future__ import annotations

import streamlit as st

import engine


@st.cache_resource(max_entries=8, show_spinner="Loading model...")
def _loaded(run_id: int, variant: str, mtime: float):
    return engine.load_model(run_id, variant)


def loaded(run_id: int, variant: str):
    """One compiled, warmed-up model per variant file (the file's mtime keys the cache, so a rebuild reloads)."""
    return _loaded(run_id, variant, engine.variant_file(run_id, variant).stat().st_mtime)
