"""Hostile inputs: bad datasets, bad zips, bad checkpoints, damaged IRs, bad flags and bad workspaces.

Each case damages a copy of one small real workspace (a trained run with FP32 and INT8 IRs), runs one CLI
command against it and asserts what a user must see: a non-zero exit, exactly one line on stderr that
starts with ``error:`` and says what is wrong (``expect``), no traceback, and the workspace unchanged (the
hash of every file and of every database row, before and after).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.tasks.classification.sample import SampleConfig, generate
from tests.conftest import last_json, run_cli

pytestmark = pytest.mark.e2e


# --- the workspace every case starts from -----------------------------------------------------------------
@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    data, ws = root / "data", root / "ws"
    generate(data, SampleConfig(seed=2, per_class=(("train", 12), ("val", 4), ("test", 4))))
    run_cli("data", "import", str(data), workspace=ws)
    train = ("train", "--dataset", "1", "--epochs", "1", "--img-size", "32", "--max-steps", "3", "--json")
    assert last_json(run_cli(*train, workspace=ws))["status"] == "completed"
    run_cli("optimize", "1", "--variants", "fp32,int8", "--calib-size", "8", workspace=ws)
    return ws


def snapshot(ws: Path) -> dict:
    """Every file's hash (the database by its rows: WAL files change when it is merely opened)."""
    if not ws.is_dir():
        return {"not a folder": ws.exists()}
    files = {
        str(p.relative_to(ws)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(ws.rglob("*"))
        if p.is_file() and not p.name.startswith("studio.db") and "logs" not in p.relative_to(ws).parts
    }
    db = ws / "studio.db"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            rows = {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}"))) for t in tables}
    except sqlite3.DatabaseError:
        rows = {"bytes": hashlib.sha256(db.read_bytes()).hexdigest() if db.is_file() else str(db.exists())}
    return {"files": files, "rows": rows}


# --- inputs ------------------------------------------------------------------------------------------------
def _png(path: Path, seed: int, size=(24, 24)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(path)
    return path


def _classes(root: Path, classes=("cat", "dog"), n: int = 3) -> Path:
    for c, name in enumerate(classes):
        for i in range(n):
            _png(root / name / f"{i}.png", 100 * c + i)
    return root


def _zip(path: Path, entries: dict[str, bytes], *, tweak: Callable[[zipfile.ZipInfo], None] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if tweak:
                tweak(info)
            zf.writestr(info, data)
    return path


def _encrypted(path: Path) -> Path:
    """Set the 'encrypted' flag bit in the local and central headers (zipfile cannot write encrypted zips)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset] |= 1
    path.write_bytes(bytes(data))
    return path


def _coco(root: Path, *, images: list[str], truncate: bool = False) -> Path:
    (root / "images" / "train").mkdir(parents=True)
    for i in range(3):
        _png(root / "images" / "train" / f"{i}.png", i)
    doc = {
        "images": [{"id": i + 1, "file_name": name, "width": 24, "height": 24} for i, name in enumerate(images)],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 8, 8], "area": 64, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "thing"}],
    }
    text = json.dumps(doc)
    (root / "annotations").mkdir()
    (root / "annotations" / "instances_train.json").write_text(text[: len(text) // 2] if truncate else text)
    return root


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _variant(ws: Path, name: str) -> Path:
    return ws / "runs" / "1" / "variants" / name


def _sql(ws: Path, *statements: str) -> None:
    with sqlite3.connect(ws / "studio.db") as con:
        for statement in statements:
            con.execute(statement)


def _remove_db(ws: Path) -> None:
    for path in ws.glob("studio.db*"):
        path.unlink()


def _garbage_db(ws: Path) -> None:
    _remove_db(ws)
    (ws / "studio.db").write_bytes(b"garbage" * 100)


def _other_arch_checkpoint(ws: Path) -> None:
    from engine.training import checkpoint

    best = ws / "runs" / "1" / "checkpoints" / "best.pt"
    state = checkpoint.load(best)
    state["model"] = torch.nn.Linear(3, 2).state_dict()
    checkpoint.save(best, {k: v for k, v in state.items() if k not in ("format", "version")})


# --- the cases ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Path, Path], list[str]]  # (workspace, scratch folder) -> CLI arguments
    expect: str  # in the one line the user sees


CASES = [
    # bad datasets
    Case("data-missing-path", lambda ws, t: ["data", "import", str(t / "nope")], "does not exist"),
    Case("data-empty-folder", lambda ws, t: ["data", "import", str((t / "e").mkdir() or t / "e")], "format"),
    Case(
        "data-text-files-only",
        lambda ws, t: ["data", "import", str(_write((t / "d").mkdir() or t / "d" / "a.txt", b"x") or t / "d")],
        "format",
    ),
    Case("data-one-class", lambda ws, t: ["data", "import", str(_classes(t / "d", ("cat",)))], "at least 2 classes"),
    Case(
        "data-all-images-corrupt",
        lambda ws, t: [
            "data",
            "import",
            str(
                [_write(p, b"not a png") for p in _classes(t / "d").rglob("*.png")] and t / "d",
            ),
        ],
        "no usable images",
    ),
    Case("data-unknown-format", lambda ws, t: ["data", "import", str(_classes(t / "d")), "--format", "nope"], "nope"),
    Case(
        "data-wrong-format",
        lambda ws, t: ["data", "import", str(_classes(t / "d")), "--format", "coco_instances"],
        "could not read",
    ),
    Case(
        "data-task-mismatch",
        lambda ws, t: ["data", "import", str(_classes(t / "d")), "--task", "detection"],
        "detection",
    ),
    Case(
        "data-coco-truncated-json",
        lambda ws, t: ["data", "import", str(_coco(t / "c", images=["0.png"], truncate=True))],
        "instances_train.json",
    ),
    Case(
        "data-coco-unknown-image",
        lambda ws, t: ["data", "import", str(_coco(t / "c", images=["missing.png"]))],
        "",
    ),
    # bad zips
    Case(
        "zip-not-a-zip", lambda ws, t: ["data", "import", str(_write(t / "a.zip", b"PK garbage") or t / "a.zip")], "zip"
    ),
    Case("zip-slip", lambda ws, t: ["data", "import", str(_zip(t / "a.zip", {"../evil.png": b"x"}))], ".."),
    Case("zip-absolute", lambda ws, t: ["data", "import", str(_zip(t / "a.zip", {"/etc/evil": b"x"}))], "absolute"),
    Case(
        "zip-symlink",
        lambda ws, t: [
            "data",
            "import",
            str(
                _zip(
                    t / "a.zip",
                    {"d/link": b"/etc/passwd"},
                    tweak=lambda i: setattr(i, "external_attr", (0o120777 << 16)),
                )
            ),
        ],
        "link",
    ),
    Case(
        "zip-encrypted",
        lambda ws, t: ["data", "import", str(_encrypted(_zip(t / "a.zip", {"d/a.png": b"x"})))],
        "password",
    ),
    Case(
        "zip-file-and-folder",
        lambda ws, t: ["data", "import", str(_zip(t / "a.zip", {"d/a": b"x", "d/a/b.png": b"y"}))],
        "both as a file and as a folder",
    ),
    Case(
        "zip-long-name",
        lambda ws, t: ["data", "import", str(_zip(t / "a.zip", {"d/" + "x" * 300 + ".png": b"y"}))],
        "longer than",
    ),
    Case("zip-empty", lambda ws, t: ["data", "import", str(_zip(t / "a.zip", {}))], "format"),
    # bad checkpoints
    Case(
        "ckpt-garbage-last",
        lambda ws, t: (
            _write(ws / "runs/1/checkpoints/last.pt", b"garbage")
            or _sql(ws, "UPDATE runs SET status='cancelled'")
            or ["train", "--resume", "1"]
        ),
        "cannot read checkpoint",
    ),
    Case(
        "ckpt-malicious-pickle",
        lambda ws, t: (
            _write(ws / "runs/1/checkpoints/best.pt", pickle.dumps(Evil()))
            or ["evaluate", "1", "--variant", "torch-fp32"]
        ),
        "cannot read checkpoint",
    ),
    Case(
        "ckpt-foreign-state-dict",
        lambda ws, t: (
            torch.save({"weight": torch.zeros(2)}, ws / "runs/1/checkpoints/best.pt")
            or ["evaluate", "1", "--variant", "torch-fp32"]
        ),
        "not an Edge Model Studio checkpoint",
    ),
    Case(
        "ckpt-other-architecture",
        lambda ws, t: _other_arch_checkpoint(ws) or ["evaluate", "1", "--variant", "torch-fp32"],
        "does not hold a usable",
    ),
    # damaged IRs
    Case(
        "ir-truncated-xml",
        lambda ws, t: _truncate(_variant(ws, "int8") / "model.xml") or ["evaluate", "1", "--variant", "int8"],
        "damaged",
    ),
    Case(
        "ir-truncated-bin",
        lambda ws, t: _truncate(_variant(ws, "int8") / "model.bin") or ["benchmark", "1", "--variants", "int8"],
        "damaged",
    ),
    Case(
        "ir-missing-bin",
        lambda ws, t: (
            (_variant(ws, "fp32") / "model.bin").unlink()
            or ["predict", "1", str(_png(t / "x.png", 1)), "--variant", "fp32"]
        ),
        "missing",
    ),
    Case(
        "ir-missing-metrics",
        lambda ws, t: (_variant(ws, "int8") / "metrics.json").unlink() or ["evaluate", "1", "--variant", "int8"],
        "metrics.json",
    ),
    Case(
        "ir-missing-variant",
        lambda ws, t: ["evaluate", "1", "--variant", "pruned"],
        "optimize 1 --variants pruned",
    ),
    # bad flags
    Case("flag-negative-time", lambda ws, t: ["benchmark", "1", "--time", "-3"], "negative"),
    Case("flag-negative-warmup", lambda ws, t: ["benchmark", "1", "--warmup", "-1"], "negative"),
    Case("flag-zero-iterations", lambda ws, t: ["benchmark", "1", "--iterations", "0"], "--iterations"),
    Case("flag-bad-precision", lambda ws, t: ["benchmark", "1", "--precision", "int4"], "int4"),
    Case("flag-bad-device", lambda ws, t: ["evaluate", "1", "--variant", "int8", "--device", "GPU.7"], "GPU.7"),
    Case("flag-bad-variant", lambda ws, t: ["evaluate", "1", "--variant", "int3"], "int3"),
    Case(
        "flag-resume-with-settings",
        lambda ws, t: (
            _sql(ws, "UPDATE runs SET status='cancelled'")
            or ["train", "--resume", "1", "--epochs", "1000", "--img-size", "5000"]
        ),
        "--epochs, --img-size",
    ),
    Case("flag-resume-finished", lambda ws, t: ["train", "--resume", "1"], "already finished"),
    Case("flag-img-size", lambda ws, t: ["train", "--dataset", "1", "--img-size", "5000"], "img_size=5000"),
    Case("flag-zero-epochs", lambda ws, t: ["train", "--dataset", "1", "--epochs", "0"], "epochs=0"),
    Case("flag-huge-lr", lambda ws, t: ["train", "--dataset", "1", "--lr", "5"], "lr=5"),
    Case("flag-unknown-dataset", lambda ws, t: ["train", "--dataset", "99"], "no dataset 99"),
    Case("flag-non-numeric-dataset", lambda ws, t: ["train", "--dataset", "abc"], "invalid int value"),
    Case("flag-unknown-model", lambda ws, t: ["train", "--dataset", "1", "--model", "vgg99"], "vgg99"),
    Case("flag-calib-zero", lambda ws, t: ["optimize", "1", "--variants", "int8", "--calib-size", "0"], "calib"),
    Case(
        "flag-qat-epochs-zero",
        lambda ws, t: ["optimize", "1", "--variants", "int8-qat", "--qat-epochs", "0"],
        "qat-epochs",
    ),
    Case("flag-prune-ratio", lambda ws, t: ["optimize", "1", "--variants", "pruned", "--prune-ratio", "1.5"], "ratio"),
    # every setting checked before any work (QAT calibration takes minutes), NaN included, no object dumps
    Case(
        "flag-qat-lr-negative",
        lambda ws, t: ["optimize", "1", "--variants", "int8-qat", "--qat-lr", "-1"],
        "--qat-lr must be a learning rate between 0 and 1, got -1.0",
    ),
    Case(
        "flag-prune-lr-nan",
        lambda ws, t: ["optimize", "1", "--variants", "pruned", "--prune-lr", "nan"],
        "--prune-lr must be a learning rate between 0 and 1, got nan",
    ),
    Case(
        "flag-prune-steps-zero",
        lambda ws, t: ["optimize", "1", "--variants", "pruned", "--prune-steps", "0"],
        "--prune-steps must be at least 1, got 0",
    ),
    Case(
        "flag-search-budget-nan",
        lambda ws, t: ["search", "--dataset", "1", "--budget-minutes", "nan"],
        "positive number of minutes, got nan",
    ),
    Case("flag-search-size-zero", lambda ws, t: ["search", "--dataset", "1", "--sizes", "0"], "0 px is not an input"),
    Case(
        "flag-search-size-huge",
        lambda ws, t: ["search", "--dataset", "1", "--sizes", "64,100000"],
        "100000 px is not an input size",
    ),
    Case(  # a folder nobody may write (root included: /sys): the message is about --ovms, not the workspace
        "flag-deploy-ovms-unwritable",
        lambda ws, t: ["deploy", "1", "--variant", "int8", "--ovms", "/sys/studio-ovms"],
        "cannot write the OVMS model repository at /sys/studio-ovms",
    ),
    Case("flag-search-resume-unknown", lambda ws, t: ["search", "--resume", "99"], "`python -m engine searches list`"),
    Case(
        "flag-save-is-a-file",
        lambda ws, t: ["predict", "1", str(_png(t / "x.png", 1)), "--save", str(_png(t / "f.png", 2))],
        "is a file",
    ),
    Case(
        "flag-predict-not-an-image",
        lambda ws, t: ["predict", "1", str(_write(t / "x.png", b"text") or t / "x.png")],
        "cannot use image",
    ),
    Case("flag-predict-missing-image", lambda ws, t: ["predict", "1", str(t / "none.png")], "not found"),
    Case("flag-job-bad-json", lambda ws, t: ["jobs", "submit", "train", "{not json"], "JSON"),
    Case("flag-job-bad-argument", lambda ws, t: ["jobs", "submit", "train", '{"nope": 1}'], "nope"),
    Case("flag-job-unknown", lambda ws, t: ["jobs", "cancel", "999"], "no job 999"),
    Case("flag-run-unknown", lambda ws, t: ["runs", "show", "999"], "no run 999"),
    # bad workspaces
    Case("ws-db-garbage", lambda ws, t: _garbage_db(ws) or ["runs", "list"], "workspace repair"),
    Case(
        "ws-db-is-a-folder",
        lambda ws, t: _remove_db(ws) or (ws / "studio.db").mkdir() or ["runs", "list"],
        "is a folder",
    ),
    Case(
        "ws-is-a-file",
        lambda ws, t: _write(t / "file", b"x") or ["runs", "list", "--workspace", str(t / "file")],
        "is a file",
    ),
    Case(
        "ws-db-of-another-program",
        lambda ws, t: _remove_db(ws) or _sql(ws, "CREATE TABLE songs (title TEXT)") or ["runs", "list"],
        "another program",
    ),
    Case("ws-db-newer-schema", lambda ws, t: _sql(ws, "PRAGMA user_version = 99") or ["runs", "list"], "newer"),
    Case("ws-repair-healthy", lambda ws, t: ["workspace", "repair"], "healthy"),
    # a deleted or emptied database beside the old folders: refused before any id could be handed out again
    Case("ws-db-deleted-list", lambda ws, t: _remove_db(ws) or ["runs", "list"], "is missing"),
    Case(
        "ws-db-deleted-import",
        lambda ws, t: _remove_db(ws) or ["data", "import", str(_classes(t / "more"))],
        "workspace repair",
    ),
    Case(
        "ws-db-emptied-train",
        lambda ws, t: (
            _sql(ws, *(f"DELETE FROM {x}" for x in ("benchmarks", "variants", "runs", "datasets")))
            or ["train", "--dataset", "1", "--epochs", "1"]
        ),
        "is empty",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_one_line_and_changes_nothing(case, base, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    scratch = tmp_path / "in"
    scratch.mkdir()
    args = case.make(ws, scratch)
    watched = Path(args[args.index("--workspace") + 1]) if "--workspace" in args else ws
    before = snapshot(ws)
    proc = run_cli(*args, workspace=watched, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    assert case.expect in lines[0], lines[0]
    assert "internal error" not in lines[0]
    assert snapshot(ws) == before


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


def test_a_bug_is_one_line_naming_the_log_with_the_traceback(base, tmp_path, monkeypatch):
    """Whatever is not foreseen still reaches the user as one line, and the traceback is kept for the report."""
    import engine

    ws = tmp_path / "ws"
    shutil.copytree(base, ws)

    def broken(*, workspace=None):
        raise ZeroDivisionError("planted")

    monkeypatch.setitem(engine.VERBS, "list_runs", broken)
    proc = run_cli("runs", "list", workspace=ws, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1
    assert "internal error (ZeroDivisionError: planted)" in lines[0] and "Traceback" not in proc.stderr
    log = ws / "logs" / "errors.log"
    assert str(log) in lines[0]
    assert "Traceback" in log.read_text() and "planted" in log.read_text()


def test_a_process_prints_one_line_and_no_traceback(base, tmp_path):
    """The same boundary in a real ``python -m engine`` process (the interpreter's own exit path)."""
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    _garbage_db(ws)
    proc = run_cli("runs", "list", workspace=ws, check=False, subprocess_=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_repair_rebuilds_the_database_from_the_folders(base, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    runs_before = last_json(run_cli("runs", "list", "--json", workspace=ws))
    variants_before = last_json(run_cli("runs", "variants", "1", "--json", workspace=ws))
    _garbage_db(ws)
    repaired = last_json(run_cli("workspace", "repair", "--json", workspace=ws))
    assert (repaired["datasets"], repaired["runs"], repaired["variants"]) == (1, 1, 3)
    assert Path(repaired["damaged_copy"]).read_bytes().startswith(b"garbage")
    runs_after = last_json(run_cli("runs", "list", "--json", workspace=ws))
    keys = ("run", "dataset", "task", "model", "status", "val_metric", "variants")
    assert [{k: r[k] for k in keys} for r in runs_after] == [{k: r[k] for k in keys} for r in runs_before]
    assert last_json(run_cli("runs", "variants", "1", "--json", workspace=ws)) == variants_before
    run_cli("evaluate", "1", "--variant", "int8", workspace=ws)  # the hashes still check out


def test_a_deleted_database_never_lets_new_work_overwrite_old_work(base, tmp_path):
    """The database deleted, the folders kept: every verb refuses (one line: run repair); repair rebuilds it
    without --force; the next dataset and run get new ids and the old run's files are untouched."""
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    old_files = {p: p.read_bytes() for p in (ws / "runs" / "1").rglob("*") if p.is_file()}
    _remove_db(ws)
    data = _classes(tmp_path / "more", n=4)
    refused = run_cli("data", "import", str(data), workspace=ws, check=False)
    assert refused.returncode == 2 and "workspace repair" in refused.stderr
    repaired = last_json(run_cli("workspace", "repair", "--json", workspace=ws))
    assert (repaired["datasets"], repaired["runs"], repaired["damaged_copy"]) == (1, 1, None)
    assert last_json(run_cli("data", "import", str(data), "--json", workspace=ws))["dataset"] == 2
    train = ("train", "--dataset", "2", "--epochs", "1", "--img-size", "32", "--max-steps", "1", "--json")
    assert last_json(run_cli(*train, workspace=ws))["run"] == 2
    assert {p: p.read_bytes() for p in (ws / "runs" / "1").rglob("*") if p.is_file()} == old_files


def test_an_io_fault_is_one_line_with_the_fix(base, tmp_path, monkeypatch):
    """Disk full while a verb writes: the user reads what happened and what to do, not an OSError."""
    import errno

    from engine.store import atomic

    ws = tmp_path / "ws"
    shutil.copytree(base, ws)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(ws / "runs"))

    monkeypatch.setattr(atomic, "write_json", full)
    monkeypatch.setattr("engine.pipeline.benchmarking.write_json", full)
    proc = run_cli("benchmark", "1", "--variants", "fp32", "--iterations", "3", workspace=ws, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1].startswith("error: No space left on device")
    assert "free some space" in lines[-1]


def test_snapshot_sees_a_changed_row_and_a_changed_file(base, tmp_path):
    """The unchanged-workspace assertion above can fail."""
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    before = snapshot(ws)
    _sql(ws, "UPDATE runs SET status='x'")
    assert snapshot(ws) != before
    before = snapshot(ws)
    (ws / "runs" / "1" / "config.yaml").write_text("changed")
    assert snapshot(ws) != before
