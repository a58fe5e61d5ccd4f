"""Shared fixtures: tiny generated datasets and fresh workspaces (no downloads, ever)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.data.sample_classification import SampleConfig, generate

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_imagenet(tmp_path_factory) -> Path:
    """ImageNet-with-subset-dirs sample: 4 classes x (20 train, 6 val, 8 test)."""
    out = tmp_path_factory.mktemp("tiny") / "imagenet"
    generate(out, SampleConfig(seed=1, per_class=(("train", 20), ("val", 6), ("test", 8))))
    return out


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    ws = tmp_path / "ws"
    monkeypatch.setenv("STUDIO_WORKSPACE", str(ws))
    return ws


def run_cli(*args: str, workspace: Path, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python -m engine`` as a user would; return the completed process."""
    env = {**os.environ, "STUDIO_WORKSPACE": str(workspace)}
    proc = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        msg = f"`engine {' '.join(args)}` failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        raise AssertionError(msg)
    return proc


def read(path, task: str | None = None, **kwargs):
    """``read_dataset`` as the import verb calls it: every task a candidate, ``task`` (a name) forcing one."""
    from engine.data.importer import read_dataset
    from engine.tasks import TASKS, get_task

    return read_dataset(path, list(TASKS.values()), task=get_task(task) if task else None, **kwargs)


def last_json(proc: subprocess.CompletedProcess):
    import json

    return json.loads(proc.stdout.strip().splitlines()[-1])
