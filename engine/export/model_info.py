"""Model API metadata (``rt_info['model_info']``) so an IR works in Model API, OVMS and DL Streamer as is."""

from __future__ import annotations

from engine.errors import StudioError
from engine.inference.preprocess import model_api_preprocessing
from engine.registry import TASKS, TaskSpec

REQUIRED_KEYS = (
    "model_type",
    "labels",
    "mean_values",
    "scale_values",
    "reverse_input_channels",
    "resize_type",
)


def label_token(name: str) -> str:
    """Model API stores labels space-separated, so a label must not contain spaces."""
    return "_".join(name.split()) or "_"


def build(spec: TaskSpec, labels: list[str]) -> dict[str, str]:
    return {
        **spec.model_info(labels),
        "labels": " ".join(label_token(n) for n in labels),
        "label_ids": " ".join(str(i) for i in range(len(labels))),
        **model_api_preprocessing(),
    }


def attach(ov_model, spec: TaskSpec, labels: list[str]) -> dict[str, str]:
    info = build(spec, labels)
    for key, value in info.items():
        ov_model.set_rt_info(value, ["model_info", key])
    return info


def read(ov_model) -> dict[str, str]:
    if not ov_model.has_rt_info(["model_info"]):
        return {}
    return {key: value.astype(str) for key, value in ov_model.get_rt_info()["model_info"].items()}


def task_of_model_type(model_type: str) -> str:
    for spec in TASKS.values():
        if spec.model_info([]).get("model_type") == model_type:
            return spec.name
    msg = f"model_type {model_type!r} is not a task this product runs ({', '.join(TASKS)})"
    raise StudioError(msg)
