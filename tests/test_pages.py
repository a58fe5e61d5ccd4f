"""Every page against the session's prepared workspaces (streamlit.testing AppTest), for every task."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

import engine
from tests.conftest import PIPELINES, ROOT, wait_for
from ui import format as fmt

pytestmark = pytest.mark.e2e
TASKS = list(PIPELINES)
ACTIVE: dict = {}  # the run the sidebar starts on (set by the ``on`` fixture)


@pytest.fixture
def on(prepared, monkeypatch):
    """Point the app at a task's prepared workspace."""

    def use(task: str) -> dict:
        pipeline = prepared(task)
        monkeypatch.setenv("STUDIO_WORKSPACE", str(pipeline["ws"]))
        ACTIVE["run"] = pipeline["train"]["run"]  # the Train page test adds runs: keep the prepared one active
        return pipeline

    yield use
    ACTIVE.clear()
    for job in engine.list_jobs(active_only=True):
        engine.cancel_job(job["id"])


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if "run" in ACTIVE:
        at.session_state["run"] = ACTIVE["run"]
    if name != "home":  # home is the default page; switching runs a page without the app's sidebar
        at.switch_page(f"app_pages/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _labelled(widgets, label: str):
    """The one widget of a kind with this label (a page that reorders its inputs keeps its tests)."""
    found = [w for w in widgets if w.label == label]
    assert len(found) == 1, (label, [w.label for w in widgets])
    return found[0]


def test_home_shows_the_pipeline(on):
    pipeline = on("classification")
    at = _page("home")
    text = " ".join(m.value for m in at.markdown)
    for step in ("Data", "Train", "Optimize", "Benchmark", "Compare", "Deploy"):
        assert f"**{step}**" in text
    assert any(b.label == "Load sample project" for b in at.button)
    assert at.sidebar.selectbox[0].value == pipeline["train"]["run"]
    assert "3 result(s)" in " ".join(c.value for c in at.caption)  # torch, int8 default, int8 f32


@pytest.mark.parametrize("task", TASKS)
def test_data_page_shows_statistics_and_draws_annotations(on, task):
    info = on(task)["dataset"]
    at = _page("data")
    splits = [str(info["splits"][s]["images"]) for s in ("train", "val", "test")]
    assert [m.value for m in at.metric][:4] == [*splits, str(len(info["labels"]))]
    # class distribution + image sizes, then the task's own (boxes per image + box sizes, or pixel shares)
    task_charts = engine.dataset_info(info["dataset"])["charts"]  # the task's own, as the page reads them
    assert len(task_charts) >= 1 or task == "classification"
    assert len(at.get("vega_lite_chart")) == 2 + len(task_charts)
    assert len(at.get("image")) == 12  # the gallery, each image with its label, boxes or mask drawn
    assert any("No problems" in s.value for s in at.success)


@pytest.mark.parametrize("task", TASKS)
def test_train_page_defaults_and_starts_a_job(on, task):
    pipeline = on(task)
    at = _page("train")
    assert _labelled(at.selectbox, "Dataset").value == pipeline["dataset"]["dataset"]
    defaults = engine.training_defaults(task)
    assert _labelled(at.selectbox, "Architecture").value == defaults["model"]
    assert _labelled(at.number_input, "Image size (px)").value == defaults["img_size"]
    assert len(at.get("vega_lite_chart")) == 2  # loss + metric curves of the active run
    side = engine.get_task(task).side_metrics  # classification: balanced accuracy and macro F1 beside top-1
    assert {m.label for m in at.metric} >= {f"val {label}, best epoch" for label in side.values()}
    columns = list(engine.get_task(task).per_class_columns.values())  # recall / AP / IoU of each class on val
    table = next(d.value for d in at.dataframe if "class" in d.value.columns)
    assert list(table.columns) == ["class", *columns] and len(table) >= 2
    assert set(table["class"]) <= {*pipeline["dataset"]["labels"], "background"}
    assert all(v == fmt.cell(None) or v.endswith("%") for c in columns for v in table[c]), table
    before = len(engine.list_jobs())
    _labelled(at.number_input, "Epochs").set_value(1)
    _labelled(at.button, "Start training").click().run()
    jobs = engine.list_jobs()
    assert len(jobs) == before + 1 and jobs[-1]["verb"] == "train"
    assert jobs[-1]["kwargs"]["epochs"] == 1 and jobs[-1]["kwargs"]["model"] == defaults["model"]
    recipe = engine.training_defaults(task, pipeline["dataset"]["dataset"])  # auto balance: from the data's classes
    assert {k: jobs[-1]["kwargs"][k] for k in ("augment", "balance")} == {k: recipe[k] for k in ("augment", "balance")}
    augment = _labelled(at.selectbox, "Augmentation")
    assert augment.disabled == (len(engine.get_task(task).augments) == 1)  # one policy: nothing to choose
    engine.cancel_job(jobs[-1]["id"])
    wait_for(jobs[-1]["id"], ("cancelled", "failed", "completed"))


@pytest.mark.parametrize("task", TASKS)
def test_optimize_page_tabulates_what_optimize_stored(on, task):
    pipeline = on(task)
    at = _page("optimize")
    table = at.dataframe[0].value
    stored = pipeline["optimize"]["variants"]
    assert list(table["variant"]) == list(stored)
    for name, entry in stored.items():  # every cell as ui.format writes it: the stored value, formatted
        row = table[table["variant"] == name].iloc[0]
        assert row["size ratio vs FP32"] == fmt.cell(entry["size_ratio_vs_fp32"], "ratio")
        agreement = entry["agreement"].get("fp32")  # the PyTorch row is scored before the FP32 IR exists
        assert row["agreement with FP32"] == fmt.cell(agreement, "percent")
    assert float(table.loc[table["variant"] == "int8", "size ratio vs FP32"].item().rstrip("x")) > 1.4
    offered = at.multiselect[0].options
    assert {"int8-qat", "pruned", "pruned-int8"} <= {o.split(" — ")[0] for o in offered}
    assert any("nncf.prune" in c.value for c in at.caption)  # why unstructured sparsity is not offered
    # every variant option its module declares has its input, found by key, at its declared default
    for form in engine.variant_options():
        for option in form["options"]:
            kind = at.selectbox if option["choices"] else at.number_input
            shown = kind(key=f"variant-option-{option['parameter']}").value
            assert shown == (option["default"] if option["default"] is not None else 0.0), option["parameter"]


def test_benchmark_page_draws_results(on):
    on("classification")
    at = _page("benchmark")
    assert len(at.get("vega_lite_chart")) >= 3  # latency box plot, throughput, accuracy-vs-latency
    main, table = at.dataframe[0].value, at.dataframe[1].value  # the results, then "All statistics"
    labels = main["variant · device · precision ran"]
    assert labels.is_unique and len(main) == len(table)  # one distinct label per configuration
    assert {"default", "f32"} <= set(table["precision asked"])
    assert "f32" in set(table["precision ran"])
    assert at.get("download_button")
    verdict = engine.benchmark_verdict(engine.benchmark_table(on("classification")["train"]["run"]))
    assert [m.value for m in (*at.success, *at.warning) if m.value == verdict]  # the verdict, as the engine says it
    assert "speed-up vs FP32" in table and "keeps accuracy" in table


@pytest.mark.parametrize("task", TASKS)
def test_compare_page_shows_both_models_and_ranks_disagreements(on, task):
    pipeline = on(task)
    at = _page("compare")
    latencies = [m for m in at.metric if m.label == "This image (single sample)"]
    assert len([m for m in at.metric if m.label == "Benchmarked median"]) == 2
    assert len(latencies) == 2 and all(m.value.endswith(" ms") for m in latencies)
    assert len(at.get("image")) == 2
    # visiting starts nothing; the button starts the ranking as a background job, shown once it is done
    before = [j["id"] for j in engine.list_jobs() if j["verb"] in ("compare", "saliency")]
    at = _page("compare")
    assert [j["id"] for j in engine.list_jobs() if j["verb"] in ("compare", "saliency")] == before
    next(b for b in at.button if b.label == "Find where they disagree").click().run()
    job = next(j for j in reversed(engine.list_jobs()) if j["verb"] == "compare")
    assert job["kwargs"] == {"run": pipeline["train"]["run"], "a": "torch-fp32", "b": "int8"}
    finished = wait_for(job["id"], ("completed", "failed"))
    assert finished["status"] == "completed"
    at = _page("compare")
    ranking = next(f.value for f in at.dataframe if "test image" in f.value)  # after the per-class table
    assert list(ranking["test image"]) == [str(r["index"]) for r in finished["result"]["rows"]]  # = the slider
    assert len(ranking) == pipeline["dataset"]["splits"]["test"]["images"] and "disagreement" in ranking
    # saliency, too, is a job started by its button (the page never blocks on it)
    next(b for b in at.button if b.label == "Explain this image").click().run()
    job = next(j for j in reversed(engine.list_jobs()) if j["verb"] == "saliency")
    assert job["kwargs"]["run"] == pipeline["train"]["run"] and job["kwargs"]["masks"] == 300
    assert job["kwargs"]["image"].endswith((".png", ".jpg")) and "saliency" in job["kwargs"]["save"]


def test_deploy_and_runs_pages(on):
    pipeline = on("classification")
    at = _page("deploy")
    assert at.get("download_button") and any("predict" in c.value for c in at.code)
    name = f"{engine.show_run(pipeline['train']['run'])['model']}-int8"
    model_dir = engine.workspace_root() / "ovms" / name
    before = len(list(model_dir.glob("[0-9]*")))
    next(b for b in at.button if b.label == "Add as a new version").click().run()
    assert at.success and f"version {before + 1} of {name}" in at.success[0].value, [e.value for e in at.error]
    assert (model_dir / str(before + 1) / "model.xml").is_file()
    at = _page("runs")
    runs = at.dataframe[0].value
    run = str(pipeline["train"]["run"])
    assert run in list(runs["run"])
    assert runs.loc[runs["run"] == run, "status"].item() == pipeline["train"]["status"]
    assert pipeline["train"]["status"] in ("completed", "early_stopped")
    assert not at.get("json")  # details as tables and a chart, not a raw JSON tree
    assert [b for b in at.button if b.key == "report_go"]  # the report card (the verb: test_report_card.py)


RAW = re.compile(r"^(None|nan|NaN|<NA>|NaT)$|\d\.\d{5,}|\de[+-]\d")  # a raw value where a formatted one belongs


@pytest.mark.parametrize("task", TASKS)
def test_no_page_shows_a_raw_value(on, task):
    """Every table on every page, and every line of text, is formatted: no None, nan, e-notation or a float's
    16 digits (the Runs jobs table showed None, Compare's disagreement table 497.3508)."""
    on(task)
    pages = ["home", "data", "train", "optimize", "benchmark", "search", "compare", "live", "deploy", "runs"]
    for name in pages:
        at = _page(name)
        for frame in at.dataframe:
            table = frame.value
            for column in table.columns:
                for value in table[column]:
                    assert isinstance(value, str), (name, column, value)  # formatted by ui.format.frame
                    assert not RAW.search(value), (name, column, value)
        texts = [*(m.value for m in at.markdown), *(c.value for c in at.caption), *(m.value for m in at.metric)]
        for text in texts:
            assert not re.search(r"\bNone\b|\bnan\b", str(text)), (name, text)
