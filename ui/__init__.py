"""Streamlit-only helpers for the pages: state, widgets, job polling and pure chart builders."""
