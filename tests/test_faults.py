"""Faults during training: SIGTERM and kill -9 mid-epoch, a second writer, a failing database write.

Real ``python -m engine train`` processes on a small generated dataset; signals are sent while an epoch is
in progress (timed from the previous epoch's event).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.tasks.classification.sample import SampleConfig, generate
from tests.conftest import ROOT, last_json, one_pinned_thread, run_cli

pytestmark = pytest.mark.e2e

TRAIN = ("--epochs", "3", "--img-size", "48", "--batch-size", "8", "--patience", "9")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Every run here trains on one pinned thread: the thread budget follows the neighbours' load, so a reference
    and a resumed run that picked different counts differ in the third decimal of the loss (seen in CI: 1.4727
    against 1.4678) for no fault of resume."""
    with one_pinned_thread():
        yield


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults")
    generate(root / "data", SampleConfig(seed=4, per_class=(("train", 60), ("val", 8), ("test", 8))))
    run_cli("data", "import", str(root / "data"), workspace=root / "ws")
    return root / "ws"


def _events(ws: Path, run: int) -> list[dict]:
    path = ws / "runs" / str(run) / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _epochs(ws: Path, run: int) -> list[dict]:
    return [e for e in _events(ws, run) if e["type"] == "epoch"]


def _start(ws: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "STUDIO_WORKSPACE": str(ws)}
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "train", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _newest_run(ws: Path) -> int:
    with sqlite3.connect(ws / "studio.db") as con:
        return con.execute("SELECT MAX(id) FROM runs").fetchone()[0]


