"""Every page against a real workspace made by the engine on tiny data (streamlit.testing AppTest)."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

import engine
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prepared(tiny_imagenet, tmp_path_factory):
    ws = tmp_path_factory.mktemp("pages") / "ws"
    mp = pytest.MonkeyPatch()
    mp.setenv("STUDIO_WORKSPACE", str(ws))
    dataset = engine.import_dataset(tiny_imagenet)["dataset"]
    run = engine.train(dataset, epochs=1, img_size=32, batch_size=16)["run"]
    engine.optimize(run, variants="fp32,int8", calib_size=16)
    engine.benchmark(run, variants="torch-fp32,int8", iterations=5, precisions="default,f32")
    yield {"ws": ws, "dataset": dataset, "run": run}
    for job in engine.list_jobs(active_only=True):
        engine.cancel_job(job["id"])
    mp.undo()


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if name != "home":  # home is the default page; switching runs a page without the app's sidebar
        at.switch_page(f"app_pages/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_home_shows_the_pipeline(prepared):
    at = _page("home")
    text = " ".join(m.value for m in at.markdown)
    for step in ("Data", "Train", "Optimize", "Benchmark", "Compare", "Deploy"):
        assert f"**{step}**" in text
    assert any(b.label == "Load sample project" for b in at.button)
    assert at.sidebar.selectbox[0].value == prepared["run"]


def test_data_page_shows_statistics(prepared):
    at = _page("data")
    assert [m.value for m in at.metric][:3] == ["80", "24", "32"]
    assert len(at.get("vega_lite_chart")) == 2  # class distribution + image sizes
    assert len(at.get("image")) >= 1
    assert any("No problems" in s.value for s in at.success)


def test_train_page_starts_a_job(prepared):
    at = _page("train")
    assert at.selectbox[0].value == prepared["dataset"]
    assert len(at.get("vega_lite_chart")) == 2  # loss + metric curves of the active run
    before = len(engine.list_jobs())
    at.number_input[0].set_value(1)  # epochs
    at.button[0].click().run()
    jobs = engine.list_jobs()
    assert len(jobs) == before + 1 and jobs[-1]["verb"] == "train"
    assert jobs[-1]["kwargs"]["epochs"] == 1
    engine.cancel_job(jobs[-1]["id"])


def test_optimize_page_tabulates_variants(prepared):
    at = _page("optimize")
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["torch-fp32", "fp32", "int8"]
    assert table.loc[table["variant"] == "int8", "size ratio vs FP32"].item() > 1.5


def test_benchmark_page_draws_results(prepared):
    at = _page("benchmark")
    assert len(at.get("vega_lite_chart")) >= 3  # latency box plot, throughput, accuracy-vs-latency
    table = at.dataframe[0].value
    assert {"default", "f32"} <= set(table["precision asked"])
    assert "f32" in set(table["precision ran"])
    assert at.get("download_button")


def test_compare_page_shows_both_models(prepared):
    at = _page("compare")
    latencies = [m for m in at.metric if m.label.startswith("Latency")]
    assert len(latencies) == 2 and all(m.value.endswith(" ms") for m in latencies)
    assert len(at.get("image")) >= 1
    # the disagreement ranking runs as a background job; once it is done the page shows it
    job = next(j for j in engine.list_jobs() if j["verb"] == "compare")
    assert job["kwargs"] == {"run": prepared["run"], "a": "torch-fp32", "b": "int8"}
    deadline = time.time() + 120
    while time.time() < deadline:
        if next(j for j in engine.list_jobs() if j["id"] == job["id"])["status"] in ("completed", "failed"):
            break
        time.sleep(0.5)
    at = _page("compare")
    ranking = at.dataframe[0].value
    assert len(ranking) == 32 and "disagreement" in ranking


def test_deploy_and_runs_pages(prepared):
    at = _page("deploy")
    assert at.get("download_button") and any("predict" in c.value for c in at.code)
    at = _page("runs")
    assert list(at.dataframe[0].value["run"]) == [prepared["run"]]


@pytest.mark.parametrize("task", ["detection", "segmentation"])
def test_data_page_draws_annotations_of_other_tasks(task, tmp_path, monkeypatch):
    import importlib

    sample = importlib.import_module(f"engine.data.sample_{task}")
    sample.generate(tmp_path / "data", sample.SampleConfig(seed=2, splits=(("train", 12), ("val", 3), ("test", 3))))
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "ws"))
    engine.import_dataset(tmp_path / "data")
    at = _page("data")
    assert [m.value for m in at.metric][:4] == ["12", "3", "3", "3" if task == "detection" else "4"]
    # class distribution + image sizes, then boxes per image + box sizes, or pixel share per class
    assert len(at.get("vega_lite_chart")) == (4 if task == "detection" else 3)
    assert len(at.get("image")) == 12  # the gallery, each with its boxes or mask drawn
    at = _page("train")
    expected = {"detection": ("ssdlite320_mobilenet_v3_large", 192), "segmentation": ("lraspp_mobilenet_v3_large", 128)}
    assert at.selectbox[1].value == expected[task][0]
    assert at.number_input[2].value == expected[task][1]
