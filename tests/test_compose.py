"""compose.yaml and the Dockerfile, checked where Docker cannot run: the services agree on addresses, ports and the
shared workspace, the image runs as a non-root user, and each container's command is accepted by the tool the
image installs. (The Ray, MLflow and OVMS tests start the same commands outside Docker.)"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

import engine
from tests.conftest import ROOT, compose_command, ray_executable

COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
RUN_JOBS = ("app", "ray-head", "ray-worker")  # every process that opens the workspace


def _option(service: str, name: str) -> str:
    tokens = shlex.split(SERVICES[service]["command"])
    return tokens[tokens.index(name) + 1]


def test_a_team_stack_app_ray_head_and_worker_mlflow_and_ovms():
    assert set(SERVICES) == {"app", "ray-head", "ray-worker", "mlflow", "ovms"}
    assert set(COMPOSE["volumes"]) == {"workspace", "mlflow"}


def test_everything_that_runs_jobs_sees_the_workspace_at_the_same_path():
    for name in RUN_JOBS:
        env = SERVICES[name]["environment"]
        assert f"workspace:{env['STUDIO_WORKSPACE']}" in SERVICES[name]["volumes"], name
        assert env["STUDIO_JOB_BACKEND"] == "ray"  # the same database journal mode everywhere
    assert len({SERVICES[n]["environment"]["STUDIO_WORKSPACE"] for n in RUN_JOBS}) == 1


def test_the_addresses_point_at_the_services_that_listen_there():
    env = SERVICES["app"]["environment"]
    ray = urlparse(env["RAY_ADDRESS"])
    assert ray.hostname == "ray-head" and str(ray.port) == _option("ray-head", "--dashboard-port")
    assert _option("ray-head", "--dashboard-host") == "0.0.0.0"
    assert _option("ray-worker", "--address") == f"ray-head:{_option('ray-head', '--port')}"
    tracking = urlparse(env["MLFLOW_TRACKING_URI"])
    assert tracking.hostname == "mlflow" and str(tracking.port) == _option("mlflow", "--port")
    assert tracking.netloc in _option("mlflow", "--allowed-hosts").split(",")  # MLflow checks the Host header
    assert f"mlflow:{Path(_option('mlflow', '--artifacts-destination')).parent}" in SERVICES["mlflow"]["volumes"]


def test_ovms_serves_the_deploy_pages_default_repository(monkeypatch):
    workspace = SERVICES["app"]["environment"]["STUDIO_WORKSPACE"]
    monkeypatch.setenv("STUDIO_WORKSPACE", workspace)
    default_repository = engine.workspace_root() / "ovms"  # the Deploy page's "Repository folder"
    assert _option("ovms", "--config_path") == str(default_repository / "config.json")
    assert f"workspace:{workspace}:ro" in SERVICES["ovms"]["volumes"]


def test_the_image_runs_as_an_unprivileged_user_and_installs_the_team_tools():
    lines = [line.split("#")[0].strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any("requirements-team.txt" in line for line in lines if line.startswith("RUN pip install"))
    team = (ROOT / "requirements-team.txt").read_text()
    assert "ray[default]==" in team and "mlflow==" in team


@pytest.mark.team  # starts Ray's and MLflow's command-line tools (seconds each)
@pytest.mark.parametrize(
    ("service", "program"),
    [
        ("ray-head", [ray_executable()]),
        ("ray-worker", [ray_executable()]),
        ("mlflow", [sys.executable, "-m", "mlflow"]),
    ],
)
def test_each_container_command_is_accepted_by_the_installed_tool(service, program):
    args = compose_command(service, program, {"--help": ""})  # every option is parsed, then help exits 0
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
