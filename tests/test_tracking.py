"""MLflow tracking against a real ``mlflow server`` started here (SQLite backend store, artifacts it serves
from a local folder), read back through ``mlflow.MlflowClient``; and nothing at all without the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from tests.conftest import ROOT, compose_command
from tests.e2e.conftest import free_port, wait_until_up

pytestmark = pytest.mark.team


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = (root / "server.log").open("w")
    command = compose_command("mlflow", [sys.executable, "-m", "mlflow"], {  # what compose.yaml's container runs
        "--host": "127.0.0.1", "--port": str(port), "--allowed-hosts": f"127.0.0.1:{port}",
        "--backend-store-uri": f"sqlite:///{root / 'mlflow.db'}", "--artifacts-destination": str(root / "artifacts"),
        "--workers": "1",
    })  # fmt: skip
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", root / "server.log", 120)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_a_run_logs_params_epoch_metrics_variants_benchmarks_and_the_ir(
    mlflow_server, tiny_imagenet, tmp_path, monkeypatch
):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "studio-test")
    ws = tmp_path / "ws"
    dataset = engine.import_dataset(str(tiny_imagenet), workspace=ws)["dataset"]
    run = engine.train(dataset, epochs=2, img_size=32, batch_size=8, patience=5, workspace=ws)["run"]
    engine.optimize(run, variants=["fp32"], calib_size=8, workspace=ws)
    engine.benchmark(run, variants=["fp32"], iterations=20, hint="latency", workspace=ws)
    card = engine.report(run, workspace=ws)

    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("studio-test")
    found = client.search_runs([experiment.experiment_id], filter_string=f"tags.`studio.run` = '{run}'")
    assert len(found) == 1, "train, optimize, benchmark and report must add to one MLflow run"
    tracked = found[0]
    assert tracked.data.params["epochs"] == "2" and tracked.data.params["img_size"] == "32"
    assert tracked.data.params["model"] == "mobilenet_v3_small" and tracked.data.tags["studio.task"] == "classification"
    epochs = engine.show_run(run, workspace=ws)["epochs"]
    for key in ("train_loss", "val_loss", "top1", "lr"):
        history = client.get_metric_history(tracked.info.run_id, key)
        assert [(m.step, m.value) for m in history] == [(e["epoch"], pytest.approx(e[key])) for e in epochs], key
    assert tracked.data.metrics["best_epoch"] >= 1 and "best.val_top1" in tracked.data.metrics
    variant = engine.variant_table(run, workspace=ws)["rows"]
    fp32 = next(r for r in variant if r["variant"] == "fp32")
    assert tracked.data.metrics["fp32.top1"] == pytest.approx(fp32["metric"])
    medians = [k for k in tracked.data.metrics if k.startswith("benchmark.fp32.CPU.") and k.endswith(".median_ms")]
    assert medians and tracked.data.metrics[medians[0]] > 0

    names = {a.path for a in client.list_artifacts(tracked.info.run_id, "variants/fp32")}
    assert {"variants/fp32/model.xml", "variants/fp32/model.bin", "variants/fp32/metrics.json"} <= names
    local = client.download_artifacts(tracked.info.run_id, "variants/fp32/model.bin", str(tmp_path / "dl"))
    assert Path(local).read_bytes() == (ws / "runs" / str(run) / "variants" / "fp32" / "model.bin").read_bytes()
    assert {a.path for a in client.list_artifacts(tracked.info.run_id, "report")} == {
        f"report/{Path(card['path']).name}"
    }


def test_nothing_is_imported_or_logged_without_the_tracking_uri(tiny_imagenet, tmp_path):
    code = (
        "import sys, engine\n"
        "d = engine.import_dataset(sys.argv[1], workspace=sys.argv[2])['dataset']\n"
        "engine.train(d, epochs=1, max_steps=2, img_size=32, batch_size=8, workspace=sys.argv[2])\n"
        "assert 'mlflow' not in sys.modules, 'mlflow was imported without MLFLOW_TRACKING_URI'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    args = [sys.executable, "-c", code, str(tiny_imagenet), str(tmp_path / "ws")]
    subprocess.run(args, env=env, cwd=ROOT, check=True)
    assert not list((tmp_path / "ws" / "runs").rglob("mlflow.json"))


def test_an_unreachable_server_costs_seconds_and_one_warning_once_per_run(tiny_imagenet, tmp_path, monkeypatch, caplog):
    """A tracking URI on a closed port: the verb finishes, one warning says tracking is off for the run, the
    run's mlflow.json records it, and the next verb of the same run does not try again."""
    import json
    import logging
    import time

    ws = tmp_path / "ws"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    dataset = engine.import_dataset(str(tiny_imagenet), workspace=ws)["dataset"]
    caplog.set_level(logging.WARNING, logger="engine.tracking")
    began = time.monotonic()
    run = engine.train(dataset, epochs=1, img_size=32, max_steps=2, workspace=ws)["run"]
    took = time.monotonic() - began
    warnings = [r.getMessage() for r in caplog.records if r.name == "engine.tracking"]
    assert len(warnings) == 1 and f"tracking is off for run {run}" in warnings[0] and "cannot connect" in warnings[0]
    marker = json.loads((ws / "runs" / str(run) / "mlflow.json").read_text())
    assert list(marker["off"]) == [os.environ["MLFLOW_TRACKING_URI"]]
    assert took < 60  # not MLflow's ~250 s of retries (a loose bound: the training itself takes seconds)
    caplog.clear()
    engine.optimize(run, variants=["fp32"], calib_size=8, workspace=ws)
    assert not [r for r in caplog.records if r.name == "engine.tracking"]  # once per run
