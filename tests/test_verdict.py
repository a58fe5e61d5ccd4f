"""Which variant counts as optimized: measured faster than the FP32 IR on that device, within the accuracy budget."""

from __future__ import annotations

from engine.pipeline.benchmarking import _rate
from engine.tasks import get_task
from engine.verdict import verdict


def _row(variant, median, asked="default", device="CPU", contended=False):
    return {"variant": variant, "device": device, "precision asked": asked, "precision ran": "bf16",
            "median ms": median, "contended": contended}  # fmt: skip


VARIANTS = {
    "torch-fp32": {"drop_vs_torch_pp": 0.0},
    "fp32": {"drop_vs_torch_pp": 0.0},
    "int8": {"drop_vs_torch_pp": 0.4},
    "pruned-int8": {"drop_vs_torch_pp": 2.0},  # fastest, but over the 0.5 pp budget
    "fp16": {"drop_vs_torch_pp": 0.0},
}


def test_the_fastest_variant_within_the_budget_is_picked():
    rows = [
        _row("fp32", 1.0),
        _row("fp16", 0.98),
        _row("int8", 0.5),
        _row("pruned-int8", 0.25),
        _row("int8", 0.4, "f32"),
    ]
    pick = _rate(rows, VARIANTS, get_task("classification"))
    assert pick == {"variant": "int8", "device": "CPU", "precision ran": "bf16", "median ms": 0.5,
                    "speed-up vs FP32": 2.0}  # fmt: skip
    flags = {(r["variant"], r["precision asked"]): (r["faster"], r["keeps accuracy"]) for r in rows}
    assert flags[("fp16", "default")] == (False, True)  # 1.02x is noise, not faster
    assert flags[("pruned-int8", "default")] == (True, False)
    assert rows[0]["speed-up vs FP32"] == 1.0


def test_nothing_is_optimized_when_nothing_is_faster_here():
    rows = [_row("fp32", 0.6), _row("int8", 0.62), _row("int8", 0.3, contended=True)]  # a contended run proves nothing
    assert _rate(rows, VARIANTS, get_task("classification")) is None
    line = verdict({"rows": rows, "pick": None, "metric_name": "top-1"})
    assert line.startswith("no variant is measurably faster than the FP32 IR") and "none counts as optimized" in line


def test_speed_ups_compare_within_one_device():
    rows = [_row("fp32", 1.0), _row("int8", 0.5, device="GPU")]  # no FP32 on the GPU: no ratio to claim
    assert _rate(rows, VARIANTS, get_task("classification")) is None and rows[1]["speed-up vs FP32"] is None


def test_the_pytorch_model_is_never_the_optimized_one():
    """An FP32 IR measured slow (a stale or disturbed run) made PyTorch eager 1.4x "faster": the original model was
    then called the optimized variant and Compare showed it against itself."""
    rows = [_row("torch-fp32", 225.0), _row("fp32", 315.0), _row("int8", 310.0)]
    assert _rate(rows, VARIANTS, get_task("classification")) is None
    assert rows[0]["speed-up vs FP32"] == 315.0 / 225.0 and rows[0]["faster"]  # the ratio is still shown
