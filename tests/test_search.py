"""The search verb: candidates trained, optimized and timed beside the reference; a front, a pick, a resume."""

from __future__ import annotations

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.pipeline.searching import pareto_front
from tests.conftest import ROOT, run_cli, wait_for

pytestmark = pytest.mark.slow


def _state(workspace, search_id=1) -> dict:
    path = workspace / "searches" / f"{search_id}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def test_search_finds_a_pick_above_the_floor_and_resumes_without_redoing(tiny_imagenet, workspace):
    dataset = engine.import_dataset(tiny_imagenet)["dataset"]
    kwargs = {"dataset": dataset, "budget_minutes": 0.1, "archs": ["mobilenet_v3_small"], "sizes": [32]}
    kwargs["max_drop"] = 0.5  # the 4-class toy data barely learns in one epoch: the test is about the mechanics
    job = engine.submit_job("search", kwargs, title="search")
    deadline = time.monotonic() + 300
    while _state(workspace).get("candidates", [{}])[0].get("status") != "done":
        assert time.monotonic() < deadline, _state(workspace)
        assert engine.list_jobs()[-1]["status"] in ("starting", "running"), engine.list_jobs()[-1]
        time.sleep(0.3)
    engine.cancel_job(job["id"])
    assert wait_for(job["id"], ("cancelled", "failed", "completed"))["status"] == "cancelled"
    cancelled = _state(workspace)
    assert cancelled["status"] == "cancelled"
    reference = cancelled["candidates"][0]
    assert reference["status"] == "done" and cancelled["candidates"][1]["status"] != "done"

    resumed = engine.submit_job("search", {"resume": 1}, title="resume")
    assert wait_for(resumed["id"], ("completed", "failed", "cancelled"), timeout=300)["status"] == "completed"
    result = engine.show_search(1)
    assert result["status"] == "completed"
    first, second = result["candidates"]
    assert first == reference  # not redone: same run, same points, same time
    assert second["status"] == "done" and second["img_size"] == 32 and second["run"] != first["run"]
    assert engine.show_run(second["run"])["status"] in ("completed", "early_stopped")

    points = result["points"]
    assert {p["variant"] for p in points} == {"fp32", "int8", "int8-qat", "pruned", "pruned-int8"}
    assert len(points) == 10 and all(p["latency_ms"] > 0 and p["speedup"] > 0 for p in points)
    front = [p for p in points if f"{p['candidate']}/{p['variant']}" in result["front"]]
    assert front == pareto_front(points)
    for p in front:  # non-dominated: nothing is at least as fast and strictly more accurate, or vice versa
        for q in points:
            faster = q["latency_on_reference_scale_ms"] < p["latency_on_reference_scale_ms"]
            assert not (faster and q["metric"] >= p["metric"]) or q is p
    assert result["floor"] == pytest.approx(result["reference"]["metric"] - 0.5)
    pick = result["pick"]
    assert pick is not None and pick["metric"] >= result["floor"]
    assert pick["speedup"] == max(p["speedup"] for p in points if p["keeps_accuracy"])

    cli = run_cli("searches", "show", "1", workspace=workspace).stdout
    assert f"pick: {pick['candidate']} {pick['variant']} (run {pick['run']})" in cli

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)  # the page renders the finished search
    at.switch_page("app_pages/search.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("vega_lite_chart")) == 1  # the Pareto chart
    assert any(f"Pick: {pick['candidate']} · {pick['variant']}" in m.value for m in at.success)
    make_active = next(b for b in at.button if b.label == f"Make run {pick['run']} the active run")
    make_active.click().run()
    assert at.session_state["run"] == pick["run"]  # the app took the pick as its active run


def test_search_refuses_bad_settings(tiny_imagenet, workspace):
    dataset = engine.import_dataset(tiny_imagenet)["dataset"]
    bad = {
        "budget_minutes": (0, "--budget-minutes must be positive, got 0"),
        "archs": (["vgg"], "unknown classification model 'vgg'; valid: mobilenet_v3_small"),
        "variants": (["fp16"], "unknown search variant 'fp16'; valid: int8, int8-qat, pruned-int8"),
        "max_drop": (5, "--max-drop is a fraction of the metric"),
        "device": ("TPU", "device 'TPU' is not available here"),
    }
    for name, (value, message) in bad.items():
        with pytest.raises(engine.StudioError, match=message.replace("(", r"\(")):
            engine.search(dataset, **{name: value})
    with pytest.raises(engine.StudioError, match="no search 7; known searches: none"):
        engine.search(resume=7)
    proc = run_cli("search", "--dataset", str(dataset), "--budget-minutes", "-1", workspace=workspace, check=False)
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --budget-minutes must be positive, got -1"
    assert not (workspace / "searches").exists() or not list((workspace / "searches").glob("*.json"))
