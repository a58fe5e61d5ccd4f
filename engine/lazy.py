"""Deferred imports, so the CLI's light verbs (help, lists, jobs) start without torch, NNCF, OpenVINO or Datumaro.

``module("engine.pipeline.training")`` is a stand-in that imports the module on the first attribute read;
a facade written against it reads like ordinary module use (``training.train(...)``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """A module imported on first use."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}{' (loaded)' if self._module else ''}>"


def module(name: str) -> LazyModule:
    return LazyModule(name)
