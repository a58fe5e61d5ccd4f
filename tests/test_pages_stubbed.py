"""Pages over a stubbed engine facade (AppTest, no trained model): what a page shows for a given run record.

The pages reach the engine only through the ``engine`` facade (a house rule), so replacing a few of its
functions with canned records gives each page's logic a test that runs in seconds; ``test_pages.py`` drives the
same pages over real prepared pipelines.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import engine
from tests.conftest import ROOT
from ui import format as fmt

EPOCHS = [  # epoch events as the loop writes them (engine.training.loop)
    {"type": "epoch", "epoch": e, "epochs": 3, "train_loss": 1.0 / e, "val_loss": 1.2 / e, "top1": 0.5 + e / 10}
    | {"images_per_s": 100.0, "steps": 10, "lr": 1e-3, "epoch_s": 2.0, "elapsed_s": 2.0 * e, "eta_s": 6.0 - 2 * e}
    | {"best": True, "time": 1.8e9 + e}
    for e in (1, 2, 3)
]


def _run(task: str, best: dict, status: str = "completed") -> dict:
    spec = engine.get_task(task)
    row = {"run": 7, "model": spec.default_arch, "status": status, "task": task, "dataset": 1}
    row |= {"metric_name": spec.metric_name, "val_metric": best.get(f"val_{spec.primary_metric}")}
    shown = row | {"metrics": best, "epochs": EPOCHS, "variants": [], "config": {}}
    return {"row": row, "shown": shown}


@pytest.fixture
def stubbed(monkeypatch, tmp_path):
    """An empty workspace, and the facade answering for one run: ``use(task, best_metrics)``."""
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "ws"))

    def use(task: str, best: dict, status: str = "completed") -> None:
        run = _run(task, best, status)
        monkeypatch.setattr(engine, "list_runs", lambda *a, **k: [run["row"]])
        monkeypatch.setattr(engine, "show_run", lambda *a, **k: run["shown"])

    return use


def _page(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(f"app_pages/{name}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_train_page_shows_the_best_epochs_scores_per_class(stubbed):
    best = {"best_epoch": 3, "val_top1": 0.8, "val_balanced_accuracy": 0.7, "val_macro_f1": 0.65}
    best |= {
        "val_per_class_recall": {"ok": 0.95, "defect": 0.45},
        "val_per_class_precision": {"ok": 0.8, "defect": 0.9},
    }
    stubbed("classification", best)
    at = _page("train")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["val balanced accuracy, best epoch"] == "70.0%"
    assert metrics["val macro F1, best epoch"] == "65.0%"
    table = next(d.value for d in at.dataframe if "class" in d.value.columns)
    assert table.to_dict("records") == [
        {"class": "ok", "recall": "95.0%", "precision": "80.0%"},
        {"class": "defect", "recall": "45.0%", "precision": "90.0%"},
    ]
    assert len(at.get("vega_lite_chart")) == 2  # loss and top-1 curves


@pytest.mark.parametrize(
    ("task", "columns"),
    [
        ("detection", {"per_class_ap50": "AP@0.5"}),
        ("segmentation", {"per_class_iou": "IoU"}),
        ("instance_segmentation", {"per_class_ap50": "mask AP@0.5", "per_class_ap": "mask AP@0.5:0.95"}),
    ],
)
def test_train_page_names_each_tasks_per_class_score(stubbed, task, columns):
    primary = engine.get_task(task).primary_metric
    best = {"best_epoch": 3, f"val_{primary}": 0.5}
    best |= {f"val_{key}": {"cat": 0.5 / (i + 1), "dog": None} for i, key in enumerate(columns)}
    stubbed(task, best)
    table = next(d.value for d in _page("train").dataframe if "class" in d.value.columns)
    assert list(table.columns) == ["class", *columns.values()]
    for i, column in enumerate(columns.values()):
        assert list(table[column]) == [fmt.cell(0.5 / (i + 1), "percent"), fmt.cell(None)]


def test_a_run_from_before_per_class_scores_shows_no_table(stubbed):
    stubbed("classification", {"best_epoch": 3, "val_top1": 0.8})  # runs trained before this release
    at = _page("train")
    assert not [d for d in at.dataframe if "class" in d.value.columns]
    assert not [m for m in at.metric if "best epoch" in m.label]


# --- pages over stored records: a run with its variants' scores and benchmark results written into a real
# workspace (no model, no inference), so the engine's own tables and verdicts run under the page


def _latency(median: float, *, precision: str = "f32", asked: str = "default") -> dict:
    """A benchmark result as the benchmark verb stores it (engine.pipeline.benchmarking)."""
    stats = {"median": median, "mean": median * 1.02, "p90": median * 1.1, "p99": median * 1.2}
    stats |= {"min": median * 0.95, "max": median * 1.3, "count": 100}
    return {
        "latency_ms": stats,
        "throughput": {"fps": 2000 / median, "streams": 2, "nireq": 2},
        "latency_samples_ms": [median * f for f in (0.95, 1.0, 1.0, 1.05, 1.1)],
        "inference_precision": precision,
        "precision_requested": asked,
        "compile_ms": 300.0,
        "first_inference_ms": median * 2,
        "environment": {"contended": False},
    }


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """``recorded(int8_ms, int8_top1)``: a classification run whose FP32 IR takes 10 ms (top-1 90 %) and whose
    INT8 IR took ``int8_ms`` and scored ``int8_top1``, as the optimize and benchmark verbs store them."""
    from engine.pipeline.context import Context

    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "ws"))

    def write(int8_ms: float, int8_top1: float) -> None:
        ctx = Context.open(tmp_path / "ws")
        dataset = ctx.db.add_dataset(name="parts", task="classification", fmt="imagenet", source=str(tmp_path))
        run = ctx.db.add_run(dataset_id=dataset, task="classification", model="resnet18", config={"img_size": 224})
        ctx.db.update_run(run, status="completed")
        scores = {"torch-fp32": (0.9, 44_800_000), "fp32": (0.9, 44_700_000), "int8": (int8_top1, 11_300_000)}
        for name, (top1, size) in scores.items():  # the entries optimize stores (engine.pipeline.optimizing)
            entry = {"variant": name, "size_bytes": size, "top1": top1, "drop_vs_torch_pp": 100 * (0.9 - top1)}
            entry |= {"metrics": {"top1": top1, "per_class_recall": {"ok": top1, "scratch": top1}}}
            entry |= {"agreement": {"fp32": 1.0}, "size_ratio_vs_fp32": 44_700_000 / size}
            ctx.db.upsert_variant(run_id=run, name=name, precision=name, path="", size_bytes=size, metrics=entry)
        for name, ms in (("torch-fp32", 40.0), ("fp32", 10.0), ("int8", int8_ms)):
            result = {"variant": name, "device": "CPU", **_latency(ms)}
            ctx.db.add_benchmark(run_id=run, variant=name, device="CPU", result=result)

    return write


def test_the_benchmark_page_calls_int8_optimized_when_it_is_faster_here_and_keeps_accuracy(recorded):
    recorded(int8_ms=4.0, int8_top1=0.9)
    at = _page("benchmark")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Speed vs the FP32 IR"] == "2.50x" and metrics["Speed vs PyTorch"] == "10.0x"
    assert not any("not faster" in m.value for m in at.markdown)
    assert [s.value for s in at.success] == [
        "optimized: int8 on CPU (f32), 2.50x the FP32 IR's speed (4.000 ms median) within the accuracy budget"
    ]


@pytest.mark.parametrize(
    ("int8_ms", "int8_top1", "why"),
    [
        (10.2, 0.9, "not faster than the FP32 IR here"),  # 0.98x: within the noise
        (4.0, 0.85, "faster, but it loses accuracy (top-1 -5.0 pp)"),
    ],
    ids=["not-faster", "less-accurate"],
)
def test_the_benchmark_page_says_why_int8_is_not_optimized(recorded, int8_ms, int8_top1, why):
    recorded(int8_ms=int8_ms, int8_top1=int8_top1)
    at = _page("benchmark")
    title = next(m.value for m in at.markdown if m.value.startswith("**int8 IR** on CPU"))
    assert title.endswith(f":orange[{why}]")
    assert not at.success
    assert any("none counts as optimized" in w.value for w in at.warning)


def test_home_shows_the_headline_and_each_steps_state_over_stored_records(recorded):
    recorded(int8_ms=4.0, int8_top1=0.9)
    at = _page("home")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Speed vs the FP32 IR": "2.50x",
        "Speed vs PyTorch": "10.0x",
        "Test top-1 change": "+0.0 pp",
        "Size": f"{fmt.ratio(44_700_000 / 11_300_000)} smaller",
    }
    title = f"**int8 IR** on CPU ({engine.precision_label('int8', 'f32')})"
    assert title in [m.value for m in at.markdown]  # optimized: no reason why not
    captions = [c.value for c in at.caption]
    for step in ("1 dataset(s)", "run 1: completed", "fp32, int8", "3 result(s)", "original vs optimized"):
        assert step in captions, (step, captions)
    assert "No job yet: load the sample project, or start one on any page." in captions
    plan = engine.sample_plans()["classification"]  # this CPU's: the architecture the sample trains here, and why
    assert f"Trains {plan['why']}." in captions
    assert f"classification ({plan['project']})" in at.radio(key="sample_task").options


def test_home_says_why_the_variant_is_not_optimized(recorded):
    recorded(int8_ms=10.2, int8_top1=0.9)
    at = _page("home")
    assert {m.label: m.value for m in at.metric}["Speed vs the FP32 IR"] == "0.98x"
    title = f"**int8 IR** on CPU ({engine.precision_label('int8', 'f32')})"
    assert f"{title} · :orange[not faster than the FP32 IR here]" in [m.value for m in at.markdown]


def test_runs_page_lists_every_run_and_the_chosen_runs_variants(recorded):
    recorded(int8_ms=4.0, int8_top1=0.9)
    recorded(int8_ms=5.0, int8_top1=0.8)
    at = _page("runs")
    runs = at.dataframe[0].value
    assert sorted(runs["run"]) == ["1", "2"]  # as the page's frame shows cells: text
    assert set(runs["variants"]) == {"torch-fp32, fp32, int8"} and set(runs["model"]) == {"resnet18"}
    assert at.selectbox[0].options and len(at.selectbox[0].options) == 2
    variants = next(d.value for d in at.dataframe if "test top-1" in d.value.columns)
    assert list(variants["variant"]) == ["torch-fp32", "fp32", "int8"]
    shown = at.selectbox[0].value
    assert list(variants["test top-1"]) == ["90.0%", "90.0%", "90.0%" if shown == 1 else "80.0%"]
    assert not any(d for d in at.dataframe if "job" in d.value.columns)  # no job yet: no jobs table


def _no_jobs_started(monkeypatch) -> list[tuple[str, dict]]:
    """The jobs a page submits, recorded instead of run."""
    started: list[tuple[str, dict]] = []

    def submit(verb: str, kwargs: dict, *, title: str = "", workspace=None) -> dict:
        started.append((verb, kwargs))
        return {"id": len(started), "backend": "local", "status": "queued", "verb": verb, "kwargs": kwargs}

    monkeypatch.setattr(engine, "submit_job", submit)
    return started


def test_optimize_page_shows_the_stored_variants_and_submits_the_forms_settings(recorded, monkeypatch):
    recorded(int8_ms=4.0, int8_top1=0.88)
    started = _no_jobs_started(monkeypatch)
    at = _page("optimize")
    assert at.caption[0].value.startswith("run 1 · resnet18")
    table = next(d.value for d in at.dataframe if "test top-1" in d.value.columns)
    assert list(table["variant"]) == ["torch-fp32", "fp32", "int8"]
    assert list(table["test top-1"]) == ["90.0%", "90.0%", "88.0%"]
    variants = next(m for m in at.multiselect if m.label == "Variants")
    assert variants.value == list(engine.DEFAULT_OPTIMIZE)
    variants.set_value(["int8"])
    next(n for n in at.number_input if n.label == "INT8 calibration images").set_value(64)
    next(b for b in at.button if b.label == "Optimize").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [verb for verb, _ in started] == ["optimize"]
    kwargs = started[0][1]
    assert kwargs["run"] == 1 and kwargs["variants"] == ["int8"] and kwargs["calib_size"] == 64
    assert kwargs["calib_split"] == "train"
    # every variant option of the table reached the job with its declared default
    declared = {o["parameter"]: o["default"] for form in engine.variant_options() for o in form["options"]}
    assert {k: kwargs[k] for k in declared} == declared


def test_deploy_page_offers_the_int8_package_its_code_and_an_ovms_version(recorded, monkeypatch, tmp_path):
    recorded(int8_ms=4.0, int8_top1=0.9)
    asked: list[dict] = []

    def deploy(run, *, variant, ovms=None, name=None, workspace=None):  # the package the deploy verb writes
        asked.append({"run": run, "variant": variant, "ovms": ovms, "name": name})
        if ovms is not None:
            if "/" in name:
                raise engine.StudioError(f"model name {name!r}: use letters, digits, '.', '_' or '-'")
            return {"ovms": {"path": f"{ovms}/{name}/1/model.xml", "version": 1, "name": name}
                    | {"config": f"{ovms}/config.json", "models": [name]}}  # fmt: skip
        package = tmp_path / f"run1-{variant}.zip"
        package.write_bytes(b"PK" + b"\0" * 2_500_000)
        snippets = {
            "cli": f"python -m engine predict --variant {variant}",
            "model_api": "from model_api",
            "openvino": "ov",
        }
        return {"path": str(package), "size_bytes": package.stat().st_size, "files": ["model.xml", "model.bin"]} | {
            "snippets": snippets
        }

    monkeypatch.setattr(engine, "deploy", deploy)
    at = _page("deploy")
    assert at.selectbox[0].options == ["fp32", "int8"] and at.selectbox[0].value == "int8"  # IRs only; INT8 first
    assert asked[-1] == {"run": 1, "variant": "int8", "ovms": None, "name": None}
    assert [d.label for d in at.get("download_button")] == ["Download run1-int8.zip (2.5 MB)"]
    assert [c.value for c in at.code] == ["python -m engine predict --variant int8", "from model_api", "ov"]
    assert any(c.value.startswith("model.xml, model.bin: the OpenVINO IR") for c in at.caption)
    name = next(t for t in at.text_input if t.label == "Model name")
    assert name.value == "resnet18-int8"
    name.set_value("bad/name")
    next(b for b in at.button if b.label == "Add as a new version").click()
    at.run()
    assert [e.value for e in at.error] == ["model name 'bad/name': use letters, digits, '.', '_' or '-'"]
    next(t for t in at.text_input if t.label == "Model name").set_value("parts-int8")
    next(b for b in at.button if b.label == "Add as a new version").click()
    at.run()
    assert at.success[0].value.endswith("/ovms/parts-int8/1/model.xml: version 1 of parts-int8; "
                                        f"{asked[-1]['ovms']}/config.json serves parts-int8")  # fmt: skip
    assert asked[-1]["variant"] == "int8" and asked[-1]["ovms"].endswith("/ovms")


def test_the_train_form_leaves_the_learning_rate_to_the_architecture_unless_changed(stubbed, monkeypatch):
    """The form cannot follow the architecture picked inside it: a learning rate left at the task's default is
    sent as None, so an architecture with a rate of its own (the GroupNorm RetinaNet) trains with that."""
    stubbed("detection", {"best_epoch": 1, "val_map_50": 0.5})
    dataset = {"dataset": 1, "name": "shapes", "task": "detection", "format": "coco_instances", "images": 60}
    monkeypatch.setattr(engine, "list_datasets", lambda *a, **k: [dataset])
    real = engine.training_defaults
    monkeypatch.setattr(engine, "training_defaults", lambda task, dataset=None, **k: real(task))
    started = _no_jobs_started(monkeypatch)
    at = _page("train")
    lr = next(n for n in at.number_input if n.label == "Peak learning rate")
    assert lr.value == 3e-3 and "retinanet_resnet18_fpn 0.002" in lr.help
    arch = next(s for s in at.selectbox if s.label == "Architecture")
    arch.set_value("retinanet_resnet18_fpn")
    start = next(b for b in at.button if b.label == "Start training")
    start.click().run()
    assert started[-1][1]["model"] == "retinanet_resnet18_fpn" and started[-1][1]["lr"] is None
    from engine.training.config import TrainConfig

    resolved = TrainConfig(task="detection", **{k: v for k, v in started[-1][1].items() if k != "dataset"}).resolved()
    assert resolved.lr == 2e-3 and resolved.chosen["lr"] == "the retinanet_resnet18_fpn default"
    next(n for n in at.number_input if n.label == "Peak learning rate").set_value(1e-3)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert started[-1][1]["lr"] == 1e-3  # changed: the user's rate, whatever the architecture


class _Shown:
    """A model as Compare uses it: a backend, a prediction with its timing, a drawing (no inference)."""

    def __init__(self, backend: str, ms: float) -> None:
        from engine.inference.prediction import Timing

        self.backend, self.timing = backend, Timing(0.1, ms, 0.1)

    def predict(self, images: list) -> list:
        return [type("Pred", (), {"timing": self.timing})() for _ in images]

    def draw(self, image, pred):
        return image


@pytest.fixture
def comparing(recorded, monkeypatch, tmp_path):
    """Compare over the stored run (FP32 IR 10 ms, INT8 4 ms): test images on disk, models that only draw, the
    confusion matrices as stored, and the compare jobs given (``comparing(jobs)``); the jobs it starts."""
    import numpy as np
    from PIL import Image

    recorded(int8_ms=4.0, int8_top1=0.9)
    images = []
    for i in range(3):
        images.append(tmp_path / f"part-{i}.png")
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(images[-1])
    model_file = tmp_path / "model.xml"
    model_file.write_text("<net/>")
    monkeypatch.setattr(engine, "variant_file", lambda run, variant, **k: model_file)
    monkeypatch.setattr(engine, "dataset_samples", lambda *a, **k: [{"image": str(p), "target": 0} for p in images])
    backends = {"torch-fp32": ("pytorch", 41.0), "fp32": ("openvino", 11.0), "int8": ("openvino", 4.2)}
    monkeypatch.setattr(engine, "load_model", lambda run, variant, **k: _Shown(*backends[variant]))
    pairs = [(v, t, p) for v in ("torch-fp32", "int8") for t in "ab" for p in "ab"]
    cells = [{"variant": v, "true": t, "predicted": p, "images": 5} for v, t, p in pairs]
    per_class = [{"class": c, "torch-fp32 recall": 0.9, "int8 recall": 0.8} for c in "ab"]
    monkeypatch.setattr(engine, "confusions", lambda *a, **k: {"cells": cells, "per_class": per_class})
    started = _no_jobs_started(monkeypatch)

    def use(jobs: list[dict]) -> tuple[AppTest, list]:
        monkeypatch.setattr(engine, "list_jobs", lambda *a, **k: jobs)
        return _page("compare"), started

    return use


def _compare_job(status: str, **fields) -> dict:
    want = {"run": 1, "a": "torch-fp32", "b": "int8"}
    return {"id": 1, "verb": "compare", "kwargs": want, "status": status, "finished": 4e9, **fields}


def test_compare_shows_the_pair_side_by_side_and_starts_the_disagreement_job(comparing):
    at, started = comparing([])
    pickers = {s.label: s.value for s in at.selectbox}
    assert (pickers["Original"], pickers["Optimized"]) == ("torch-fp32", "int8")  # int8: the measured pick
    assert [m.value for m in at.markdown if m.value.startswith("**")][-2:] == [
        "**torch-fp32** · pytorch",
        "**int8** · openvino",
    ]
    medians = [m.value for m in at.metric if m.label == "Benchmarked median"]
    assert medians == [fmt.ms(40.0), fmt.ms(4.0)]  # the benchmark job's medians, not this one image's timing
    assert [m.value for m in at.metric if m.label == "This image (single sample)"] == [fmt.ms(41.2), fmt.ms(4.4)]
    assert len(at.get("vega_lite_chart")) == 1  # the two confusion matrices, one chart
    assert list(next(d.value for d in at.dataframe if "class" in d.value.columns)["class"]) == ["a", "b"]
    next(b for b in at.button if b.label == "Find where they disagree").click().run()
    assert started == [("compare", {"run": 1, "a": "torch-fp32", "b": "int8"})]


def test_compare_ranks_the_images_from_the_finished_job_and_offers_a_retry_after_a_failure(comparing):
    rows = [
        {"index": 2, "image": "/data/test/part-2.png", "disagreement": 0.7, "agreement": 0.0},
        {"index": 0, "image": "/data/test/part-0.png", "disagreement": 0.1, "agreement": 1.0},
    ]
    at, _ = comparing([_compare_job("completed", result={"label_flips": 1, "images": 3, "rows": rows})])
    assert "They differ on 1 of 3 test images" in " ".join(c.value for c in at.caption)
    table = next(d.value for d in at.dataframe if "test image" in d.value.columns)
    assert list(table.columns[:2]) == ["test image", "file"]
    assert list(table["file"]) == ["part-2.png", "part-0.png"]  # as ranked, most disagreement first

    at, started = comparing([_compare_job("failed", error="compare failed: the int8 IR is missing; optimize again")])
    assert [e.value for e in at.error] == ["compare failed: the int8 IR is missing; optimize again"]
    next(b for b in at.button if b.label == "Retry the comparison").click().run()
    assert started[-1] == ("compare", {"run": 1, "a": "torch-fp32", "b": "int8"})
