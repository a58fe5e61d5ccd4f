"""The workspace database (SQLite): datasets, runs, variants and benchmark results.

Every call opens a short-lived connection, so the CLI jobs and the dashboard can share one database
across processes. JSON columns (``info``, ``config``, ``metrics``, ``result``) are decoded on read.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from engine.errors import StudioError
from engine.status import RunStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    task TEXT NOT NULL,
    format TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    created REAL NOT NULL,
    info TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS variants (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    precision TEXT NOT NULL,
    path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created REAL NOT NULL,
    metrics TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    verb TEXT NOT NULL,
    kwargs TEXT NOT NULL DEFAULT '{}',
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    pid INTEGER,
    run_id INTEGER,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    result TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    backend TEXT NOT NULL DEFAULT 'local',
    backend_id TEXT
);
CREATE TABLE IF NOT EXISTS benchmarks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    variant TEXT NOT NULL,
    device TEXT NOT NULL,
    created REAL NOT NULL,
    result TEXT NOT NULL DEFAULT '{}'
);
"""

SCHEMA_VERSION = 2  # PRAGMA user_version; a newer database is refused rather than misread
# columns added since version 1, added to an older database when it is opened (SQLite adds them in place)
_ADDED_COLUMNS = {"jobs": (("backend", "TEXT NOT NULL DEFAULT 'local'"), ("backend_id", "TEXT"))}

_JSON_COLUMNS = ("info", "config", "metrics", "result", "kwargs")
_TABLES = ("datasets", "runs", "variants", "jobs", "benchmarks")

_READY: set[tuple[Path, str]] = set()  # (database, journal mode) this process has already checked and set up
SWITCH_WAIT_S = 30.0  # as long as a write waits for a lock (the connections' timeout)

REPAIR = "`python -m engine workspace repair` rebuilds it from the run and dataset folders"
# tables whose ids name a folder beside the database (<root>/datasets/<id>/, <root>/runs/<id>/): a new id is
# never one a folder already has, so a lost or replaced database can never make new work overwrite old work
FOLDER_TABLES = ("datasets", "runs")


def folder_ids(root: Path, table: str) -> list[int]:
    """The ids of the numbered folders of ``table`` under the workspace ``root`` (ascending)."""
    folder = root / table
    if not folder.is_dir():
        return []
    return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit() and p.is_dir())


def job_backend_setting() -> str:
    """``$STUDIO_JOB_BACKEND`` as written (``local`` when unset); :func:`engine.jobs.queue.backend` checks it."""
    return os.environ.get("STUDIO_JOB_BACKEND", "").strip().lower() or "local"


def journal_mode() -> str:
    """WAL on one machine: readers never wait for the job writing. WAL needs memory shared by every process
    that opens the file, which machines sharing a network folder do not have: with the Ray backend (jobs on
    other machines write this database) it is SQLite's rollback journal, which works over NFS locks."""
    return "DELETE" if job_backend_setting() == "ray" else "WAL"


