"""Background jobs: engine verbs run as ``python -m engine jobs run ID`` (a subprocess here or a Ray job), state in
the database."""

from engine.jobs.queue import backend, cancel, job_log, list_jobs, log_tail, log_text, submit, tick

__all__ = ["backend", "cancel", "job_log", "list_jobs", "log_tail", "log_text", "submit", "tick"]
