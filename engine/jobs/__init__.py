"""Background jobs: engine verbs run as ``python -m engine jobs run ID`` subprocesses, state in the database."""

from engine.jobs.queue import cancel, job_log, list_jobs, submit, tick

__all__ = ["cancel", "job_log", "list_jobs", "submit", "tick"]