class Database:
    def __init__(self, path: str | Path, *, check: bool = False, rebuild: bool = False) -> None:
        """``check``: validate the file even when this process already did (it may have changed since).
        ``rebuild``: ``workspace repair`` making a new database for folders that have none."""
        self.path = Path(path)
        ready = (self.path.resolve(), journal_mode())  # a changed job backend sets the journal mode again
        if check or ready not in _READY or not self.path.exists():
            self._open_checked(rebuild=rebuild)
            _READY.add(ready)

    @property
    def root(self) -> Path:
        """The workspace folder the database sits in (its datasets/ and runs/ folders beside it)."""
        return self.path.parent

    def _refuse_lost(self, con: sqlite3.Connection | None) -> None:
        """A database missing (``con`` None) or empty while dataset or run folders exist was lost or replaced:
        new ids would start at 1 again beside the old work. Refuse with the one command that rebuilds it."""
        found = {table: len(folder_ids(self.root, table)) for table in FOLDER_TABLES}
        if not any(found.values()):
            return
        if con is not None:
            rows = sum(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in FOLDER_TABLES)
            if rows:
                return
        state = "is missing" if con is None else "is empty"
        msg = (
            f"the workspace database {self.path} {state} but {self.root} holds {found['datasets']} dataset and"
            f" {found['runs']} run folders; run `python -m engine workspace repair` to rebuild it from them"
            " (nothing is overwritten meanwhile)"
        )
        raise StudioError(msg)

    def _open_checked(self, *, rebuild: bool = False) -> None:
        """Create the schema in a new database; check an existing one (integrity, schema version) first."""
        if self.path.exists() and not self.path.is_file():
            msg = f"{self.path} is a folder, not the workspace database; move it away and run the command again"
            raise StudioError(msg)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if fresh and not rebuild:
            self._refuse_lost(None)
        try:
            with closing(self._connect()) as con:
                if not fresh:
                    check = con.execute("PRAGMA integrity_check").fetchone()[0]
                    if check != "ok":
                        msg = f"the workspace database {self.path} is damaged ({check}); {REPAIR}"
                        raise StudioError(msg)
                    version = con.execute("PRAGMA user_version").fetchone()[0]
                    if version > SCHEMA_VERSION:
                        msg = (
                            f"the workspace database {self.path} has schema version {version}, newer than this"
                            f" version of Edge Model Studio reads ({SCHEMA_VERSION}); upgrade it"
                        )
                        raise StudioError(msg)
                    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                    if tables and not set(_TABLES) <= tables:
                        msg = f"{self.path} is an SQLite file of another program (no {_TABLES[1]} table); {REPAIR}"
                        raise StudioError(msg)
                    if not rebuild:
                        self._refuse_lost(con if tables else None)
                _set_journal_mode(con, journal_mode(), self.path)
                with con:
                    con.executescript(SCHEMA)
                    _add_columns(con)
                    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "readonly" in text or "unable to open" in text:
                msg = (
                    f"cannot open the workspace database {self.path} for writing ({text}); make the folder"
                    " writable for this user or choose another --workspace"
                )
            else:
                msg = f"the workspace database {self.path} is damaged ({text}); {REPAIR}"
            raise StudioError(msg) from None

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys=ON")  # per connection; WAL is a property of the file (set when opened)
        return con

    def _execute(self, sql: str, params: tuple = ()) -> int:
        with closing(self._connect()) as con, con:
            return con.execute(sql, params).lastrowid or 0

    def _query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with closing(self._connect()) as con:
            return [_decode(row) for row in con.execute(sql, params).fetchall()]

    # datasets -------------------------------------------------------------------------------------
    def add_dataset(self, *, name: str, task: str, fmt: str, source: str, path: str = "") -> int:
        return self._insert_new(
            "datasets",
            {"name": name, "task": task, "format": fmt, "source": source, "path": path, "created": time.time()},
        )

    def update_dataset(self, dataset_id: int, **fields: Any) -> None:
        self._update("datasets", "id = ?", (dataset_id,), fields)

    def delete_dataset(self, dataset_id: int) -> None:
        self._execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))

    def get_dataset(self, dataset_id: int | str) -> dict[str, Any]:
        return self._get_one("datasets", dataset_id, "dataset", "data list")

    def list_datasets(self) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM datasets ORDER BY id")

    # runs -----------------------------------------------------------------------------------------
    def add_run(self, *, dataset_id: int, task: str, model: str, config: dict) -> int:
        now = time.time()
        row = {"dataset_id": dataset_id, "task": task, "model": model, "status": RunStatus.CREATED, "created": now}
        return self._insert_new("runs", {**row, "updated": now, "config": json.dumps(config)})

    def update_run(self, run_id: int, **fields: Any) -> None:
        fields["updated"] = time.time()
        self._update("runs", "id = ?", (run_id,), fields)

    def get_run(self, run_id: int | str) -> dict[str, Any]:
        return self._get_one("runs", run_id, "run", "runs list")

    def list_runs(self) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM runs ORDER BY id")

    # variants -------------------------------------------------------------------------------------
    def upsert_variant(
        self, *, run_id: int, name: str, precision: str, path: str, size_bytes: int, metrics: dict
    ) -> None:
        self._execute(
            "INSERT INTO variants (run_id, name, precision, path, size_bytes, created, metrics)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, name) DO UPDATE SET"
            " precision=excluded.precision, path=excluded.path, size_bytes=excluded.size_bytes,"
            " created=excluded.created, metrics=excluded.metrics",
            (run_id, name, precision, path, size_bytes, time.time(), json.dumps(metrics)),
        )

    def list_variants(self, run_id: int) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM variants WHERE run_id = ? ORDER BY created", (run_id,))

    # benchmarks -----------------------------------------------------------------------------------
    def add_benchmark(self, *, run_id: int, variant: str, device: str, result: dict) -> int:
        return self._execute(
            "INSERT INTO benchmarks (run_id, variant, device, created, result) VALUES (?, ?, ?, ?, ?)",
            (run_id, variant, device, time.time(), json.dumps(result)),
        )

    def list_benchmarks(self, run_id: int) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM benchmarks WHERE run_id = ? ORDER BY id", (run_id,))

    # jobs -----------------------------------------------------------------------------------------
    def add_job(self, *, verb: str, kwargs: dict, title: str, backend: str = "local") -> int:
        return self._execute(
            "INSERT INTO jobs (verb, kwargs, title, status, created, backend) VALUES (?, ?, ?, 'queued', ?, ?)",
            (verb, json.dumps(kwargs), title, time.time(), backend),
        )

    def update_job(self, job_id: int, **fields: Any) -> None:
        self._update("jobs", "id = ?", (job_id,), fields)

    def get_job(self, job_id: int | str) -> dict[str, Any]:
        return self._get_one("jobs", job_id, "job", "jobs list")

    def list_jobs(self, statuses: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        if not statuses:
            return self._query("SELECT * FROM jobs ORDER BY id")
        marks = ", ".join("?" for _ in statuses)
        return self._query(f"SELECT * FROM jobs WHERE status IN ({marks}) ORDER BY id", statuses)

    def claim_queued_jobs(self, max_running: int) -> list[int]:
        """Atomically move queued local jobs to 'starting' while fewer than ``max_running`` are active
        (another backend's jobs wait in that backend's own queue)."""
        with closing(self._connect()) as con:
            waiting = "SELECT 1 FROM jobs WHERE status = 'queued' AND backend = 'local' LIMIT 1"
            if con.execute(waiting).fetchone() is None:
                return []  # the common case (every dashboard poll): no write lock, no wait on a writing job
            con.isolation_level = None
            con.execute("BEGIN IMMEDIATE")
            try:
                active = con.execute(
                    "SELECT COUNT(*) FROM jobs WHERE status IN ('starting', 'running') AND backend = 'local'"
                ).fetchone()[0]
                free = max(max_running - active, 0)
                queued = "SELECT id FROM jobs WHERE status = 'queued' AND backend = 'local' ORDER BY id LIMIT ?"
                ids = [r[0] for r in con.execute(queued, (free,))]
                for job_id in ids:
                    con.execute("UPDATE jobs SET status = 'starting', started = ? WHERE id = ?", (time.time(), job_id))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return ids

    def restore(self, table: str, row: dict[str, Any]) -> None:
        """Insert a row with its original id (``workspace repair`` rebuilding the database from the folders)."""
        if table not in _TABLES:
            msg = f"unknown table {table!r}"
            raise ValueError(msg)
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        values = tuple(json.dumps(v) if k in _JSON_COLUMNS else v for k, v in row.items())
        self._execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", values)

    # helpers ----------------------------------------------------------------------------------
    def _insert_new(self, table: str, row: dict[str, Any]) -> int:
        """Insert a row under an id never used before: above every id the table has had (AUTOINCREMENT's
        sequence) and above every numbered folder of that table in the workspace. One write transaction,
        so two processes adding at once get different ids."""
        with closing(self._connect()) as con:
            con.isolation_level = None
            con.execute("BEGIN IMMEDIATE")
            try:
                used = con.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
                seq = con.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
                new_id = max(used, seq[0] if seq else 0, *folder_ids(self.root, table), 0) + 1
                cols = ", ".join(["id", *row])
                marks = ", ".join("?" for _ in range(len(row) + 1))
                con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", (new_id, *row.values()))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return new_id

    def _get_one(self, table: str, row_id: int | str, what: str, list_command: str) -> dict[str, Any]:
        rows = self._query(f"SELECT * FROM {table} WHERE id = ?", (_as_id(row_id, what),))
        if not rows:
            msg = f"no {what} {row_id!r} in {self.path.parent}; list them with `python -m engine {list_command}`"
            raise StudioError(msg)
        return rows[0]

    def _update(self, table: str, where: str, params: tuple, fields: dict[str, Any]) -> None:
        if not fields:
            return
        cols = ", ".join(f"{name} = ?" for name in fields)
        values = tuple(json.dumps(v) if k in _JSON_COLUMNS else v for k, v in fields.items())
        self._execute(f"UPDATE {table} SET {cols} WHERE {where}", values + params)


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for col in _JSON_COLUMNS:
        if col in out and isinstance(out[col], str):
            out[col] = json.loads(out[col])
    return out


def _as_id(value: int | str, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        msg = f"{what} id must be a number like 3, got {value!r}"
        raise StudioError(msg) from None


def _set_journal_mode(con: sqlite3.Connection, mode: str, path: Path) -> None:
    """Set the file's journal mode (it persists until another is set). Leaving WAL needs every other
    connection closed, and SQLite refuses at once rather than wait for them: the processes that poll the
    database (the dashboard, the job runners) open it for one query at a time, so retry until they let go."""
    if con.execute("PRAGMA journal_mode").fetchone()[0].upper() == mode:
        return  # already so (the common case): no lock taken
    deadline = time.monotonic() + SWITCH_WAIT_S
    while True:
        try:
            if con.execute(f"PRAGMA journal_mode={mode}").fetchone()[0].upper() == mode:
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        if time.monotonic() > deadline:
            msg = (
                f"cannot switch the workspace database {path} to the {mode} journal (STUDIO_JOB_BACKEND="
                f"{job_backend_setting()}): another process kept it open for {SWITCH_WAIT_S:.0f} s; stop the"
                " dashboards and jobs that use this workspace with the other backend, then run the command again"
            )
            raise StudioError(msg)
        time.sleep(0.05)


def _add_columns(con: sqlite3.Connection) -> None:
    """Bring a database written by an older version up to this schema (new columns keep their defaults)."""
    for table, columns in _ADDED_COLUMNS.items():
        present = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns:
            if name not in present:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
