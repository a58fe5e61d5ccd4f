"""Reusable widgets: variant and device pickers."""

from __future__ import annotations

import streamlit as st

import engine


@st.cache_data(ttl=300, show_spinner=False)
def devices() -> list[dict]:
    return engine.devices()


def device_picker(key: str, *, container=st) -> list[str]:
    """Devices from ``openvino.Core().available_devices`` plus AUTO, shown with their full names."""
    found = devices()
    names = {d["device"]: f"{d['device']} — {d.get('full_device_name', '')}" for d in found}
    return container.multiselect(
        "Devices",
        list(names),
        default=[found[0]["device"]],
        format_func=names.get,
        key=key,
        help="openvino.Core().available_devices, plus AUTO (automatic device selection).",
    )


def variant_picker(run: dict, label: str, default: str, key: str) -> str:
    options = run["variants"] or ["torch-fp32"]
    index = options.index(default) if default in options else len(options) - 1
    return st.selectbox(
        label,
        options,
        index=index,
        key=key,
        format_func=lambda v: f"{v} — {engine.VARIANTS[v].precision} {engine.VARIANTS[v].backend}",
    )


def dataset_picker(datasets: list[dict], *, container=st, key: str | None = None, prefer: int | None = None) -> int:
    """Pick one of ``engine.list_datasets()`` (``prefer`` selected when given, else the newest)."""
    names = {d["dataset"]: f"{d['dataset']} · {d['name']} · {d['task']} · {d['images']} images" for d in datasets}
    ids = list(names)
    index = ids.index(prefer) if prefer in names else len(ids) - 1
    return container.selectbox("Dataset", ids, index=index, format_func=names.get, key=key)


def active_dataset_picker(datasets: list[dict], *, key: str) -> int:
    """Pick this session's active dataset (``ui.state``): shows it, and a pick makes the picked one active
    (outside forms: it needs a callback)."""
    from ui import state

    names = {d["dataset"]: f"{d['dataset']} · {d['name']} · {d['task']} · {d['images']} images" for d in datasets}
    st.session_state[key] = state.active_dataset(datasets)  # an import may have changed it since the last run

    def picked() -> None:
        state.make_active(dataset=st.session_state[key])

    return st.selectbox("Dataset", list(names), format_func=names.get, key=key, on_change=picked)


def precision_note() -> str:
    """What each device reports about its precisions, read from OpenVINO (never assumed)."""
    parts = []
    for d in devices():
        if "inference_precision_hint" not in d:
            continue
        caps = ", ".join(d.get("optimization_capabilities", [])) or "none reported"
        parts.append(
            f"{d['device']} ({d.get('full_device_name', '')}) reports OPTIMIZATION_CAPABILITIES {caps} and runs"
            f" {d['inference_precision_hint']} by default"
        )
    return (
        "'precision ran' is the INFERENCE_PRECISION_HINT each compiled model reports. "
        + "; ".join(parts)
        + ". A row marked (asked) ran the precision picked above instead of the device's default."
    )


def variant_option(container, option: dict):
    """The input for one variant option (``engine.variant_options()``): a choice list, or a number within the
    option's bounds. An option whose default is None ("the run's own") shows 0 for it and returns None."""
    label, hint, default = option["label"], option["help"], option["default"]
    key = f"variant-option-{option['parameter']}"
    if option["choices"]:
        choices = option["choices"]
        return container.selectbox(label, list(choices), list(choices).index(default), format_func=choices.get,
                                   help=hint, key=key)  # fmt: skip
    low, high = option["bounds"]
    if option["type"] is int:
        return int(container.number_input(label, int(low), int(high), int(default), 1, help=hint, key=key))
    step = 1e-4 if default is None else 0.05
    value = container.number_input(label, float(low), float(high), float(default or 0.0), step, help=hint, key=key,
                                   format="%.4f" if default is None else "%.2f")  # fmt: skip
    return (float(value) or None) if default is None else float(value)
