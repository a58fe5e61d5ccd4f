import json
from contextlib import closing

import pytest

from engine.errors import StudioError
from engine.store import Database, Workspace
from engine.store.atomic import atomic_write, read_jsonl, write_json


def test_workspace_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "w"))
    ws = Workspace.open()
    assert ws.root == (tmp_path / "w").resolve()
    assert ws.datasets_dir.is_dir() and ws.runs_dir.is_dir()
    assert Workspace.open(tmp_path / "x").root == (tmp_path / "x").resolve()


def test_database_roundtrip(tmp_path):
    db = Database(tmp_path / "s.db")
    ds = db.add_dataset(name="d", task="classification", fmt="imagenet", source="/x")
    db.update_dataset(ds, info={"labels": ["a", "b"]})
    assert db.get_dataset(ds)["info"] == {"labels": ["a", "b"]}
    run = db.add_run(dataset_id=ds, task="classification", model="m", config={"epochs": 2})
    db.update_run(run, status="completed", metrics={"top1": 0.9})
    row = db.get_run(str(run))
    assert (row["status"], row["metrics"], row["config"]) == ("completed", {"top1": 0.9}, {"epochs": 2})
    db.upsert_variant(run_id=run, name="int8", precision="INT8", path="p", size_bytes=10, metrics={"a": 1})
    db.upsert_variant(run_id=run, name="int8", precision="INT8", path="p", size_bytes=12, metrics={"a": 2})
    assert [(v["size_bytes"], v["metrics"]) for v in db.list_variants(run)] == [(12, {"a": 2})]
    db.add_benchmark(run_id=run, variant="int8", device="CPU", result={"fps": 5})
    assert db.list_benchmarks(run)[0]["result"] == {"fps": 5}


def test_unknown_ids_explain_themselves(tmp_path):
    db = Database(tmp_path / "s.db")
    with pytest.raises(StudioError, match="runs list"):
        db.get_run(42)
    with pytest.raises(StudioError, match="must be a number"):
        db.get_dataset("abc")


def test_atomic_write_keeps_old_content_on_failure(tmp_path):
    target = tmp_path / "m.json"
    write_json(target, {"v": 1})

    def explode(path):
        path.write_text("half")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temp file left behind


def test_jsonl_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ')
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]


def test_a_version_1_database_gains_the_job_backend_columns_and_keeps_its_jobs(tmp_path):
    import sqlite3

    from engine.store import db

    path = tmp_path / "studio.db"
    v1 = db.SCHEMA.replace("    error TEXT NOT NULL DEFAULT '',\n    backend TEXT NOT NULL DEFAULT 'local',\n"
                           "    backend_id TEXT\n", "    error TEXT NOT NULL DEFAULT ''\n")  # fmt: skip
    assert "backend" not in v1
    with sqlite3.connect(path) as con:
        con.executescript(v1)
        con.execute("PRAGMA user_version = 1")
        con.execute(
            "INSERT INTO jobs (verb, kwargs, title, status, created) VALUES ('train', '{}', 'old', 'completed', 1)"
        )
    store = Database(path)
    old = store.get_job(1)
    assert (old["title"], old["status"], old["backend"], old["backend_id"]) == ("old", "completed", "local", None)
    new = store.get_job(store.add_job(verb="train", kwargs={}, title="new", backend="ray"))
    assert new["backend"] == "ray" and [j["id"] for j in store.list_jobs() if j["backend"] == "local"] == [1]
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION == 2