def _signal_mid_epoch(proc: subprocess.Popen, ws: Path, run_before: int, sig: int, after_epochs: int = 1) -> int:
    """Wait for ``after_epochs`` epoch events of the new run, then signal a third of an epoch later."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        run = _newest_run(ws)
        if run and run > run_before and len(_epochs(ws, run)) >= after_epochs:
            time.sleep(_epochs(ws, run)[-1]["epoch_s"] / 3)
            proc.send_signal(sig)
            proc.wait(timeout=120)
            return run
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.kill()
    pytest.fail("training never reached its first epoch")


def _status(ws: Path, run: int) -> str:
    rows = last_json(run_cli("runs", "list", "--json", workspace=ws))
    return next(r["status"] for r in rows if r["run"] == run)


def test_sigterm_mid_epoch_then_resume_equals_an_uninterrupted_run(ws):
    reference = last_json(run_cli("train", "--dataset", "1", *TRAIN, "--json", workspace=ws))
    proc = _start(ws, "--dataset", "1", *TRAIN, "--json")
    run = _signal_mid_epoch(proc, ws, reference["run"], signal.SIGTERM)
    out, err = proc.communicate()
    assert proc.returncode == 143, err  # 128 + SIGTERM, as a shell reports a process it stopped
    assert "cancelled" in err and "Traceback" not in err
    assert json.loads(out.strip().splitlines()[-1])["status"] == "cancelled"
    assert _status(ws, run) == "cancelled"
    done_before = len(_epochs(ws, run))
    assert done_before == 1, "the signal should land inside the second epoch"

    resumed = last_json(run_cli("train", "--resume", str(run), "--json", workspace=ws))
    assert resumed["status"] == "completed" and resumed["epochs_done"] == 3
    resume_event = next(e for e in _events(ws, run) if e["type"] == "resume")
    assert resume_event["epoch"] == done_before  # only the partial epoch is redone
    epochs = _epochs(ws, run)
    assert [e["epoch"] for e in epochs] == [1, 2, 3]  # each epoch once
    ref_epochs = _epochs(ws, reference["run"])
    for mine, ref in zip(epochs, ref_epochs, strict=True):  # same weights, epoch by epoch
        assert mine["train_loss"] == pytest.approx(ref["train_loss"], abs=1e-4)
        assert mine["val_loss"] == pytest.approx(ref["val_loss"], abs=1e-4)
        assert mine["top1"] == pytest.approx(ref["top1"], abs=1e-9)
    assert resumed["val_top1"] == pytest.approx(reference["val_top1"], abs=1e-9)


def test_kill_9_mid_epoch_is_interrupted_and_resume_loses_at_most_that_epoch(ws):
    before = _newest_run(ws)
    proc = _start(ws, "--dataset", "1", *TRAIN)
    run = _signal_mid_epoch(proc, ws, before, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(ws / "studio.db") as con:  # what the killed process left behind
        assert con.execute("SELECT status FROM runs WHERE id = ?", (run,)).fetchone()[0] == "running"
    assert _status(ws, run) == "interrupted"  # the next read knows: nobody owns the run any more
    done_before = len(_epochs(ws, run))
    resumed = last_json(run_cli("train", "--resume", str(run), "--json", workspace=ws))
    assert resumed["status"] == "completed"
    assert next(e for e in _events(ws, run) if e["type"] == "resume")["epoch"] == done_before
    assert [e["epoch"] for e in _epochs(ws, run)] == [1, 2, 3]


def test_a_second_resume_while_the_first_trains_is_refused(ws):
    before = _newest_run(ws)
    proc = _start(ws, "--dataset", "1", "--epochs", "30", "--img-size", "48", "--batch-size", "8")
    try:
        deadline = time.monotonic() + 300
        while not (_newest_run(ws) > before and _epochs(ws, _newest_run(ws))) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        run = _newest_run(ws)
        events_before = len(_events(ws, run))
        second = run_cli("train", "--resume", str(run), workspace=ws, check=False)
        lines = second.stderr.strip().splitlines()
        assert second.returncode == 2 and len(lines) == 1, second.stderr
        assert f"in use by process {proc.pid}" in lines[0]
        assert _status(ws, run) == "running"
        assert not any(e["type"] == "resume" for e in _events(ws, run)[events_before:])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
    assert proc.returncode == 143


def test_a_failing_database_write_leaves_the_run_resumable(ws, monkeypatch):
    from engine.store.db import Database

    real = Database.update_run

    def failing(self, run_id, **fields):
        if fields.get("status") in ("completed", "early_stopped", "failed"):
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, run_id, **fields)

    monkeypatch.setattr(Database, "update_run", failing)
    proc = run_cli("train", "--dataset", "1", "--epochs", "1", "--img-size", "32", workspace=ws, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1].startswith("error: workspace database error (disk I/O error)")
    monkeypatch.setattr(Database, "update_run", real)
    run = _newest_run(ws)
    assert _status(ws, run) == "interrupted"
    resumed = last_json(run_cli("train", "--resume", str(run), "--json", workspace=ws))
    assert resumed["status"] == "completed" and resumed["epochs_done"] == 1
    assert _status(ws, run) == "completed"


def test_a_full_disk_while_saving_a_checkpoint_is_one_line_and_the_run_resumes(ws, monkeypatch):
    """torch's zip writer reports a full disk as a RuntimeError from inline_container.cc: the user reads
    ENOSPC and the fix (exit 2, not "internal error"); last.pt stays at the last boundary and resume works."""
    import collections
    import shutil

    import torch

    real_save = torch.save
    calls = {"n": 0}

    def full_disk(obj, f, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:  # the epoch-0 last.pt is written; the first epoch's checkpoints are not
            Path(f).write_bytes(b"PK\x03\x04 half a file")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 4288 vs 4160")
        return real_save(obj, f, *args, **kwargs)

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(torch, "save", full_disk)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    proc = run_cli("train", "--dataset", "1", "--epochs", "2", "--img-size", "32", workspace=ws, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert lines[-1].startswith("error: No space left on device") and "free some space" in lines[-1]
    assert "train --resume" in lines[-1] and "internal error" not in proc.stderr
    monkeypatch.undo()
    run = _newest_run(ws)
    assert _status(ws, run) == "failed"
    resumed = last_json(run_cli("train", "--resume", str(run), "--json", workspace=ws))
    assert resumed["status"] == "completed" and resumed["epochs_done"] == 2
