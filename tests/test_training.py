"""Training as a job: SIGTERM saves last.pt and exits cleanly; --resume continues from it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import engine
from engine.store.atomic import read_jsonl
from tests.conftest import ROOT, last_json, run_cli

pytestmark = pytest.mark.slow


def _epochs(run_dir):
    return [e for e in read_jsonl(run_dir / "events.jsonl") if e["type"] == "epoch"]


def test_sigterm_then_resume(tiny_imagenet, workspace):
    dataset = engine.import_dataset(tiny_imagenet)["dataset"]
    cmd = [sys.executable, "-m", "engine", "train", "--dataset", str(dataset), "--epochs", "12", "--img-size", "32",
           "--batch-size", "16", "--json"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    run_dir = workspace / "runs" / "1"
    deadline = time.time() + 120
    while time.time() < deadline and not ((run_dir / "events.jsonl").exists() and _epochs(run_dir)):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["status"] == "cancelled"
    done = len(_epochs(run_dir))
    assert 1 <= done < 12
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert engine.show_run(1)["status"] == "cancelled"

    resumed = last_json(run_cli("train", "--resume", "1", "--json", workspace=workspace, subprocess_=True))
    assert resumed["status"] in ("completed", "early_stopped")
    epochs = [e["epoch"] for e in _epochs(run_dir)]
    assert epochs == list(range(1, len(epochs) + 1))  # resumed exactly where it stopped, no epoch repeated
    assert any(e["type"] == "resume" for e in read_jsonl(run_dir / "events.jsonl"))

    proc = run_cli("train", "--resume", "1", workspace=workspace, check=False)
    assert proc.returncode == 2 and "already finished" in proc.stderr
