"""The states a run, a job and a search go through, and a variant's backend, as StrEnums: compared by name in
the code, stored and printed as their plain values (``RunStatus.COMPLETED == "completed"``), so databases and
JSON written before them read the same. Imports nothing heavy (the CLI's light verbs use it)."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A training run (``runs list``)."""

    CREATED = "created"  # in the database, its process not started yet
    RUNNING = "running"
    COMPLETED = "completed"  # every epoch trained
    EARLY_STOPPED = "early_stopped"  # stopped after ``patience`` epochs without a better val metric
    CANCELLED = "cancelled"  # stopped by the user (SIGTERM/SIGINT): resumable from last.pt
    INTERRUPTED = "interrupted"  # its process died (a kill, a reboot): resumable from last.pt
    FAILED = "failed"


RUN_FINISHED = (RunStatus.COMPLETED, RunStatus.EARLY_STOPPED)  # trained to the end of its schedule
RUN_RESUMABLE = (RunStatus.CANCELLED, RunStatus.INTERRUPTED, RunStatus.FAILED)  # continue from the last epoch
RUN_HAS_MODEL = (*RUN_FINISHED, RunStatus.CANCELLED, RunStatus.INTERRUPTED)  # best.pt can be optimized


class JobStatus(StrEnum):
    """A background job (``jobs list``): local process or Ray cluster job."""

    QUEUED = "queued"  # waiting for a job slot (or for the cluster)
    STARTING = "starting"  # its process is starting
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # its process died without saying how it ended


JOB_ACTIVE = (JobStatus.STARTING, JobStatus.RUNNING)  # a process is at work
JOB_UNFINISHED = (JobStatus.QUEUED, *JOB_ACTIVE)  # can still be cancelled


class Backend(StrEnum):
    """What runs a variant."""

    PYTORCH = "pytorch"  # the trained model itself (eager)
    OPENVINO = "openvino"  # an OpenVINO IR


class SearchStatus(StrEnum):
    """A search (``searches list``)."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # resumable: `search --resume ID`
    FAILED = "failed"  # resumable
    INTERRUPTED = "interrupted"  # its process died while it ran; resumable


SEARCH_RESUMABLE = (SearchStatus.CANCELLED, SearchStatus.FAILED, SearchStatus.INTERRUPTED)
