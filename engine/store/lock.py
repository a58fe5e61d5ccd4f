"""Run ownership: one writer per run folder, and a dead writer is known at once.

The owner holds an exclusive ``flock`` on ``<run>/owner.lock`` for as long as it works on the run and writes
its pid, start time and command into the file. The kernel drops the lock when the process ends, however it
ends (kill -9 included), so "is anyone training this run?" is answered by trying the lock, not by trusting a
status column that a killed process never got to update.
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
            return _read(path) or {"pid": None}
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
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
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


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
