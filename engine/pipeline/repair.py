"""``workspace repair``: rebuild the workspace database from the folders, which hold everything that matters.

Each dataset folder has its ``info.json``; each run folder its ``config.yaml``, ``events.jsonl``, checkpoints,
``variants/<name>/metrics.json`` and ``benchmarks/*.json``. The damaged database is kept beside the new one
(``studio.db.damaged-<time>``), never deleted. Lost for good: the job history (jobs are not files) and
benchmark results older than the newest per variant x device x precision.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from pathlib import Path

import yaml

from engine.errors import StudioError
from engine.pipeline.training import run_metrics
from engine.status import Backend, RunStatus
from engine.store import Database, Workspace, lock
from engine.store.atomic import read_json, read_jsonl
from engine.training import checkpoint

log = logging.getLogger(__name__)

_SIDECARS = ("-wal", "-shm", "-journal")


def repair(workspace: str | Path | None, *, force: bool = False) -> dict:
    ws = Workspace.open(workspace)
    if ws.db_path.exists() and not force:
        try:
            Database(ws.db_path, check=True).list_runs()
        except (StudioError, sqlite3.DatabaseError):
            pass
        else:
            msg = (
                f"the workspace database {ws.db_path} is healthy; nothing to repair (--force rebuilds it anyway,"
                " losing the job history)"
            )
            raise StudioError(msg)
    busy = [p.name for p in ws.runs_dir.iterdir() if p.is_dir() and lock.owner(p)]
    if busy:
        msg = f"runs {', '.join(sorted(busy))} are being trained right now; repair the workspace when they finish"
        raise StudioError(msg)
    kept = _set_aside(ws.db_path)
    db = Database(ws.db_path, rebuild=True)
    counts = {"datasets": 0, "runs": 0, "variants": 0, "benchmarks": 0}
    skipped: list[str] = []
    for folder in _numbered(ws.datasets_dir):
        try:
            _restore_dataset(db, folder)
            counts["datasets"] += 1
        except (OSError, ValueError, KeyError) as exc:
            skipped.append(f"datasets/{folder.name}: {exc}")
    for folder in _numbered(ws.runs_dir):
        try:
            v, b = _restore_run(db, folder)
        except (OSError, ValueError, KeyError, StudioError, yaml.YAMLError) as exc:
            skipped.append(f"runs/{folder.name}: {exc}")
            continue
        counts["runs"] += 1
        counts["variants"] += v
        counts["benchmarks"] += b
    for line in skipped:
        log.warning("not restored: %s", line)
    return {
        "workspace": str(ws.root),
        **counts,
        "damaged_copy": str(kept) if kept else None,
        "skipped": skipped,
        "lost": "the job history (jobs are not kept in files)",
    }


def _set_aside(db_path: Path) -> Path | None:
    if not db_path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = db_path.with_name(f"{db_path.name}.damaged-{stamp}")
    db_path.rename(target)
    for suffix in _SIDECARS:
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def _numbered(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))


def _restore_dataset(db: Database, folder: Path) -> None:
    info = read_json(folder / "info.json")
    db.restore(
        "datasets",
        {
            "id": int(folder.name),
            "name": info.get("name") or f"dataset {folder.name}",
            "task": info["task"],
            "format": info.get("format", ""),
            "source": info.get("source", ""),
            "path": str(folder),
            "created": folder.stat().st_mtime,
            "info": info,
        },
    )


def _restore_run(db: Database, folder: Path) -> tuple[int, int]:
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    dataset_id = config.pop("dataset")
    events = read_jsonl(folder / "events.jsonl")
    status, metrics = _outcome(folder, events)
    created = events[0]["time"] if events else folder.stat().st_mtime
    run_id = int(folder.name)
    db.restore(
        "runs",
        {
            "id": run_id,
            "dataset_id": dataset_id,
            "task": config["task"],
            "model": config["model"],
            "status": status,
            "created": created,
            "updated": events[-1]["time"] if events else created,
            "config": config,
            "metrics": metrics,
        },
    )
    variants = 0
    for entry_file in sorted((folder / "variants").glob("*/metrics.json"), key=lambda p: p.stat().st_mtime_ns):
        entry = read_json(entry_file)
        name = entry_file.parent.name
        torch = entry.get("backend") == Backend.PYTORCH
        path = folder / "checkpoints" / "best.pt" if torch else entry_file.parent / "model.xml"
        db.upsert_variant(
            run_id=run_id,
            name=name,
            precision=entry["precision"],
            path=str(path),
            size_bytes=entry["size_bytes"],
            metrics=entry,
        )
        variants += 1
    benchmarks = 0
    for result_file in sorted((folder / "benchmarks").glob("*.json"), key=lambda p: p.stat().st_mtime):
        result = read_json(result_file)
        db.add_benchmark(run_id=run_id, variant=result["variant"], device=result["device"], result=result)
        benchmarks += 1
    return variants, benchmarks


def _outcome(folder: Path, events: list[dict]) -> tuple[str, dict]:
    """The run's status and metrics as the train verb recorded them, read back from its files."""
    ends = [e for e in events if e.get("type") == "end"]
    last = folder / "checkpoints" / "last.pt"
    best = folder / "checkpoints" / "best.pt"
    status = ends[-1]["status"] if ends and ends[-1]["status"] != RunStatus.CANCELLED else None
    if status is None:
        status = RunStatus.CANCELLED if ends else (RunStatus.INTERRUPTED if last.is_file() else RunStatus.FAILED)
    metrics: dict = {}
    start = next((e for e in events if e.get("type") == "start"), {})
    with contextlib.suppress(StudioError):
        state = checkpoint.load(best if best.is_file() else last)
        done = checkpoint.load(last)["epoch"] if last.is_file() else state["epoch"]
        metrics = run_metrics(
            state["best_epoch"], done, start.get("pretrained"), start.get("weights_notice"), state["best_metrics"]
        )
    return status, metrics
