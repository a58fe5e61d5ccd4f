"""The CLI's light verbs start without the heavy libraries: each runs in a fresh interpreter and reports which of
torch, NNCF, OpenVINO, Datumaro (and the plotting stack) it imported. Startup time itself is measured in
benchmarks (a timed unit test would fail on a busy machine), the imports are what make it fast."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("torch", "torchvision", "torchmetrics", "nncf", "openvino", "datumaro", "altair", "cv2")
PROBE = f"""
import contextlib, io, json, sys
from engine import cli
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = cli.main(sys.argv[1:])
    except SystemExit as stop:
        code = stop.code
print(json.dumps({{"code": code, "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["train", "--help"],
        ["runs", "list"],
        ["jobs", "list"],
        ["data", "list"],
        ["searches", "list"],
        ["weights", "list"],
        ["data", "formats"],
    ],
    ids=" ".join,
)
def test_light_verbs_import_no_heavy_library(args, tmp_path):
    """In a workspace holding a dataset and a finished run of every task (listing runs once imported every task's
    modules, and torch with them, to name each run's metric)."""
    from engine.pipeline.context import Context
    from engine.tasks import TASK_NAMES

    db = Context.open(tmp_path / "ws").db
    for task in TASK_NAMES:
        dataset = db.add_dataset(name=task, task=task, fmt="datumaro", source=str(tmp_path))
        db.update_run(db.add_run(dataset_id=dataset, task=task, model="any", config={}), status="completed")
    workspace = [] if "--help" in args else ["--workspace", str(tmp_path / "ws")]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args, *workspace], cwd=ROOT, capture_output=True, text=True, check=False,
        timeout=120,
    )  # fmt: skip
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, proc.stderr
    assert report["heavy"] == [], f"`engine {' '.join(args)}` imported {report['heavy']}"


def test_the_probe_can_fail(tmp_path):
    """A verb that reads a dataset imports Datumaro (and no torch just to say that it is missing): the probe
    sees it."""
    args = ["data", "info", "7", "--workspace", str(tmp_path / "ws")]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 2 and "datumaro" in report["heavy"] and "torch" not in report["heavy"], report
