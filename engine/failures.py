"""The error boundary shared by the CLI and the dashboard's frame.

Every failure reaches the user as one line that says what went wrong and what to do; a failure that is not
the user's to fix (a bug) also leaves its traceback in ``<workspace>/logs/errors.log`` (or, when the
workspace itself cannot be written, in the temp folder) and the line names that file.

``explain`` sorts failures into three kinds:

- :class:`StudioError`: bad input, already worded for the user;
- faults of the machine or the workspace (disk full, read-only folder, damaged database): worded here,
  with the fix, since every verb can meet them;
- anything else: a bug, reported with the log file.
"""

from __future__ import annotations

import datetime
import errno
import os
import sqlite3
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from engine.errors import StudioError

LOG_NAME = "errors.log"

_OS_HINTS = {
    errno.ENOSPC: "the disk is full; free some space, then run the command again (a training run resumes"
    " from its last finished epoch with `train --resume RUN`)",
    errno.EDQUOT: "the disk quota is used up; free some space, then run the command again",
    errno.EROFS: "the file system is read-only; point --workspace (or $STUDIO_WORKSPACE) at a writable folder",
    errno.EACCES: "permission denied; make the folder writable for this user or choose another --workspace",
    errno.EPERM: "operation not permitted; make the folder writable for this user or choose another --workspace",
    errno.ENAMETOOLONG: "a file name is too long for this file system; use shorter names",
    errno.ENOTDIR: "a path that should be a folder is a file; check the path",
    errno.EISDIR: "a path that should be a file is a folder; check the path",
}


@dataclass(frozen=True)
class Explained:
    message: str  # one line, for the user
    bug: bool  # not the user's to fix: the traceback goes to the error log

    @property
    def exit_code(self) -> int:
        return 1 if self.bug else 2


def explain(exc: BaseException) -> Explained:
    if isinstance(exc, StudioError):
        return Explained(_one_line(str(exc)), bug=False)
    if isinstance(exc, OSError) and exc.errno in _OS_HINTS:
        where = f" ({exc.filename})" if exc.filename else ""
        return Explained(_one_line(f"{exc.strerror or exc}{where}: {_OS_HINTS[exc.errno]}"), bug=False)
    if isinstance(exc, sqlite3.DatabaseError):
        text = str(exc)
        if "readonly" in text or "unable to open" in text:
            hint = "make the workspace folder writable for this user, or choose another --workspace"
        elif "locked" in text or "busy" in text:
            hint = "another process holds the database for too long; wait for it (or stop it) and retry"
        elif "full" in text:
            hint = _OS_HINTS[errno.ENOSPC]
        else:
            hint = (
                "the workspace database is damaged; your datasets and runs are still in their folders:"
                " `python -m engine workspace repair` rebuilds it from them"
            )
        return Explained(_one_line(f"workspace database error ({text}): {hint}"), bug=False)
    if isinstance(exc, MemoryError):
        return Explained("out of memory; use a smaller --batch-size or --img-size, or close other programs", False)
    return Explained(_one_line(f"internal error ({type(exc).__name__}: {exc})"), bug=True)


def record(exc: BaseException, workspace: str | Path | None, context: str) -> Path:
    """Append ``exc``'s traceback to the workspace's error log (or the temp folder's); return the file."""
    text = "".join(traceback.format_exception(exc))
    stamp = datetime.datetime.now().isoformat(timespec="seconds")
    entry = f"--- {stamp} pid {os.getpid()} {context}\n{text}\n"
    candidates = []
    if workspace is not None:
        candidates.append(Path(workspace) / "logs" / LOG_NAME)
    candidates.append(Path(tempfile.gettempdir()) / f"edge-model-studio-{LOG_NAME}")
    for path in candidates:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(entry)
            return path
        except OSError:
            continue
    return candidates[-1]


def report(exc: BaseException, workspace: str | Path | None, context: str) -> Explained:
    """``explain`` plus, for a bug, the log file named in the line."""
    explained = explain(exc)
    if explained.bug:
        log = record(exc, workspace, context)
        message = f"{explained.message}; this is a bug: the traceback is in {log}, please report it"
        return Explained(message, bug=True)
    return explained


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return " ".join(lines) if lines else "unknown error"
