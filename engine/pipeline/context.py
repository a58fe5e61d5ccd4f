"""Shared plumbing for the verbs: the workspace + database pair, run folders, per-run log files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.errors import StudioError
from engine.export.variants import VARIANTS
from engine.status import Backend, RunStatus
from engine.store import Database, Workspace, integrity, lock
from engine.store.atomic import read_json
from engine.tasks import Task, get_task

IR_FILES = ("model.xml", "model.bin")


@dataclass(frozen=True)
class Context:
    ws: Workspace
    db: Database

    @classmethod
    def open(cls, workspace: str | Path | None = None) -> Context:
        ws = Workspace.open(workspace)
        return cls(ws, Database(ws.db_path))

    def run(self, run_id: int | str) -> dict:
        return self._settle(self.db.get_run(run_id))

    def runs(self) -> list[dict]:
        return [self._settle(run) for run in self.db.list_runs()]

    def _settle(self, run: dict) -> dict:
        """A run marked running that no live process owns was killed (kill -9, power loss, disk full):
        it is ``interrupted`` and can be resumed from its last finished epoch."""
        if run["status"] == RunStatus.RUNNING and lock.owner(self.run_dir(run)) is None:
            self.db.update_run(run["id"], status=RunStatus.INTERRUPTED)
            run = {**run, "status": "interrupted"}
        return run

    def run_dir(self, run: dict) -> Path:
        return self.ws.run_dir(run["id"])

    def dataset_dir(self, dataset_id: int) -> Path:
        return self.ws.dataset_dir(dataset_id)

    def task(self, row: dict) -> Task:
        """The task of a run or dataset row."""
        return get_task(row["task"])

    def samples(self, row: dict, split: str) -> list[tuple[str, object]]:
        """``(image path, target)`` pairs of one split of a dataset row, or of a run's dataset."""
        from engine.data import stored  # Datumaro: imported by the verbs that read images

        dataset_id = row.get("dataset_id", row["id"])
        return stored.split_samples(self.dataset_dir(dataset_id), split, self.task(row))

    def variant_path(self, run: dict, variant: str, *, verify: bool = True) -> Path:
        """``best.pt`` for the PyTorch baseline, ``variants/<name>/model.xml`` for IRs; an IR's files are
        checked against the hashes recorded when it was made (``verify``)."""
        if variant not in VARIANTS:
            msg = f"unknown variant {variant!r}; valid: {', '.join(VARIANTS)}"
            raise StudioError(msg)
        run_dir = self.run_dir(run)
        if VARIANTS[variant].backend == Backend.PYTORCH:
            path = run_dir / "checkpoints" / "best.pt"
            hint = f"train it first: `python -m engine train --dataset {run['dataset_id']}`"
        else:
            path = run_dir / "variants" / variant / "model.xml"
            hint = f"create it with `python -m engine optimize {run['id']} --variants {variant}`"
        if not path.is_file():
            msg = f"run {run['id']} has no {variant} model ({path} is missing); {hint}"
            raise StudioError(msg)
        if verify and VARIANTS[variant].backend == Backend.OPENVINO:
            self._check_ir(run, variant, path.parent)
        return path

    def _check_ir(self, run: dict, variant: str, folder: Path) -> None:
        what = f"run {run['id']}'s {variant} model"
        fix = f"make it again with `python -m engine optimize {run['id']} --variants {variant}`"
        try:
            recorded = read_json(folder / "metrics.json").get("files") or {}
        except (OSError, ValueError, AttributeError):
            msg = f"{what} has no readable {folder / 'metrics.json'} (it records the files' hashes); {fix}"
            raise StudioError(msg) from None
        for name in IR_FILES:  # variants saved before hashes were recorded: at least every file is there
            if name not in recorded and not (folder / name).is_file():
                msg = f"{what} is incomplete: {folder / name} is missing; {fix}"
                raise StudioError(msg)
        integrity.verify(folder, recorded, what, fix)


@contextmanager
def run_log(run_dir: Path) -> Iterator[None]:
    """Mirror the engine's log records (INFO and up) into ``<run>/log.txt`` while a verb works on the run,
    whatever logging the caller configured (a script's root logger is at WARNING by default)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "log.txt", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger("engine")
    level = root.level
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
