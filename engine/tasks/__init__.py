"""The task registry: one :class:`~engine.tasks.base.Task` per vision task.

Adding a task is one subclass of ``Task`` and one entry below; nothing else names a task.
"""

from __future__ import annotations

from engine.errors import StudioError, choice_error
from engine.tasks.base import SampleRecipe, Task
from engine.tasks.classification import Classification
from engine.tasks.detection import Detection
from engine.tasks.segmentation import Segmentation

TASKS: dict[str, Task] = {t.name: t for t in (Classification(), Detection(), Segmentation())}
DEFAULT_TASK = next(iter(TASKS))


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name lists the valid ones."""
    if name not in TASKS:
        raise choice_error("task", name, list(TASKS))
    return TASKS[name]


def task_of_model_type(model_type: str) -> Task:
    """The task whose IRs carry Model API ``model_type`` (read back from an IR's rt_info)."""
    for task in TASKS.values():
        if task.model_info()["model_type"] == model_type:
            return task
    msg = f"the IR's model_type {model_type!r} is not one this product runs; it reads IRs of: {', '.join(TASKS)}"
    raise StudioError(msg)


__all__ = ["DEFAULT_TASK", "TASKS", "SampleRecipe", "Task", "get_task", "task_of_model_type"]
