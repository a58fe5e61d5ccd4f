"""Quantization sensitivity on a real trained model: NNCF's quantizer groups, each reverted alone and scored on
val; the suggested ignored scope re-quantized as int8-custom (fewer FakeQuantize, val metric not below int8's)."""

from __future__ import annotations

import itertools
import json
import shutil

import openvino as ov
import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.pipeline.optimizing import read_scope
from engine.pipeline.sensitivity import suggest
from tests.conftest import ROOT, last_json, run_cli

pytestmark = pytest.mark.e2e


def _fake_quantize(xml) -> int:
    return sum(op.get_type_name() == "FakeQuantize" for op in ov.Core().read_model(xml).get_ops())


@pytest.fixture(scope="module")
def analysed(prepared, tmp_path_factory):
    """A copy of the classification pipeline (the shared one keeps its variants) with a sensitivity analysis
    aiming at no drop at all, and int8 + int8-custom built from the scope it suggested."""
    pipeline = prepared("classification")
    ws = tmp_path_factory.mktemp("sensitivity") / "ws"
    shutil.copytree(pipeline["ws"], ws)
    run = str(pipeline["train"]["run"])
    result = last_json(run_cli("sensitivity", run, "--calib-size", "64", "--max-drop", "0", "--json", workspace=ws))
    if not result["suggested"]["ignored_scope"]:  # on some CPUs INT8 already loses nothing on val: no scope to win
        pytest.skip(f"INT8 loses nothing on val on this CPU ({result['suggested']['why']}): no scope to test")
    # int8 is the pipeline's own (64 train images, seed 0: the subset sensitivity calibrated on)
    optimize = ("optimize", run, "--variants", "int8-custom", "--calib-size", "64", "--json")
    optimized = last_json(run_cli(*optimize, workspace=ws))
    val = {
        v: last_json(run_cli("evaluate", run, "--variant", v, "--split", "val", "--json", workspace=ws))["metrics"]
        for v in ("int8", "int8-custom")
    }
    return {"ws": ws, "run": int(run), "result": result, "optimized": optimized, "val": val}


def test_one_entry_per_quantizer_group_sorted_by_the_metric_it_recovers(analysed):
    result = analysed["result"]
    groups = result["groups"]
    assert len(groups) > 10 and sorted(g["group"] for g in groups) == list(range(len(groups)))
    # every FakeQuantize of the INT8 network belongs to exactly one group
    assert sum(g["quantizers"] for g in groups) == result["fake_quantize"]
    assert [g["metric"] for g in groups] == sorted((g["metric"] for g in groups), reverse=True)
    for g in groups:
        assert g["recovered_pp"] == pytest.approx(100 * (g["metric"] - result["int8"]))
        assert g["operations"] and len(g["types"]) == len(g["operations"])
    convolutions = {t for g in groups for t in g["types"]} & {"Convolution", "GroupConvolution", "MatMul"}
    assert convolutions, "the groups name the compute layers they make float"
    assert result["split"] == "val" and result["images"] == 80
    assert not result["calibration"]["warnings"]  # the sample's splits share no image


def test_the_suggested_scope_is_scored_on_the_path_and_recovers_accuracy(analysed):
    result = analysed["result"]
    assert result["int8"] < result["fp32"], "precondition: this pipeline's INT8 loses accuracy on val"
    suggested, path = result["suggested"], result["path"]
    assert suggested["ignored_scope"] and suggested["metric"] > result["int8"], suggested
    step = next(s for s in path if s["ignored_scope"] == suggested["ignored_scope"])
    assert step["metric"] == suggested["metric"] and step["groups"] >= 1
    # each step keeps one more group in float than the one before it
    assert [s["groups"] for s in path] == list(range(1, len(path) + 1))
    assert all(set(a["ignored_scope"]) < set(b["ignored_scope"]) for a, b in itertools.pairwise(path))
    if suggested["reached"]:  # --max-drop 0: the first step at FP32's metric, and the path stops there
        assert suggested["metric"] >= result["fp32"] and step is path[-1]
    else:  # which CPU's rounding the model meets decides whether 20 groups suffice: then the best one found
        assert suggested["metric"] == max(s["metric"] for s in path) < result["fp32"]
        assert "no scope" in suggested["why"]
    saved = json.loads((analysed["ws"] / "runs" / str(analysed["run"]) / "sensitivity.json").read_text())
    assert saved["suggested"] == suggested


def test_suggest_picks_the_shortest_scope_within_the_drop_else_the_best():
    path = [
        {"groups": 1, "metric": 0.90, "ignored_scope": ["a"]},
        {"groups": 2, "metric": 0.95, "ignored_scope": ["a", "b"]},
        {"groups": 3, "metric": 0.95, "ignored_scope": ["a", "b", "c"]},
    ]
    within = suggest(path, fp32=0.96, int8=0.85, max_drop=0.01)
    assert within["reached"] and within["ignored_scope"] == ["a", "b"]
    best = suggest(path, fp32=0.99, int8=0.85, max_drop=0.0)
    assert not best["reached"] and best["ignored_scope"] == ["a", "b"]  # the shorter of two equals
    assert "no scope" in best["why"]
    already = suggest(path, fp32=0.86, int8=0.85, max_drop=0.01)
    assert already["reached"] and already["ignored_scope"] == []
    nothing = suggest([], fp32=0.99, int8=0.85, max_drop=0.0)
    assert not nothing["reached"] and nothing["ignored_scope"] == [] and "int8-qat" in nothing["why"]


