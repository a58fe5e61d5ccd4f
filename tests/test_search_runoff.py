"""The search's runoff: its fastest accuracy-keeping points timed again together, and the pick made from that."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.benchmark import interleaved
from engine.pipeline import search_runoff, searching
from engine.pipeline.search_grid import Candidate
from engine.pipeline.search_ranking import runoff_summary, summary
from engine.plain_text import render
from engine.results import SearchResult


class FakeContext:
    """What the runoff reads of a workspace: a run and the path of its variant's IR."""

    def run(self, run_id: int) -> dict:
        return {"id": run_id}

    def variant_path(self, run: dict, name: str) -> Path:
        return Path(f"/runs/{run['id']}/{name}.xml")


def _point(candidate: Candidate, variant: str, metric: float, speedup: float) -> dict:
    return {"candidate": candidate.key, "arch": candidate.arch, "img_size": candidate.img_size, "run": candidate.run,
            "variant": variant, "metric": metric, "latency_ms": 0.3 / speedup, "reference_ms": 0.3,
            "speedup": speedup, "inference_precision": "bf16", "size_bytes": 1, "macs_ratio": None}  # fmt: skip


def _search() -> tuple[dict, list[Candidate]]:
    """The reference at 94.5 %; ResNet-18 at 64 px timed 1.81x right after it trained, at 48 px 1.61x; a 1.2x
    point far behind; one fast point below the floor."""
    reference, big, small = Candidate("mobilenet_v3_small", 64, run=1), Candidate("resnet18", 64, run=2), \
        Candidate("resnet18", 48, run=3)  # fmt: skip
    reference.points = [_point(reference, "fp32", 0.945, 1.0), _point(reference, "int8", 0.945, 1.04)]
    big.points = [_point(big, "fp32", 0.98, 0.5), _point(big, "pruned-int8", 0.98, 1.81)]
    small.points = [_point(small, "pruned-int8", 0.985, 1.61), _point(small, "int8", 0.70, 3.0)]
    candidates = [reference, big, small]
    state = {"search": 1, "device": "CPU", "max_drop": 0.005}
    state.update(summary(state, candidates))
    return state, candidates


def test_the_contenders_are_the_fastest_points_that_keep_the_accuracy_and_the_default_architectures_best():
    state, _ = _search()
    chosen = search_runoff.contenders(state["points"], "mobilenet_v3_small")
    keys = [search_runoff.point_key(p) for p in chosen]
    # 1.61x is within the 1.2 margin of 1.81x; 3.0x is below the floor; 0.5x is far behind; the default's best last
    assert keys == ["resnet18@64/pruned-int8", "resnet18@48/pruned-int8", "mobilenet_v3_small@64/int8"]
    many = [{**state["points"][2], "candidate": f"c{i}", "speedup": 1.8 - i / 100} for i in range(6)]
    assert len(search_runoff.contenders(many, "resnet18")) == search_runoff.CONTENDERS
    assert search_runoff.requests([{"latency_ms": 0.2}]) == 300
    assert search_runoff.requests([{"latency_ms": 30.0}, {"latency_ms": 0.2}]) == 30


def test_the_runoff_decides_the_pick_when_its_own_timings_disagree(monkeypatch):
    """Timed minutes apart, 64 px looked faster; timed together, 48 px is: the pick follows the runoff."""
    state, candidates = _search()
    assert state["pick"]["candidate"] == "resnet18@64"
    asked = {}

    def together(models, device, *, rounds, iterations):
        asked.update(models=models, rounds=rounds, iterations=iterations)
        ms = {"reference": 0.29, "resnet18@64/pruned-int8": 0.22, "resnet18@48/pruned-int8": 0.18,
              "mobilenet_v3_small@64/int8": 0.30}  # fmt: skip
        return {key: {"median_ms": ms[key], "inference_precision": "bf16"} for key in models}

    monkeypatch.setattr(interleaved, "interleaved_latency_apart", together)
    searching._runoff(FakeContext(), state, candidates)
    assert asked["models"]["reference"] == Path("/runs/1/fp32.xml")  # the reference's own FP32 IR beside them
    assert asked["models"]["resnet18@48/pruned-int8"] == Path("/runs/3/pruned-int8.xml")
    assert "mobilenet_v3_small@64/fp32" not in asked["models"]  # the reference is 1.00x by definition
    assert asked["rounds"] == search_runoff.ROUNDS and asked["iterations"] == 300
    state.update(summary(state, candidates))
    pick = state["pick"]
    assert (pick["candidate"], pick["variant"]) == ("resnet18@48", "pruned-int8")
    assert pick["speedup"] == pytest.approx(0.29 / 0.18) and pick["first_speedup"] == pytest.approx(1.61)
    assert state["default_arch_best"]["speedup"] == pytest.approx(1.0)  # its INT8 (0.97x) lost to the FP32 IR
    assert pick["speedup_vs_default_arch"] == pytest.approx(0.29 / 0.18)
    assert state["runoff"]["points"] == [
        "resnet18@64/pruned-int8", "resnet18@48/pruned-int8", "mobilenet_v3_small@64/int8"
    ]  # fmt: skip
    sentence = runoff_summary(state)
    assert "resnet18@64 pruned-int8 1.81x → 1.32x" in sentence and "resnet18@48 pruned-int8 1.61x → 1.61x" in sentence
    shown = {**state, "status": "completed", "dataset": 1, "task": "classification", "metric_name": "top-1",
             "budget_minutes": 20.0, "candidates": []}  # fmt: skip
    shown = render(shown, SearchResult)
    assert sentence in shown and "pick: resnet18@48 pruned-int8 (run 3)" in shown


def test_a_runoff_that_fails_leaves_the_pick_on_the_candidates_own_timings(monkeypatch):
    state, candidates = _search()

    def broken(*args, **kwargs):
        raise RuntimeError("no device\nsecond line")

    monkeypatch.setattr(interleaved, "interleaved_latency_apart", broken)
    searching._runoff(FakeContext(), state, candidates)
    assert state["runoff_error"] == "RuntimeError: no device" and "runoff" not in state
    state.update(summary(state, candidates))
    assert state["pick"]["candidate"] == "resnet18@64"
    assert runoff_summary(state).startswith("The contenders could not be timed again (RuntimeError: no device)")
