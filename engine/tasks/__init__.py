"""The task registry: one :class:`~engine.tasks.base.Task` per vision task.

Adding a task is one package and one entry in ``REGISTRY``; nothing else names a task. A task's package,
``engine/tasks/<name>/``:

- ``task.py``: the :class:`~engine.tasks.base.Task` subclass the registry names (reading Datumaro annotations,
  metrics, post-processing, drawing, the Deploy snippet's lines, the defaults that train the sample);
- ``data.py``: the torch dataset and its v2 augmentation;
- ``models.py``: the torchvision architectures, their heads and their ImageNet weights;
- ``sample.py``: the built-in sample's offline generator.

Nothing outside a task's package imports it except through the registry; the package's ``__init__`` imports
nothing and holds only plain constants (the primary metric's key and name, the Datumaro formats it reads, each
architecture's ImageNet weights file), so naming a task, listing its runs and listing weights stay cheap. The
task classes (and with them torch, torchvision and Datumaro) are imported on the first use of ``TASKS`` or
``get_task``, so the CLI's light verbs start fast; ``TASK_NAMES`` and ``DEFAULT_TASK`` need no import.
"""

from __future__ import annotations

import importlib
from typing import Any

from engine.errors import StudioError, choice_error
from engine.tasks.base import SampleRecipe, Task

REGISTRY = {  # name -> "module:class"
    "classification": "engine.tasks.classification.task:Classification",
    "detection": "engine.tasks.detection.task:Detection",
    "segmentation": "engine.tasks.segmentation.task:Segmentation",
    "instance_segmentation": "engine.tasks.instance_segmentation.task:InstanceSegmentation",
}
TASK_NAMES = tuple(REGISTRY)
DEFAULT_TASK = TASK_NAMES[0]
_TASKS: dict[str, Task] = {}


def tasks() -> dict[str, Task]:
    """Every task, name -> instance (imported and made on the first call)."""
    if not _TASKS:
        for name, where in REGISTRY.items():
            module, cls = where.split(":")
            task = getattr(importlib.import_module(module), cls)()
            if task.name != name:
                msg = f"{where} is registered as {name!r} but names itself {task.name!r}"
                raise RuntimeError(msg)
            _TASKS[name] = task
    return _TASKS


def __getattr__(name: str) -> Any:  # ``from engine.tasks import TASKS`` builds the registry on first use
    if name == "TASKS":
        return tasks()
    msg = f"module 'engine.tasks' has no attribute {name!r}"
    raise AttributeError(msg)


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name lists the valid ones."""
    if name not in REGISTRY:
        raise choice_error("task", name, list(TASK_NAMES))
    return tasks()[name]


def primary_metric(name: str) -> tuple[str, str]:
    """The task's primary metric: its key in metric dicts and how it is shown (``Task.primary_metric`` and
    ``Task.metric_name``), read from the task package's ``__init__`` without importing its modules (or torch):
    what listing runs needs of a task."""
    package = _package(name)
    return package.PRIMARY_METRIC, package.METRIC_NAME


def import_formats(name: str) -> tuple[str, ...]:
    """The Datumaro formats the task reads, preferred first (``Task.formats``), without importing its modules."""
    return _package(name).FORMATS


def all_formats() -> list[str]:
    """Every Datumaro format some task reads (``data formats``), without importing Datumaro or any task module."""
    return sorted({fmt for name in TASK_NAMES for fmt in import_formats(name)})


def pretrained_weights(name: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The task's ImageNet weights, read from its package's ``__init__`` without torch: their kind ("full model"
    or "backbone") and architecture -> (torchvision's enum member, its file name). What ``weights list`` needs."""
    package = _package(name)
    return package.WEIGHTS_KIND, package.WEIGHTS


def _package(name: str) -> Any:
    """The task package's ``__init__`` (plain constants; its modules are not imported)."""
    if name not in REGISTRY:
        raise choice_error("task", name, list(TASK_NAMES))
    return importlib.import_module(REGISTRY[name].split(":")[0].rsplit(".", 1)[0])


def task_of_model_type(model_type: str) -> Task:
    """The task whose IRs carry Model API ``model_type`` (read back from an IR's rt_info)."""
    for task in tasks().values():
        if task.model_info()["model_type"] == model_type:
            return task
    msg = f"the IR's model_type {model_type!r} is not one this product runs; it reads IRs of: {', '.join(TASK_NAMES)}"
    raise StudioError(msg)


__all__ = [
    "DEFAULT_TASK",
    "TASKS",
    "TASK_NAMES",
    "SampleRecipe",
    "Task",
    "all_formats",
    "get_task",
    "import_formats",
    "pretrained_weights",
    "primary_metric",
    "task_of_model_type",
    "tasks",
]