def test_int8_custom_keeps_the_scope_in_float_and_is_not_worse_than_int8_on_val(analysed):
    variants = analysed["optimized"]["variants"]
    custom = variants["int8-custom"]
    assert custom["ignored_scope"] == analysed["result"]["suggested"]["ignored_scope"]  # read from sensitivity.json
    run_dir = analysed["ws"] / "runs" / str(analysed["run"])
    fewer = _fake_quantize(run_dir / "variants" / "int8-custom" / "model.xml")
    assert fewer < _fake_quantize(run_dir / "variants" / "int8" / "model.xml")
    assert analysed["val"]["int8-custom"]["top1"] >= analysed["val"]["int8"]["top1"]
    # the suggestion was quantized with the scope on the same calibration subset: what int8-custom gets on val
    suggested = analysed["result"]["suggested"]
    assert analysed["val"]["int8-custom"]["top1"] == pytest.approx(suggested["metric"], abs=1e-6)
    assert fewer == suggested["fake_quantize"]
    assert custom["size_bytes"] < 0.7 * variants["torch-fp32"]["size_bytes"]  # still real int8 weights
    assert custom["agreement"]["fp32"] > 0.8  # against the stored FP32 IR (not rebuilt by this call)
    rows = engine.variant_table(analysed["run"], workspace=analysed["ws"])["rows"]
    row = next(r for r in rows if r["variant"] == "int8-custom")
    assert row["layers kept in float"] == len(custom["ignored_scope"]) and row["calibration"] == "64 train"


def test_an_unknown_layer_name_is_refused_in_one_line_and_keeps_the_variant(analysed):
    ws, run = analysed["ws"], str(analysed["run"])
    folder = ws / "runs" / run / "variants"
    before = {v: (folder / v / "model.xml").stat().st_mtime_ns for v in ("fp32", "int8", "int8-custom")}
    proc = run_cli("optimize", run, "--variants", "int8", "--ignored-scope", "no.such/layer", check=False, workspace=ws)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no.such/layer" in errors[0] and "sensitivity" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr and "building" not in proc.stderr  # refused before any work
    assert {v: (folder / v / "model.xml").stat().st_mtime_ns for v in before} == before
    engine.evaluate(int(run), variant="int8-custom", workspace=ws)  # its recorded hashes still hold


def test_ignored_scope_files(tmp_path):
    text = tmp_path / "scope.txt"
    text.write_text("# keep these in float\nConvolution.10\n\n__module.features.6/aten::add_/Add  # the residual\n")
    assert read_scope(str(text)) == ["Convolution.10", "__module.features.6/aten::add_/Add"]
    listed = tmp_path / "scope.json"
    listed.write_text(json.dumps(["a", "b"]))
    assert read_scope(str(listed)) == ["a", "b"]
    saved = tmp_path / "sensitivity.json"
    saved.write_text(json.dumps({"suggested": {"ignored_scope": ["c"]}}))
    assert read_scope(str(saved)) == ["c"]
    assert read_scope("x, y") == ["x", "y"] and read_scope(None) == [] and read_scope(["z"]) == ["z"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"suggested": {}}))
    with pytest.raises(engine.StudioError, match="expected a list of layer names"):
        read_scope(str(bad))


def test_int8_custom_without_a_scope_or_an_analysis_is_refused(prepared, workspace):
    pipeline = prepared("classification")
    shutil.copytree(pipeline["ws"], workspace, dirs_exist_ok=True)
    with pytest.raises(engine.StudioError, match="int8-custom needs the layers to keep in float"):
        engine.optimize(pipeline["train"]["run"], variants=["int8-custom"])


def test_the_optimize_page_shows_the_analysis_and_offers_the_re_quantization(analysed, monkeypatch):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(analysed["ws"]))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["run"] = analysed["run"]
    at.switch_page("app_pages/optimize.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = {m.label: m.value for m in at.metric}
    result = analysed["result"]
    assert labels["INT8 val top-1"] == f"{100 * result['int8']:.2f} %"
    scope = result["suggested"]["ignored_scope"]
    assert labels[f"Suggested scope ({len(scope)} layers)"] == f"{100 * result['suggested']['metric']:.2f} %"
    assert any(c.value == "\n".join(scope) for c in at.code)
    button = next(b for b in at.button if b.label.startswith("Re-quantize without these"))
    button.click().run()
    job = engine.list_jobs()[-1]
    assert job["verb"] == "optimize" and job["kwargs"]["ignored_scope"] == scope
    assert job["kwargs"]["variants"] == ["int8-custom"]
    engine.cancel_job(job["id"])
