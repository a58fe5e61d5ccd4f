"""The Ray job backend against a real local Ray head (``ray start --head`` on 127.0.0.1, stopped afterwards):
jobs go through Ray's job submission API, their state comes back from the cluster, cancel reaches the Ray job."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.jobs import ray_cluster
from tests.conftest import ROOT, compose_command, last_json, ray_executable, run_cli, wait_for
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.team

TINY_TRAIN = {"img_size": 32, "batch_size": 16}  # the tiny sample: 15 steps an epoch


@pytest.fixture(scope="module")
def ray_head():
    """A one-node Ray cluster with 2 CPUs and its dashboard (the job submission API) on free local ports."""
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    dashboard = free_port()
    start = compose_command("ray-head", [ray_executable()], {  # compose.yaml's head, on loopback, with 2 CPUs for jobs
        "--port": str(free_port()), "--dashboard-host": "127.0.0.1", "--dashboard-port": str(dashboard),
        "--num-cpus": "2", "--block": None, "--node-ip-address": "127.0.0.1", "--include-dashboard": "true",
        "--object-store-memory": str(200 * 2**20), "--temp-dir": temp,
    })  # fmt: skip
    started = subprocess.run(start, capture_output=True, text=True, timeout=180, check=False)
    url = f"http://127.0.0.1:{dashboard}"
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        deadline = time.monotonic() + 90
        while True:  # the job API answers a little after `ray start` returns
            try:
                if urllib.request.urlopen(f"{url}/api/version", timeout=2).status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, f"the Ray dashboard at {url} never answered"
                time.sleep(1)
        yield url
    finally:
        subprocess.run([ray_executable(), "stop", "--force"], capture_output=True, timeout=120, check=False)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def on_ray(ray_head, tmp_path, monkeypatch):
    """A workspace with the tiny sample imported, and the job backend pointed at the cluster."""
    engine.get_task("classification").write_sample(tmp_path / "data", tiny=True)
    ws = tmp_path / "ws"
    dataset = last_json(run_cli("data", "import", str(tmp_path / "data"), "--json", workspace=ws))["dataset"]
    monkeypatch.setenv("STUDIO_WORKSPACE", str(ws))
    monkeypatch.setenv("STUDIO_JOB_BACKEND", "ray")
    monkeypatch.setenv("RAY_ADDRESS", ray_head)
    return ws, dataset


def _ray_status(job: dict) -> str:
    return str(ray_cluster.client().get_job_status(job["backend_id"]).value)


def _row(job_id: int) -> dict:
    return next(j for j in engine.list_jobs() if j["id"] == job_id)


def _until_ray(job: dict, status: str, timeout: float = 90) -> None:
    """The runner records the result just before its process exits; Ray's word follows the exit."""
    deadline = time.monotonic() + timeout
    while (now := _ray_status(job)) != status:
        assert time.monotonic() < deadline, f"Ray job {job['backend_id']} is {now}, not {status}"
        time.sleep(0.5)