def test_with_the_ray_backend_the_database_uses_the_rollback_journal(tmp_path, monkeypatch):
    import sqlite3

    monkeypatch.setenv("STUDIO_JOB_BACKEND", "ray")  # other machines write it over a network share
    Database(tmp_path / "studio.db")
    with sqlite3.connect(tmp_path / "studio.db") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    monkeypatch.delenv("STUDIO_JOB_BACKEND")
    Database(tmp_path / "local.db")
    with sqlite3.connect(tmp_path / "local.db") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_switching_a_wal_database_to_the_ray_backend_waits_for_its_other_openers(tmp_path, monkeypatch):
    """Leaving WAL needs every other connection closed and SQLite refuses at once while one is open: a job
    runner opening a workspace that a dashboard (or this process) still reads must wait, not fail."""
    import sqlite3
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "studio.db"
    local = Database(path)  # this process has the local (WAL) database set up
    local.add_job(verb="list_formats", kwargs={}, title="local")
    holder = subprocess.Popen(  # another opener: one connection held for 1.5 s, reading all along
        [sys.executable, "-c", textwrap.dedent(f"""
            import sqlite3, sys, time
            con = sqlite3.connect({str(path)!r})
            end = time.monotonic() + 1.5
            con.execute("SELECT COUNT(*) FROM jobs").fetchone()
            print("open", flush=True)
            while time.monotonic() < end:
                con.execute("SELECT COUNT(*) FROM jobs").fetchone()
                time.sleep(0.01)
            con.close()
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "open"
    with closing(sqlite3.connect(path)) as probe, pytest.raises(sqlite3.OperationalError, match="locked"):
        probe.execute("PRAGMA journal_mode=DELETE")  # what the runner did before: refused at once
    monkeypatch.setenv("STUDIO_JOB_BACKEND", "ray")
    switched = Database(path)  # the same process, the backend changed: set up again, waiting for the holder
    assert holder.wait(timeout=30) == 0
    with closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert [j["title"] for j in switched.list_jobs()] == ["local"]


def test_a_database_another_process_never_lets_go_of_is_refused_in_one_line(tmp_path, monkeypatch):
    import sqlite3

    from engine.store import db

    path = tmp_path / "studio.db"
    Database(path)
    monkeypatch.setattr(db, "SWITCH_WAIT_S", 0.3)
    with closing(sqlite3.connect(path)) as holder:
        holder.execute("SELECT COUNT(*) FROM jobs").fetchone()  # WAL: this connection keeps its read mark
        monkeypatch.setenv("STUDIO_JOB_BACKEND", "ray")
        with pytest.raises(StudioError, match=r"cannot switch the workspace database .* to the DELETE journal"):
            Database(path)
    with closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # left as it was


def test_a_new_id_is_never_one_a_folder_or_an_old_row_had(tmp_path):
    """Ids come from the database and the folders: a stray runs/7 folder pushes the next run to 8, and a
    deleted row's id is not handed out again."""
    db = Database(tmp_path / "studio.db")
    ds = db.add_dataset(name="d", task="classification", fmt="imagenet", source="/x")
    assert ds == 1
    (tmp_path / "runs" / "7").mkdir(parents=True)
    assert db.add_run(dataset_id=ds, task="classification", model="m", config={}) == 8
    (tmp_path / "datasets" / "4").mkdir(parents=True)
    second = db.add_dataset(name="e", task="classification", fmt="imagenet", source="/y")
    assert second == 5
    db.delete_dataset(second)
    assert db.add_dataset(name="f", task="classification", fmt="imagenet", source="/z") == 6


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_a_lost_database_beside_existing_folders_is_refused_until_repaired(tmp_path, state):
    (tmp_path / "datasets" / "1").mkdir(parents=True)
    (tmp_path / "runs" / "1").mkdir(parents=True)
    (tmp_path / "runs" / "2").mkdir(parents=True)
    path = tmp_path / "studio.db"
    if state == "empty":
        Database(path, rebuild=True)  # the schema, no rows (e.g. made by another copy of the product)
    with pytest.raises(StudioError, match=rf"is {state} but .* holds 1 dataset and 2 run folders.*workspace repair"):
        Database(path, check=True)
    if state == "missing":
        assert not path.exists()  # refusing made no new database either
    rebuilt = Database(path, rebuild=True)
    assert rebuilt.add_dataset(name="d", task="classification", fmt="imagenet", source="/x") == 2


def test_an_empty_database_with_no_folders_is_a_new_workspace(tmp_path):
    Database(tmp_path / "studio.db")
    assert Database(tmp_path / "studio.db", check=True).list_runs() == []
