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
        for folder in (ws.root, ws.datasets_dir, ws.runs_dir):
            folder.mkdir(parents=True, exist_ok=True)
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
