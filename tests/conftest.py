"""Shared fixtures: tiny generated datasets and fresh workspaces (no downloads, ever)."""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.tasks.classification.sample import SampleConfig, generate

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


def run_cli(
    *args: str, workspace: Path, check: bool = True, timeout: float = 600, subprocess_: bool = False
) -> subprocess.CompletedProcess:
    """Run the CLI as a user would: ``engine.cli.main`` in this process (what ``python -m engine`` calls), or
    with ``subprocess_=True`` a real ``python -m engine`` process (signals, exit codes of the interpreter)."""
    if subprocess_:
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
    else:
        import contextlib
        import io

        from engine import cli

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main([*args, "--workspace", str(workspace)])
            except SystemExit as stop:  # argparse refusing the line
                code = stop.code
        proc = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    if check and proc.returncode != 0:
        msg = f"`engine {' '.join(args)}` failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        raise AssertionError(msg)
    return proc


def wait_for(job_id: int, statuses: tuple[str, ...], timeout: float = 300) -> dict:
    """Poll the job queue (as the pages do) until the job reaches one of ``statuses``."""
    import time

    import engine

    deadline = time.monotonic() + timeout
    while True:
        job = next(j for j in engine.list_jobs() if j["id"] == job_id)
        if job["status"] in statuses or time.monotonic() > deadline:
            assert job["status"] in statuses, f"job {job_id} never reached {statuses}: {job}"
            return job
        time.sleep(0.1)


def ray_executable() -> str:
    """The ``ray`` command of the interpreter running the tests (beside it, else on PATH)."""
    import shutil

    found = Path(sys.executable).with_name("ray")
    return str(found) if found.exists() else (shutil.which("ray") or "ray")


def compose_command(service: str, program: list[str], options: dict[str, str | None]) -> list[str]:
    """The command ``compose.yaml`` runs in ``service``, as the tests run it outside Docker: its program words
    replaced by ``program`` (a local executable), each of ``options`` set to a local value (None drops it,
    a new one is appended). What the tests start is then what the containers start, bar addresses and paths."""
    import shlex

    import yaml

    tokens = shlex.split(yaml.safe_load((ROOT / "compose.yaml").read_text())["services"][service]["command"])
    first = next(i for i, t in enumerate(tokens) if t.startswith("--"))
    parsed: dict[str, str | None] = {}
    for i in range(first, len(tokens)):
        if tokens[i].startswith("--"):
            has_value = i + 1 < len(tokens) and not tokens[i + 1].startswith("--")
            parsed[tokens[i]] = tokens[i + 1] if has_value else ""
    for name, value in options.items():
        if value is None:
            parsed.pop(name, None)
        else:
            parsed[name] = value
    args = [*program, *tokens[1:first]]  # the tool's own subcommand words stay ("start", "server")
    for name, value in parsed.items():
        args += [name, value] if value else [name]  # "" is a flag without a value
    return args


def read(path, task: str | None = None, **kwargs):
    """``read_dataset`` as the import verb calls it: every task a candidate, ``task`` (a name) forcing one."""
    from engine.data.importer import read_dataset
    from engine.tasks import TASKS, get_task

    return read_dataset(path, list(TASKS.values()), task=get_task(task) if task else None, **kwargs)


def last_json(proc: subprocess.CompletedProcess):
    import json

    return json.loads(proc.stdout.strip().splitlines()[-1])


def tiny_optimized_run(data: Path, ws: Path, *, epochs: int, max_steps: int, variants: str = "fp32,int8") -> int:
    """Import ``data``, train a 32-px run for a few steps and build ``variants`` through the CLI; the run id."""
    dataset = last_json(run_cli("data", "import", str(data), "--json", workspace=ws))["dataset"]
    train = ("--epochs", str(epochs), "--max-steps", str(max_steps), "--img-size", "32", "--batch-size", "8")
    run = last_json(run_cli("train", "--dataset", str(dataset), *train, "--json", workspace=ws))["run"]
    run_cli("optimize", str(run), "--variants", variants, "--calib-size", "8", workspace=ws)
    return run


