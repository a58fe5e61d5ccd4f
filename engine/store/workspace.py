"""The workspace folder: everything a user creates lives here, never in the source tree.

Layout::

    <workspace>/studio.db                 SQLite: datasets, runs, variants, benchmarks
    <workspace>/datasets/<id>/            imported dataset (Datumaro format) + info.json
    <workspace>/runs/<id>/                config.yaml, events.jsonl, log.txt, checkpoints/, variants/, benchmarks/
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import StudioError

ENV_VAR = "STUDIO_WORKSPACE"
DEFAULT = "workspace"


def resolve_root(workspace: str | Path | None = None) -> Path:
    """Explicit argument, else ``$STUDIO_WORKSPACE``, else ``./workspace``."""
    if workspace is None:
        workspace = os.environ.get(ENV_VAR) or DEFAULT
    return Path(workspace).expanduser().resolve()


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def open(cls, workspace: str | Path | None = None) -> Workspace:
        ws = cls(resolve_root(workspace))
        if ws.root.exists() and not ws.root.is_dir():
            msg = f"workspace {ws.root} is a file, not a folder; give --workspace (or $STUDIO_WORKSPACE) a folder"
            raise StudioError(msg)
        try:
            for folder in (ws.root, ws.datasets_dir, ws.runs_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            where = exc.filename or ws.root
            msg = f"cannot create the workspace folder {where} ({exc.strerror}); choose another --workspace"
            raise StudioError(msg) from None
        if not os.access(ws.root, os.W_OK):
            msg = f"workspace {ws.root} is not writable; make it writable for this user or choose another --workspace"
            raise StudioError(msg)
        return ws

    @property
    def db_path(self) -> Path:
        return self.root / "studio.db"

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def dataset_dir(self, dataset_id: int) -> Path:
        return self.datasets_dir / str(dataset_id)

    def run_dir(self, run_id: int) -> Path:
        return self.runs_dir / str(run_id)