def test_a_train_job_runs_on_ray_and_a_second_is_cancelled(on_ray):
    ws, dataset = on_ray
    done = engine.submit_job("train", {"dataset": dataset, "epochs": 2, **TINY_TRAIN}, title="tiny on ray")
    assert done["backend"] == "ray" and done["backend_id"].startswith(f"studio-{done['id']}-")
    long = engine.submit_job("train", {"dataset": dataset, "epochs": 200, **TINY_TRAIN}, title="long on ray")

    finished = wait_for(done["id"], ("completed", "failed", "cancelled"), timeout=420)
    assert finished["status"] == "completed", (finished["error"], engine.job_logs(done["id"])["lines"])
    _until_ray(finished, "SUCCEEDED")
    run = finished["run_id"]
    assert engine.show_run(run)["status"] == "completed"
    assert (ws / "runs" / str(run) / "checkpoints" / "last.pt").is_file()  # the worker wrote to the shared workspace
    logs = engine.job_logs(done["id"], lines=200)
    assert logs["backend"] == "ray" and any("epoch 2/2" in line for line in logs["lines"]), logs["lines"]

    wait_for(long["id"], ("running",), timeout=240)  # its runner has started on the cluster
    deadline = time.monotonic() + 240
    while (long_run := _row(long["id"])["run_id"]) is None:  # it has created its run (both jobs run at once)
        assert time.monotonic() < deadline, engine.job_logs(long["id"])["lines"]
        time.sleep(0.5)
    assert long_run != run
    engine.cancel_job(long["id"])
    stopped = wait_for(long["id"], ("cancelled", "failed", "completed"), timeout=120)
    assert stopped["status"] == "cancelled", stopped["error"]
    _until_ray(stopped, "STOPPED")  # cancel reached the Ray job
    assert engine.show_run(long_run)["status"] == "cancelled"  # the runner got SIGTERM and saved before SIGKILL

    # the Runs page's job list (state reconciled from the cluster) shows both, with where they ran
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("app_pages/runs.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(df.value for df in at.dataframe if "job" in df.value.columns)
    rows = {int(row["job"]): row for row in table.to_dict("records")}  # cells are formatted text
    assert rows[done["id"]]["status"] == "completed" and rows[long["id"]]["status"] == "cancelled"
    assert rows[done["id"]]["where"] == f"ray · {done['backend_id']}"


def test_a_job_waiting_in_rays_queue_is_cancelled_and_never_runs(on_ray, monkeypatch):
    """With 2 CPUs a job, the 2-CPU cluster runs one and holds the next in Ray's queue (PENDING); cancelled
    there, it is cancelled at once and never runs its verb, even when Ray places it later."""
    _, dataset = on_ray
    monkeypatch.setenv("STUDIO_RAY_JOB_CPUS", "2")
    busy = engine.submit_job("train", {"dataset": dataset, "epochs": 200, **TINY_TRAIN}, title="holds the CPUs")
    wait_for(busy["id"], ("running",), timeout=240)
    deadline = time.monotonic() + 240  # the job reports running before its verb imports torch and makes the run
    while _row(busy["id"])["run_id"] is None:
        assert time.monotonic() < deadline, _row(busy["id"])
        time.sleep(0.2)
    waiting = engine.submit_job("train", {"dataset": dataset, "epochs": 1, **TINY_TRAIN}, title="waits")
    _busy_trains_epochs(_row(busy["id"])["run_id"], 2)  # time in which a placed job would have started
    assert _row(waiting["id"])["status"] == "queued"
    assert _ray_status(waiting) == "PENDING"
    assert engine.cancel_job(waiting["id"])["status"] == "cancelled"

    engine.cancel_job(busy["id"])  # frees the CPUs: Ray places the cancelled job and stops it at once
    assert wait_for(busy["id"], ("cancelled", "failed", "completed"), timeout=120)["status"] == "cancelled"
    _until_ray(waiting, "STOPPED", timeout=120)
    row = _row(waiting["id"])
    assert (row["status"], row["started"], row["run_id"]) == ("cancelled", None, None)
    assert len(engine.list_runs()) == 1  # only the busy job's run: the cancelled one never trained


def _busy_trains_epochs(run: int, count: int, timeout: float = 120) -> None:
    """Wait until ``run`` has finished ``count`` more epochs: a window measured by the work done beside it."""
    start = len(engine.show_run(run)["epochs"])
    deadline = time.monotonic() + timeout
    while len(engine.show_run(run)["epochs"]) < start + count:
        assert time.monotonic() < deadline, f"run {run} trained no {count} epochs in {timeout} s"
        time.sleep(0.2)


def test_without_a_reachable_cluster_submit_says_so_and_queues_nothing(workspace, monkeypatch):
    monkeypatch.setenv("STUDIO_JOB_BACKEND", "ray")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(engine.StudioError, match="STUDIO_JOB_BACKEND=ray needs RAY_ADDRESS"):
        engine.submit_job("list_formats", {})
    monkeypatch.setenv("RAY_ADDRESS", f"http://127.0.0.1:{free_port()}")
    proc = run_cli("jobs", "submit", "list_formats", "{}", workspace=workspace, check=False)
    assert proc.returncode == 2 and "cannot reach the Ray cluster at http://127.0.0.1:" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert engine.list_jobs() == []


def test_a_failed_entrypoint_is_reported_with_the_last_line_of_its_log():
    """Ray's message is a header line and then the log's tail; the runner's one-line error is the tail's end."""
    message = (
        "Job entrypoint command failed with exit code 2, last available logs (truncated to 20,000 chars):\n"
        "Running entrypoint for job studio-1-abc: python -m engine jobs run 1\n"
        "error: no dataset 7 in /ws; list them with `python -m engine data list`\n"
    )
    assert ray_cluster._why_it_ended(message) == (
        "Job entrypoint command failed with exit code 2, last available logs (truncated to 20,000 chars):"
        " error: no dataset 7 in /ws; list them with `python -m engine data list`"
    )
    assert ray_cluster._why_it_ended("Job was terminated") == "Job was terminated"
    assert ray_cluster._why_it_ended("") == "no message"
