"""Reusable widgets: variant and device pickers."""

from __future__ import annotations

import streamlit as st

import engine
from engine.export.variants import VARIANTS


@st.cache_data(ttl=300, show_spinner=False)
def devices() -> list[dict]:
    return engine.devices()


def device_picker(key: str) -> list[str]:
    found = devices()
    names = {d["device"]: f"{d['device']} — {d.get('full_device_name', '')}" for d in found}
    return st.multiselect(
        "Devices",
        list(names),
        default=[found[0]["device"]],
        format_func=names.get,
        key=key,
        help="From openvino.Core().available_devices, plus AUTO (automatic device selection).",
    )


def variant_picker(run: dict, label: str, default: str, key: str) -> str:
    options = run["variants"] or ["torch-fp32"]
    index = options.index(default) if default in options else len(options) - 1
    return st.selectbox(
        label,
        options,
        index=index,
        key=key,
        format_func=lambda v: f"{v} — {VARIANTS[v].precision} {VARIANTS[v].backend}",
    )
