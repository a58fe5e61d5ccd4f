"""Pretrained weights on an offline machine: import checks every file (hash in its name, weights_only loading, keys
and shapes) and stores nothing that fails; training uses what was stored and records its SHA-256; fetch without a
network says so in one line."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torchvision import models as tvm

import engine
from tests.conftest import ROOT, last_json, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """An empty weights folder (STUDIO_WEIGHTS_DIR), so the tests never touch the real torch cache."""
    monkeypatch.setenv("STUDIO_WEIGHTS_DIR", str(tmp_path / "weights"))
    previous = torch.hub.get_dir()
    yield tmp_path / "weights" / "checkpoints"
    torch.hub.set_dir(previous)


def _hashed(state: dict, where: Path, stem: str) -> Path:
    """``state`` saved as ``<stem>-<its sha256 prefix>.pth``, torch.hub's naming convention."""
    raw = where / "raw.pth"
    torch.save(state, raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    return raw.rename(where / f"{stem}-{digest[:8]}.pth")


def _stored(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.pth")) if folder.is_dir() else []


def test_an_imported_file_is_listed_and_used_by_the_next_training(folder, tmp_path, tiny_imagenet):
    torch.manual_seed(0)
    file = _hashed(tvm.mobilenet_v3_small().state_dict(), tmp_path, "my_mnv3s")
    result = last_json(run_cli("weights", "import", str(file), "--arch", "mobilenet_v3_small", "--json",
                               workspace=tmp_path / "ws"))  # fmt: skip
    [stored] = result["imported"]
    assert stored["file"] == "mobilenet_v3_small-047dcff4.pth" and stored["checked"] == "SHA-256 prefix of its name"
    assert _stored(folder) == ["mobilenet_v3_small-047dcff4.pth"]
    listed = {r["arch"]: r for r in engine.list_weights()}
    assert listed["mobilenet_v3_small"]["present"] and listed["mobilenet_v3_small"]["sha256"] == stored["sha256"]
    assert listed["mobilenet_v3_small"]["source"] == str(file.resolve())
    assert not listed["resnet18"]["present"]

    ws = tmp_path / "ws"
    dataset = engine.import_dataset(str(tiny_imagenet), workspace=ws)["dataset"]
    run = engine.train(dataset, model="mobilenet_v3_small", epochs=1, max_steps=1, img_size=32, workspace=ws)
    shown = engine.show_run(run["run"], workspace=ws)["metrics"]
    assert shown["pretrained"] and shown["weights_sha256"] == stored["sha256"]
    assert shown["weights_file"].endswith("mobilenet_v3_small-047dcff4.pth")


def test_backbone_only_weights_are_completed_and_used_by_a_detector(folder, tmp_path):
    backbone = {k: v for k, v in tvm.resnet18().state_dict().items() if not k.startswith("fc.")}
    file = tmp_path / "resnet18_backbone.pt"
    torch.save(backbone, file)
    engine.import_weights(str(file), arch="retinanet_resnet18_fpn")
    assert _stored(folder) == ["resnet18-f37072fd.pth"]
    model, status = engine.get_task("detection").build_model("retinanet_resnet18_fpn", 3, pretrained=True)
    assert status.pretrained and status.sha256
    torch.testing.assert_close(model.backbone.body.layer1[0].conv1.weight, backbone["layer1.0.conv1.weight"])


def _pickle_payload(path: Path) -> Path:
    class Payload:
        def __reduce__(self):
            return (shutil.rmtree, ("/nonexistent-studio-test",))

    path.write_bytes(pickle.dumps({"weight": Payload()}))
    return path


def _renamed(name: str):
    def make(good: Path) -> Path:
        return good.rename(good.with_name(name))

    return make


@pytest.mark.parametrize(
    ("make", "arch", "expect"),
    [
        (_renamed("mobilenet_v3_small-deadbeef.pth"), "mobilenet_v3_small", "SHA-256 check failed"),
        (None, "resnet18", "keys or shapes do not match"),  # MobileNetV3 weights offered as ResNet-18's
        (lambda t: _pickle_payload(t.with_name("payload.pth")), "mobilenet_v3_small", "cannot be loaded as plain"),
        ("truncate", "mobilenet_v3_small", "cannot be loaded as plain weights"),
        (_renamed("whatever.pth"), None, "give --arch"),
    ],
    ids=["wrong-hash", "wrong-architecture", "pickle-payload", "truncated", "unknown-name"],
)
def test_a_bad_file_is_one_line_exit_2_and_nothing_is_stored(folder, tmp_path, make, arch, expect):
    good = tmp_path / "good.pth"
    torch.save(tvm.mobilenet_v3_small().state_dict(), good)
    if make == "truncate":
        good.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        offered = good
    else:
        offered = good if make is None else make(good)
    args = ["weights", "import", str(offered), *(["--arch", arch] if arch else [])]
    proc = run_cli(*args, workspace=tmp_path / "ws", check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and expect in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and _stored(folder) == []
    assert Path("/nonexistent-studio-test").exists() is False


def test_fetch_without_a_network_is_one_line_within_seconds(tmp_path):
    """A real process in a network namespace with no network at all (``unshare -n``)."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "-n", "true"], check=False).returncode:
        pytest.skip("unshare -n is not permitted here")
    env = {"STUDIO_WEIGHTS_DIR": str(tmp_path / "weights"), "PATH": "/usr/bin:/bin"}
    began = time.monotonic()
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "engine", "weights", "fetch", "resnet18"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    took = time.monotonic() - began
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "looks offline" in lines[0] and "weights import resnet18-f37072fd.pth" in lines[0]
    assert took < 60  # the process's imports plus a refused connection; never a long network timeout
    assert not (tmp_path / "weights" / "checkpoints" / "resnet18-f37072fd.pth").exists()
