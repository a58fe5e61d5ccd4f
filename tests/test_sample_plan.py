"""What the sample project trains on the CPU at hand: the INT8-friendly architecture where INT8 pays off for it on a
CPU of this tier (the zoo table, or this CPU's own measurement), else the task's default, with the reason recorded."""

from __future__ import annotations

import pytest

from engine.benchmark import machine
from engine.models import zoo
from engine.pipeline.context import Context
from engine.pipeline.demo import sample_plan, sample_plans
from engine.training.config import TrainConfig

VNNI = ["avx2", "avx512f", "avx512_vnni", "avx512_bf16"]


def _table(isa: list[str], gain: float) -> dict:
    return {
        "machine": {"cpu_model": "EPYC", "isa": isa},
        "rows": [{"task": "classification", "arch": "resnet18", "int8_vs_fp32_default": gain, "size": 224}],
    }


@pytest.fixture
def ctx(tmp_path):
    return Context.open(tmp_path / "ws")


def _plan(monkeypatch, ctx, here: list[str], tables: list[dict]) -> dict:
    monkeypatch.setattr(machine, "isa", lambda: here)
    monkeypatch.setattr(zoo, "tables", lambda: tables)
    return sample_plan(ctx, "classification")


def test_a_cpu_where_int8_pays_off_trains_the_int8_friendly_architecture(monkeypatch, ctx):
    plan = _plan(monkeypatch, ctx, VNNI, [_table(VNNI, 1.81)])
    assert plan["settings"] == {"model": "resnet18", "epochs": 5}
    assert plan["why"] == "resnet18, which INT8 speeds up 1.81x over its FP32 IR at 224 px (on a CPU like this one)"
    assert plan["project"].startswith("ResNet-18")
    assert plan["chosen"] == {"model": plan["why"], "epochs": "the sample project's setting for resnet18"}


def test_where_int8_barely_pays_the_default_trains_and_the_reason_says_so(monkeypatch, ctx):
    plan = _plan(monkeypatch, ctx, ["avx2"], [_table(VNNI, 1.81), _table(["avx2"], 1.25)])
    assert plan["settings"] == {} and plan["project"].startswith("MobileNetV3-Small")
    assert plan["why"] == (
        "mobilenet_v3_small, the classification default and the fastest in float"
        " (resnet18 gains only 1.25x from INT8 at 224 px, on a CPU like this one)"
    )


def test_a_tier_never_measured_is_not_claimed(monkeypatch, ctx):
    amx = [*VNNI, "amx_int8"]
    plan = _plan(monkeypatch, ctx, amx, [_table(VNNI, 1.81)])  # a VNNI table says nothing about an AMX CPU
    assert plan["settings"] == {} and "not measured on a CPU like this one" in plan["why"]


def test_this_cpus_own_measurement_wins_over_the_table(monkeypatch, ctx):
    from engine.pipeline import int8_gains

    here = [{"task": "classification", "arch": "resnet18", "int8_vs_fp32_default": 2.21, "size": 64}]
    monkeypatch.setattr(int8_gains, "measured_here", lambda _ctx: here)
    plan = _plan(monkeypatch, ctx, ["avx2"], [_table(["avx2"], 1.25)])
    assert plan["settings"]["model"] == "resnet18" and "2.21x" in plan["why"] and "measured on this CPU" in plan["why"]


def test_tasks_without_an_int8_recipe_train_their_default(monkeypatch, ctx):
    monkeypatch.setattr(machine, "isa", lambda: VNNI)
    plan = sample_plan(ctx, "detection")
    assert sample_plans(ctx)["detection"] == plan  # Home's call, every task at once, gives the same answers
    why = "ssdlite320_mobilenet_v3_large, the detection default"
    assert plan == {"settings": {}, "why": why, "project": "SSDLite320, ~6 min", "chosen": {"model": why}}


def test_the_reason_a_caller_gives_is_recorded_in_the_run_config():
    config = TrainConfig(model="resnet18", chosen={"model": "resnet18, which INT8 speeds up"}).resolved()
    assert config.chosen["model"] == "resnet18, which INT8 speeds up"
    assert config.chosen["epochs"] == "the classification default"  # the defaults taken keep their own reasons
