"""Experiment tracking in MLflow, on when ``MLFLOW_TRACKING_URI`` is set; otherwise nothing is logged and
``mlflow`` is never imported.

One MLflow run per studio run, in the experiment ``$MLFLOW_EXPERIMENT_NAME`` (default "Edge Model Studio"),
tagged with the studio run id and workspace. Its id is kept in ``runs/N/mlflow.json``, so train, optimize,
benchmark and report (each possibly its own job process) add to the same MLflow run:

- train: the settings as params, every epoch's losses, metric, learning rate and speed as metric history
  (step = epoch), the best epoch's metrics;
- optimize: each variant's test metric, drop, size and agreement (``<variant>.<key>``), its IR and scores as
  artifacts under ``variants/<name>/``;
- benchmark: each configuration's median latency and throughput
  (``benchmark.<variant>.<device>.<precision>.*``), the result files under ``benchmarks/``;
- report: the report card under ``report/``.

The explicit ``MlflowClient`` is used (no fluent "active run"), so the dashboard's threads cannot mix runs.
A tracking server that cannot be reached is a warning in the log: the run itself is saved in the workspace.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

from engine.pipeline.context import Context
from engine.store.atomic import read_json, write_json

log = logging.getLogger(__name__)

URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_EXPERIMENT = "Edge Model Studio"
MARKER = "mlflow.json"


def enabled() -> bool:
    return bool(os.environ.get(URI_ENV, "").strip())


# MLflow's HTTP client retries a refused connection 7 times with backoff and waits 120 s per request: ~250 s
# of a 2-s training spent on a server that is not there. Tracking is a copy, so it gets seconds, once.
HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
                 "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}  # fmt: skip
PROBE_TIMEOUT_S = 3.0


def after(verb: str, ctx: Context, result: dict) -> dict:
    """Log a finished verb's result to MLflow (if tracking is on) and return it; never fails the verb.

    A server that cannot be reached costs at most a few seconds and one warning, once per run: the run's
    ``mlflow.json`` then records tracking as off for that server, and later verbs of the run skip it."""
    record = RECORDERS.get(verb)
    if record is None or not enabled() or not isinstance(result, dict) or "run" not in result:
        return result
    uri = os.environ[URI_ENV].strip()
    run = ctx.run(result["run"])
    marker = ctx.run_dir(run) / MARKER
    known = read_json(marker) if marker.is_file() else {}
    if uri in known.get("off", {}):
        log.debug("MLflow tracking at %s is off for run %s (%s)", uri, run["id"], known["off"][uri])
        return result
    for name, value in HTTP_SETTINGS.items():
        os.environ.setdefault(name, value)
    try:
        unreachable = _unreachable(uri)
        if unreachable:
            raise ConnectionError(unreachable)
        from mlflow import MlflowClient

        client = MlflowClient(uri)
        record(client, _mlflow_run(client, ctx, run), ctx, run, result)
    except Exception as exc:  # tracking is a copy: the workspace keeps the run either way
        why = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
        write_json(marker, {**known, "off": {**known.get("off", {}), uri: why}})
        log.warning("MLflow tracking at %s failed (%s); tracking is off for run %s, which is saved in the workspace",
                    uri, why, run["id"])  # fmt: skip
    return result


def _unreachable(uri: str) -> str:
    """Why an http(s) tracking server cannot be reached (a refused or silent port), in a few seconds; ""."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""  # a local store (file:, sqlite:): nothing to reach
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=PROBE_TIMEOUT_S):
            return ""
    except OSError as exc:
        return f"cannot connect to {parts.hostname}:{port} ({exc.strerror or exc})"


