"""The dashboard's error boundary: a failure in a page becomes one line on the page (what, and what to do),
with the traceback in the workspace's error log when it is a bug, never a stack trace in the browser."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

import engine


@contextlib.contextmanager
def boundary(where: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # Streamlit's rerun/stop are BaseExceptions and pass through
        st.error(engine.explain_failure(exc, where), icon=":material/error:")
