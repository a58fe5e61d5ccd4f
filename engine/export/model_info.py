"""Model API metadata (``rt_info['model_info']``) so an IR works in Model API, OVMS and DL Streamer as is."""

from __future__ import annotations

from engine.inference.preprocess import model_api_preprocessing
from engine.tasks import Task

REQUIRED_KEYS = (
    "model_type",
    "labels",
    "mean_values",
    "scale_values",
    "reverse_input_channels",
    "resize_type",
    "input_dtype",
)


def label_token(name: str) -> str:
    """Model API stores labels space-separated, so a label must not contain spaces."""
    return "_".join(name.split()) or "_"


def build(task: Task, labels: list[str]) -> dict[str, str]:
    names = task.model_api_labels(labels)
    return {
        **task.model_info(),
        "labels": " ".join(label_token(n) for n in names),
        "label_ids": " ".join(str(i) for i in range(len(names))),
        **model_api_preprocessing(),
    }


def attach(ov_model, task: Task, labels: list[str]) -> dict[str, str]:
    info = build(task, labels)
    for key, value in info.items():
        ov_model.set_rt_info(value, ["model_info", key])
    return info


def read(ov_model) -> dict[str, str]:
    if not ov_model.has_rt_info(["model_info"]):
        return {}
    return {key: value.astype(str) for key, value in ov_model.get_rt_info()["model_info"].items()}
