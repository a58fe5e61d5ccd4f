"""Run ownership: one writer per run folder, and a dead writer is known at once.

The owner holds an exclusive ``flock`` on ``<run>/owner.lock`` for as long as it works on the run and writes
its pid, start time and command into the file. The kernel drops the lock when the process ends, however it
ends (kill -9 included), so "is anyone training this run?" is answered by trying the lock, not by trusting a
status column that a killed process never got to update.

A forked child holds the lock too until it calls ``exec`` or exits: a DataLoader worker for seconds, or one of the
children OpenVINO's telemetry forked to post each event (131 of them, 0.1-0.5 s each, while a search probed two
candidates, before ``engine.telemetry`` turned it off). A killed owner's lock can so outlive it, and a search killed
during its probe read "running". A lock whose recorded owner is a process of this host that has ended therefore
counts as free.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from engine.errors import StudioError

LOCK_NAME = "owner.lock"


def owner(folder: Path) -> dict | None:
    """The live owner of ``folder`` (pid, started, host, command), or None when nobody holds it."""
    path = Path(folder) / LOCK_NAME
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            record = _read(path) or {"pid": None}
            return None if _dead(record) else record
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextlib.contextmanager
def hold(folder: Path, what: str) -> Iterator[None]:
    """Own ``folder`` while the block runs; refuse with a message naming the owner when another process does."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _acquire(fd, path):
            other = _read(path) or {}
            since = time.strftime("%H:%M:%S", time.localtime(other.get("started", 0)))
            msg = (
                f"{what} is in use by process {other.get('pid', '?')} on {other.get('host', '?')} (since {since}):"
                " two writers would corrupt it; wait for that process, or cancel its job (`python -m engine jobs"
                " cancel JOB`)"
            )
            raise StudioError(msg) from None
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "command": sys.argv}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, orphan_wait_s: float = 10.0) -> bool:
    """Take the lock; while only a dead owner's forked child holds it (see the module's docstring), wait for that
    child to exit (DataLoader workers notice a dead parent within ~5 s)."""
    deadline = time.monotonic() + orphan_wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if not _dead(_read(path) or {}) or time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def _dead(record: dict) -> bool:
    """The recorded owner is a process of this host that has ended (or whose pid now belongs to a later one)."""
    import psutil

    pid = record.get("pid")
    if not isinstance(pid, int) or record.get("host") != socket.gethostname():
        return False  # another machine's process (a shared workspace): the lock is all there is to go by
    try:
        process = psutil.Process(pid)
        return process.status() == psutil.STATUS_ZOMBIE or process.create_time() > record.get("started", 0) + 1
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
