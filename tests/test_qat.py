"""Quantization-aware training (``int8-qat``): a real INT8 IR that agrees with FP32, and a job that resumes."""

from __future__ import annotations

import json
import shutil
import time

import openvino as ov
import pytest
import torch

import engine
from engine.training import checkpoint
from tests.conftest import wait_for

pytestmark = pytest.mark.e2e


def _events(run_dir):
    path = run_dir / "qat" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def test_qat_ir_stores_int8_weights_and_agrees_with_fp32(prepared):
    p = prepared("classification")
    variants = p["optimize"]["variants"]
    qat, fp32 = variants["int8-qat"], variants["fp32"]
    model = ov.Core().read_model(p["xml"]["int8-qat"])
    constants = [op for op in model.get_ops() if op.get_type_name() == "Constant"]
    constant_types = {op.get_element_type().get_type_name() for op in constants}
    assert "i8" in constant_types, constant_types  # real int8 weights, not float ones behind FakeQuantize
    assert qat["size_bytes"] < 0.7 * fp32["size_bytes"]
    # QAT fine-tunes the weights: a model of its own, which keeps the accuracy but re-decides some of the images the
    # FP32 model was unsure of (87.5 % agreement on this AVX2 EPYC in two runs, one with a pinned thread, at the
    # FP32 model's 82.5 % top-1); QAT whose quantizers are wrong agrees with FP32 near chance (25 %)
    assert qat["agreement"]["fp32"] >= 0.85
    assert qat["top1"] >= fp32["top1"] - 0.05
    facts = qat["qat"]
    assert facts["epochs"] == 2 and 0 <= facts["best_epoch"] <= 2
    assert [h["epoch"] for h in facts["history"]] == [0, 1, 2]  # epoch 0: calibrated, before fine-tuning
    types = [e["type"] for e in _events(p["ws"] / "runs" / str(p["train"]["run"]))]
    assert types == ["start", "epoch", "epoch", "end"]


def test_qat_job_cancelled_mid_way_resumes_from_its_saved_epoch(prepared, workspace):
    p = prepared("classification")
    shutil.copytree(p["ws"], workspace)
    run = p["train"]["run"]
    run_dir = workspace / "runs" / str(run)
    shutil.rmtree(run_dir / "qat")
    kwargs = {"run": run, "variants": ["int8-qat"], "calib_size": 32, "qat_epochs": 3}

    job = engine.submit_job("optimize", kwargs, title="qat")
    deadline = time.monotonic() + 300
    while not any(e["type"] == "epoch" for e in _events(run_dir)):
        assert time.monotonic() < deadline, "QAT never finished an epoch"
        assert engine.list_jobs()[-1]["status"] in ("starting", "running"), engine.list_jobs()[-1]
        time.sleep(0.2)
    engine.cancel_job(job["id"])
    cancelled = wait_for(job["id"], ("cancelled", "failed", "completed"))
    assert cancelled["status"] == "cancelled", cancelled["error"]
    saved = checkpoint.load(run_dir / "qat" / "last.pt", _allowed())
    epoch = saved["epoch"]
    assert 1 <= epoch < 3
    assert _events(run_dir)[-1]["type"] == "cancelled"

    again = engine.submit_job("optimize", kwargs, title="qat again")
    done = wait_for(again["id"], ("completed", "failed", "cancelled"), timeout=300)
    assert done["status"] == "completed", done["error"]
    events = _events(run_dir)
    resumed = [i for i, e in enumerate(events) if e["type"] == "resume"]
    assert len(resumed) == 1 and events[resumed[0]]["epoch"] == epoch
    after = [e["epoch"] for e in events[resumed[0] :] if e["type"] == "epoch"]
    assert after == list(range(epoch + 1, 4))  # nothing redone, nothing skipped
    assert [e["type"] for e in events].count("start") == 1
    row = next(r for r in engine.variant_table(run)["rows"] if r["variant"] == "int8-qat")
    assert row["metric"] > 0.5


def test_bad_qat_settings_are_refused(prepared, workspace):
    p = prepared("classification")
    with pytest.raises(engine.StudioError, match="--qat-epochs must be at least 1, got 0"):
        engine.optimize(p["train"]["run"], variants=["int8-qat"], qat_epochs=0, workspace=p["ws"])


def _allowed():
    from engine.compression.qat import CHECKPOINT_CLASSES

    return CHECKPOINT_CLASSES


def test_qat_checkpoint_loads_with_weights_only(tmp_path):
    """A QAT checkpoint holds NNCF's quantizer layout: it loads with ``weights_only=True`` and the allow-list."""
    import nncf
    import torchvision

    from engine.compression import qat

    network = torchvision.models.mobilenet_v3_small(num_classes=3).eval()
    x = torch.randn(4, 3, 32, 32)
    quantized = nncf.quantize(network, nncf.Dataset([x[i : i + 1] for i in range(4)]), subset_size=4)
    checkpoint.save(tmp_path / "q.pt", {"network": qat.state(quantized)})
    with pytest.raises(engine.StudioError, match="cannot read checkpoint"):
        checkpoint.load(tmp_path / "q.pt")  # not on the allow-list: refused, not unpickled
    loaded = checkpoint.load(tmp_path / "q.pt", qat.CHECKPOINT_CLASSES)
    fresh = qat.restore(torchvision.models.mobilenet_v3_small(num_classes=3), loaded["network"])
    with torch.no_grad():
        assert torch.allclose(fresh.eval()(x), quantized.eval()(x), atol=1e-5)


def test_an_nncf_extension_that_does_not_load_in_time_fails_qat_alone(tiny_imagenet, tmp_path, monkeypatch):
    """NNCF compiles its C++ extension on first use; when that does not finish in time (a busy machine, a stale
    lock) the QAT variant fails with one line saying what to do, and the other variants are built."""
    from nncf.torch.quantization import extensions

    def stuck(cls):
        time.sleep(5)  # a compile that would not finish in time

    monkeypatch.setenv("NNCF_EXTENSION_LOAD_TIMEOUT", "1")
    monkeypatch.setattr(extensions.QuantizedFunctionsCPU, "_loaded_namespace", None)
    monkeypatch.setattr(extensions.QuantizedFunctionsCPULoader, "load", classmethod(stuck))
    ws = tmp_path / "ws"
    dataset = engine.import_dataset(str(tiny_imagenet), workspace=ws)["dataset"]
    run = engine.train(dataset, epochs=1, max_steps=2, img_size=32, workspace=ws)["run"]
    result = engine.optimize(run, variants=["fp32", "int8", "int8-qat"], calib_size=8, workspace=ws)
    assert set(result["variants"]) == {"torch-fp32", "fp32", "int8"}
    why = result["failed"]["int8-qat"]
    assert why.startswith("NNCF's C++ extension for QAT did not compile within 1 s") and "\n" not in why
    assert "python -m engine.compression.nncf_extension" in why
    assert engine.list_jobs(workspace=ws) == []  # nothing left running
