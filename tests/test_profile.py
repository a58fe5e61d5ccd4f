"""Per-layer profile of real IRs: INT8 kernels where NNCF quantized, float where it ignored the layer."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import engine
from tests.conftest import ROOT, last_json, run_cli, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def profiled(prepared):
    pipeline = prepared("classification")
    run = str(pipeline["train"]["run"])
    result = last_json(
        run_cli("profile", run, "--variants", "fp32,int8", "--iterations", "5", "--json", workspace=pipeline["ws"])
    )
    return pipeline, result


def _full(pipeline, variant: str) -> dict:
    run_dir = pipeline["ws"] / "runs" / str(pipeline["train"]["run"])
    return json.loads((run_dir / "profiles" / f"{variant}_CPU_default.json").read_text())


def test_int8_convolutions_run_int8_kernels_and_squeeze_excite_stays_float(profiled):
    pipeline, result = profiled
    full = _full(pipeline, "int8")
    convs = [layer for layer in full["layers"] if layer["type"] == "Convolution"]
    assert any(layer["precision"] == "i8" for layer in convs)
    assert 0 < full["int8_share"] <= 1 and result["profiles"]["int8"]["int8_share"] == full["int8_share"]
    ignored = {f["name"] for f in full["float_compute"]}
    assert ignored and all("squeeze-excite" in f["reason"] for f in full["float_compute"])  # MobileNetV3 PTQ
    for layer in full["layers"]:  # the SE convolutions NNCF left in float ran a float kernel
        if set(layer["covers"]) & ignored and layer["type"] == "Convolution":
            assert layer["precision"] in ("f32", "bf16", "f16"), layer
    assert full["quantized_ops"] > len(ignored)


def test_the_fp32_ir_runs_nothing_in_int8(profiled):
    pipeline, result = profiled
    full = _full(pipeline, "fp32")
    assert full["int8_share"] == 0 and not any(layer["precision"] == "i8" for layer in full["layers"])
    assert full["quantized_ops"] == 0
    assert sum(row["share"] for row in full["by_precision"]) == pytest.approx(1.0)
    assert {row["type"] for row in result["by_type"]} >= {"Convolution"}


def test_profile_view_on_the_benchmark_page(profiled, monkeypatch):
    pipeline, _ = profiled
    monkeypatch.setenv("STUDIO_WORKSPACE", str(pipeline["ws"]))
    job = engine.submit_job("profile", {"run": pipeline["train"]["run"], "variants": ["fp32", "int8"], "iterations": 3})
    assert wait_for(job["id"], ("completed", "failed"))["status"] == "completed"
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["run"] = pipeline["train"]["run"]
    at.switch_page("app_pages/benchmark.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [m.label for m in at.metric]
    assert any(label.startswith("int8") for label in labels) and any(label.startswith("fp32") for label in labels)
    assert any("in INT8 kernels" in str(m.delta) for m in at.metric)