def _mlflow_run(client, ctx: Context, run: dict) -> str:
    """The MLflow run id of this studio run on this tracking server, created the first time."""
    marker = ctx.run_dir(run) / MARKER
    uri = os.environ[URI_ENV]
    known = read_json(marker) if marker.is_file() else {}
    if isinstance(known.get(uri), str):
        return known[uri]
    name = os.environ.get(EXPERIMENT_ENV) or DEFAULT_EXPERIMENT
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    tags = {"studio.run": str(run["id"]), "studio.workspace": str(ctx.ws.root), "studio.task": run["task"],
            "studio.model": run["model"]}  # fmt: skip
    created = client.create_run(experiment_id, run_name=f"run {run['id']} · {run['model']}", tags=tags)
    write_json(marker, {**known, uri: created.info.run_id})
    return created.info.run_id


SKIP = ("epoch", "epochs", "time", "elapsed_s", "eta_s")  # an epoch event's bookkeeping, not measurements


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _log(client, run_id: str, metrics: dict[str, float]) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    _send(client, run_id, [Metric(k, float(v), now, 0) for k, v in metrics.items() if _number(v)])


def _send(client, run_id: str, rows: list) -> None:
    for i in range(0, len(rows), 1000):  # MLflow's batch limit
        client.log_batch(run_id, metrics=rows[i : i + 1000])


def _train(client, run_id: str, ctx: Context, run: dict, result: dict) -> None:
    from mlflow.entities import Metric, Param

    params = [Param(k, json.dumps(v) if isinstance(v, dict | list) else str(v)) for k, v in run["config"].items()]
    params += [Param("dataset", str(run["dataset_id"]))]
    client.log_batch(run_id, params=params)
    now = int(time.time() * 1000)
    history = []
    for event in _epochs(ctx, run):
        step = int(event["epoch"])
        history += [Metric(k, float(v), now, step) for k, v in event.items() if _number(v) and k not in SKIP]
    _send(client, run_id, history)
    best = {k if k.startswith("best") else f"best.{k}": v for k, v in run["metrics"].items() if _number(v)}
    _log(client, run_id, best)  # best_epoch, best.val_top1, ... (not mixed into the per-epoch series)
    client.set_tag(run_id, "studio.status", result.get("status", run["status"]))


def _epochs(ctx: Context, run: dict) -> list[dict]:
    from engine.store.atomic import read_jsonl

    events = ctx.run_dir(run) / "events.jsonl"
    return [e for e in (read_jsonl(events) if events.is_file() else []) if e.get("type") == "epoch"]


def _optimize(client, run_id: str, ctx: Context, run: dict, result: dict) -> None:
    key = result["primary_metric"]
    for name, entry in result["variants"].items():
        values = {key: entry.get(key), "drop_vs_torch_pp": entry.get("drop_vs_torch_pp"),
                  "size_mb": entry.get("size_bytes", 0) / 1e6}  # fmt: skip
        values |= {f"agreement_vs_{ref}": rate for ref, rate in (entry.get("agreement") or {}).items()}
        _log(client, run_id, {f"{name}.{k}": v for k, v in values.items() if v is not None})
        folder = ctx.run_dir(run) / "variants" / name
        if folder.is_dir():
            client.log_artifacts(run_id, str(folder), f"variants/{name}")


def _benchmark(client, run_id: str, ctx: Context, run: dict, result: dict) -> None:
    for row in result["results"]:
        ran = row.get("inference_precision") or "default"
        stem = f"benchmark.{row['variant']}.{row.get('device', 'CPU')}.{ran}".replace(":", "-")
        latency, throughput = row.get("latency_ms") or {}, row.get("throughput") or {}
        values = {"median_ms": latency.get("median"), "fps": throughput.get("fps")}
        _log(client, run_id, {f"{stem}.{k}": v for k, v in values.items() if v is not None})
    folder = ctx.run_dir(run) / "benchmarks"
    if folder.is_dir():
        client.log_artifacts(run_id, str(folder), "benchmarks")


def _report(client, run_id: str, ctx: Context, run: dict, result: dict) -> None:
    client.log_artifact(run_id, str(Path(result["path"])), "report")


RECORDERS: dict[str, Callable] = {"train": _train, "optimize": _optimize, "benchmark": _benchmark, "report": _report}