SLOW_KINDS = ("e2e", "browser", "team")  # pyproject.toml registers them
PHASES = ("main", "browser", "alone")  # scripts/test runs them in this order (see ``--phase``)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--phase",
        choices=("all", *PHASES),
        default="all",
        help="which tests run: all (the default); main (every test but the browser and `alone` ones: two workers"
        " share the heavy pipelines); browser (the browser tests, two at a time, with none of the heavy work beside"
        " them); alone (tests marked `alone`, CPU-load checks that need the machine to themselves, one at a time)",
    )


def _phase(item: pytest.Item) -> str:
    if item.get_closest_marker("alone"):
        return "alone"
    return "browser" if item.get_closest_marker("browser") else "main"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the browser and alone phases, a test file whose source names neither mark holds none of their tests: it
    is not imported (the main phase's modules import torch and build fixtures)."""
    if config.getoption("--phase") not in ("browser", "alone") or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    source = collection_path.read_text(encoding="utf-8")
    return not any(f"mark.{kind}" in source for kind in ("alone", "browser"))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test of a slow kind is ``slow`` too, so ``-m "not slow"`` is the fast tier and ``-m browser`` one kind;
    ``--phase`` selects the tests of one phase; each test gets the pytest-xdist group it must share a worker with."""
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)
        if group := _worker_group(item):
            item.add_marker(pytest.mark.xdist_group(group))
            if getattr(config.option, "loadgroup", False):  # a pytest-xdist worker with --dist loadgroup
                _show_group(item, group)
    phase = config.getoption("--phase")
    if phase != "all":
        keep = [item for item in items if _phase(item) == phase]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


def _show_group(item: pytest.Item, group: str) -> None:
    """pytest-xdist 3.8 tells its scheduler a test's group by suffixing the test's id (``...::test@group``) through
    ``item._nodeid``, which pytest 9.2's structured ids no longer read: the groups were silently ignored and every
    pipeline was built on both workers (pytest-dev/pytest-xdist#1386). The suffix is set on the id itself."""
    from _pytest.nodeid import NodeId

    if "@" not in item.nodeid.rpartition("]")[2]:
        item._id = NodeId.parse(f"{item.nodeid}@{group}")


def _worker_group(item: pytest.Item) -> str:
    """Which tests one pytest-xdist worker runs together (``--dist loadgroup``), so that nothing expensive is made
    twice: every user of a task's prepared pipeline (the task they are parametrised with, else classification's),
    every test that starts servers (Ray, MLflow, DDP: one at a time), every test of a module with module-scoped
    fixtures; the rest have no group and go one by one to the next free worker."""
    if "prepared" in getattr(item, "fixturenames", ()):
        from engine.tasks import TASK_NAMES

        params = getattr(getattr(item, "callspec", None), "params", {})
        return next((value for value in params.values() if value in TASK_NAMES), "classification")
    if item.get_closest_marker("team"):
        return "team"
    fixtures = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    if any(d.scope in ("module", "class", "package") for defs in fixtures.values() for d in defs):
        return item.nodeid.split("::", 1)[0]
    return ""  # shares nothing costly: no group, any free worker runs it


# One real pipeline per task (CLI: import -> train -> optimize -> benchmark) on generated data, made once per
# test session and shared by the CLI end-to-end tests and the page tests.
PIPELINES = {
    "classification": {
        "sample": {"seed": 5, "per_class": (("train", 200), ("val", 20), ("test", 20))},
        # 24 epochs: ~86 % top-1, confident enough that INT8 keeps 95 % of FP32 decisions (on an AVX2-only EPYC
        # 12 epochs gave 69 % and an uncertain model that INT8 flipped on 11-15 % of the images, in torch too)
        "train": ("--epochs", "24"),
        "variants": "fp32,fp16,int8,int8-acc,int8-qat,pruned,pruned-int8",
        "calib": "64",
        # short fine-tunes: the tests check the mechanics and sanity, not the best accuracy (pruning in one step:
        # the search's test prunes in two)
        "optimize": ("--prune-steps", "1", "--prune-recovery", "2", "--qat-epochs", "2"),
    },
    "detection": {  # an easier sample than the default (fewer, larger, filled objects) so a short run learns
        "sample": {
            "seed": 3,
            "splits": (("train", 192), ("val", 24), ("test", 24)),
            "max_objects": 3,
            "object_scale": (0.3, 0.5),
            "outlined": 0.0,
            "max_size": 160,
        },
        "train": ("--epochs", "8", "--img-size", "192", "--batch-size", "8"),
        "variants": "fp32,int8",
        "calib": "48",
    },
    "segmentation": {
        "sample": {"seed": 3, "splits": (("train", 160), ("val", 20), ("test", 20))},
        "train": ("--epochs", "12", "--img-size", "96"),  # confident enough that INT8 keeps >= 95 % of pixels
        "variants": "fp32,int8",
        "calib": "48",
    },
    "instance_segmentation": {  # few, large shapes so a short run from random init finds them
        "sample": {
            "seed": 3,
            "splits": (("train", 96), ("val", 12), ("test", 12)),
            "max_objects": 3,
            "object_scale": (0.3, 0.5),
            "max_size": 192,
        },
        "train": ("--epochs", "8", "--img-size", "128", "--batch-size", "4", "--lr", "1e-3"),
        "variants": "fp32,int8",
        "calib": "24",
    },
}


@contextlib.contextmanager
def one_pinned_thread() -> Iterator[None]:
    """Training (in this process and in the engine processes it starts) on one pinned thread: a model trained with
    the threads the free cores allow depends on the neighbours, because float sums follow the split of the work.
    Pinned, a training is the same bit for bit on a CPU however busy it is."""
    from engine.training.threads import PIN_ENV

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PIN_ENV, "1")
        yield


def _prepare(task: str, root: Path) -> dict:
    """The task's pipeline, trained with one pinned thread: unpinned, the tests' thresholds (INT8 and QAT
    agreement, detection matching) missed by a few images when another worker or process held a core."""
    with one_pinned_thread():
        return _pipeline(task, root)


def _pipeline(task: str, root: Path) -> dict:
    from engine.tasks import get_task

    settings = PIPELINES[task]
    data, ws = root / "data", root / "ws"
    sample = importlib.import_module(get_task(task).sample.module)
    sample.generate(data, sample.SampleConfig(**settings["sample"]))
    imported = last_json(run_cli("data", "import", str(data), "--json", workspace=ws))
    dataset = str(imported["dataset"])
    trained = last_json(run_cli("train", "--dataset", dataset, *settings["train"], "--json", workspace=ws))
    run = str(trained["run"])
    optimize = ("optimize", run, "--variants", settings["variants"], "--calib-size", settings["calib"], "--json")
    optimize += settings.get("optimize", ())
    optimized = last_json(run_cli(*optimize, workspace=ws))
    bench = ("--variants", "torch-fp32,int8", "--precisions", "default,f32", "--iterations", "10", "--json")
    benchmarked = last_json(run_cli("benchmark", run, *bench, workspace=ws))
    run_dir = ws / "runs" / run
    return {
        "task": task,
        "data": data,
        "ws": ws,
        "dataset": imported,
        "train": trained,
        "optimize": optimized,
        "benchmark": benchmarked,
        "xml": {v: run_dir / "variants" / v / "model.xml" for v in settings["variants"].split(",")},
        "test_images": _test_images(dataset, ws),
    }


def _test_images(dataset: str, ws: Path) -> list[Path]:
    """The imported test split's images (a segmentation sample's test folder also holds its masks)."""
    import engine

    return sorted(Path(row["image"]) for row in engine.dataset_samples(int(dataset), "test", workspace=ws))


@pytest.fixture(scope="session")
def prepared(tmp_path_factory):
    """``prepared(task)``: that task's shared pipeline workspace (made on first use).

    ``STUDIO_KEEP_PREPARED=DIR`` (development only; CI never sets it) keeps each pipeline in DIR/<task> and reuses
    it in later sessions: delete the folder after changing the recipe or the code it exercises."""
    import json

    made: dict[str, dict] = {}
    keep = os.environ.get("STUDIO_KEEP_PREPARED")

    def get(task: str) -> dict:
        if task in made:
            return made[task]
        if not keep:
            made[task] = _prepare(task, tmp_path_factory.mktemp(f"prepared-{task}"))
            return made[task]
        root, record = Path(keep) / task, Path(keep) / task / "prepared.json"
        if not record.is_file():
            root.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps(_prepare(task, root), default=str))
        loaded = json.loads(record.read_text())
        paths = {
            "data": Path(loaded["data"]),
            "ws": Path(loaded["ws"]),
            "test_images": list(map(Path, loaded["test_images"])),
        }
        made[task] = {**loaded, **paths, "xml": {k: Path(v) for k, v in loaded["xml"].items()}}
        return made[task]

    return get
