"""What INT8 buys each architecture, measured on this CPU (``measure_int8``): real FP32 and INT8 IRs timed here,
kept per CPU in the workspace, and then preferred to the committed table by the Train page and the verdict."""

from __future__ import annotations

import json

import openvino as ov
import pytest
from streamlit.testing.v1 import AppTest

import engine
from engine.benchmark.machine import cpu_facts, isa
from engine.models import zoo
from engine.pipeline.int8_gains import FILE, cpu_key
from tests.conftest import ROOT, last_json, run_cli

pytestmark = pytest.mark.e2e  # converts, quantizes and times real networks
QUICK = {"size": 64, "rounds": 1, "seconds": 0.2}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    ws = tmp_path_factory.mktemp("int8") / "ws"
    first = engine.measure_int8("classification", archs=["mobilenet_v3_small"], workspace=ws, **QUICK)
    proc = run_cli("measure-int8", "--task", "classification", "--archs", "resnet18", "--size", "64", "--rounds",
                   "1", "--seconds", "0.2", "--json", workspace=ws)  # fmt: skip
    return {"ws": ws, "first": first, "second": last_json(proc), "text": proc.stdout}


def test_each_row_times_a_real_fp32_and_int8_ir_here(measured):
    row = measured["first"]["rows"][0]
    assert (row["task"], row["arch"], row["size"]) == ("classification", "mobilenet_v3_small", 64)
    fp32, int8 = row["latency_ms"]["fp32 (default hint)"], row["latency_ms"]["int8 (default hint)"]
    assert fp32 > 0 and int8 > 0 and row["int8_vs_fp32_default"] == pytest.approx(fp32 / int8)
    default = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()
    assert row["precision"]["fp32 (default hint)"] == default  # what ran, read from the compiled model
    assert row["int8_ir_bytes"] < 0.6 * row["fp32_ir_bytes"]  # int8 weights, really
    assert measured["first"]["machine"]["cpu_model"] == cpu_facts()["cpu_model"]
    assert "resnet18" in measured["text"] and "kept for this CPU in" in measured["text"]


def test_the_rows_are_kept_per_cpu_and_a_new_measurement_adds_to_them(measured):
    stored = json.loads((measured["ws"] / FILE).read_text())
    assert list(stored) == [cpu_key(cpu_facts())]
    rows = stored[cpu_key(cpu_facts())]["rows"]
    assert [r["arch"] for r in rows] == ["mobilenet_v3_small", "resnet18"]  # the CLI's run kept the first one
    assert measured["second"]["saved"] == str(measured["ws"] / FILE)


def test_the_train_page_and_the_verdict_speak_of_this_cpu(measured, tiny_imagenet, monkeypatch):
    ws = measured["ws"]
    defaults = engine.training_defaults("classification", workspace=ws)
    mine = measured["first"]["rows"][0]["int8_vs_fp32_default"]
    assert defaults["int8"]["mobilenet_v3_small"].endswith(f"{mine:.2f}x the FP32 IR at 64 px (measured on this CPU)")
    assert defaults["int8_short"]["mobilenet_v3_small"] == f"INT8 {mine:.1f}x at 64 px, here"
    assert not defaults["int8_short"]["resnet50"].endswith(", here")  # not measured here: the committed table's
    rows = json.loads((ws / FILE).read_text())[cpu_key(cpu_facts())]["rows"]
    why = zoo.explain("classification", "mobilenet_v3_small", isa(), rows)
    assert f"mobilenet_v3_small measured {mine:.2f}x in INT8 at 64 px on this CPU" in why

    monkeypatch.setenv("STUDIO_WORKSPACE", str(ws))
    started = []
    monkeypatch.setattr(engine, "submit_job", lambda verb, kwargs, title: started.append((verb, kwargs)) or {
        "id": 1, "backend": "local", "status": "running"
    })  # fmt: skip
    engine.import_dataset(str(tiny_imagenet), workspace=ws)  # the Train page needs a dataset to train on
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "architecture" in d.value.columns)
    shown = dict(zip(table["architecture"], table["INT8 IR vs FP32 IR, batch 1"], strict=True))
    assert shown["mobilenet_v3_small"] == defaults["int8"]["mobilenet_v3_small"]
    at.button(key="measure_int8").click().run()
    size = engine.training_defaults("classification", 1, workspace=ws)["img_size"]  # the dataset's input size
    assert started == [("measure_int8", {"task": "classification", "size": size})]


def test_settings_that_measure_nothing_are_refused_in_one_line(tmp_path):
    proc = run_cli("measure-int8", "--task", "classification", "--size", "8", check=False, workspace=tmp_path / "ws")
    assert proc.returncode == 2 and "--size must be 32-1024 px" in proc.stderr
    proc = run_cli("measure-int8", "--task", "detection", "--archs", "vgg99", check=False, workspace=tmp_path / "ws")
    assert proc.returncode == 2 and "vgg99" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ws" / FILE).exists()
