"""Background jobs and workspace upkeep: list and cancel jobs; rebuild a damaged workspace database.

(``submit_job`` lives beside ``VERBS`` in :mod:`engine.api`: it checks the verb against them.)
"""

from __future__ import annotations

from pathlib import Path

from engine import jobs as job_queue
from engine import lazy
from engine.errors import StudioError
from engine.pipeline.context import Context
from engine.results import JobLogs, JobRow, RepairResult

repair = lazy.module("engine.pipeline.repair")

Workspace = str | Path | None


def list_jobs(*, active_only: bool = False, workspace: Workspace = None) -> list[JobRow]:
    """Python: ``engine.list_jobs()``      CLI: ``python -m engine jobs list [--active-only]``"""
    ctx = Context.open(workspace)
    job_queue.tick(ctx)
    return job_queue.list_jobs(ctx, active_only)


def cancel_job(job: int, *, workspace: Workspace = None) -> JobRow:
    """Python: ``engine.cancel_job(4)``      CLI: ``python -m engine jobs cancel 4``"""
    return job_queue.cancel(Context.open(workspace), job)


def job_logs(job: int, *, lines: int = 40, workspace: Workspace = None) -> JobLogs:
    """What a job printed (its last ``lines`` lines): the log file here, or the Ray cluster's for a Ray job.

    Python: ``engine.job_logs(4)``      CLI: ``python -m engine jobs logs 4 [--lines 40]``
    """
    if lines < 1:
        msg = f"--lines must be at least 1 (got {lines})"
        raise StudioError(msg)
    ctx = Context.open(workspace)
    job_queue.tick(ctx)
    row = ctx.db.get_job(job)
    return {"job": row["id"], "backend": row["backend"], "status": row["status"],
            "lines": job_queue.log_tail(ctx, row, lines)}  # fmt: skip


def repair_workspace(*, force: bool = False, workspace: Workspace = None) -> RepairResult:
    """Rebuild a damaged workspace database from the dataset and run folders (the damaged file is kept).

    Python: ``engine.repair_workspace()``      CLI: ``python -m engine workspace repair``
    """
    return repair.repair(workspace, force=force)
