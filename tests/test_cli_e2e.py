"""End to end through the CLI, as a user scripts it: import -> train -> optimize -> evaluate -> benchmark -> predict."""

from __future__ import annotations

import cv2
import openvino as ov
import pytest

from engine.export.model_info import REQUIRED_KEYS
from engine.export.model_info import read as read_model_info
from tests.conftest import last_json, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pipeline(prepared):
    """The session's classification pipeline (tests/conftest.py), shared with the page tests."""
    return prepared("classification")


def test_import_reports_splits(pipeline):
    info = pipeline["dataset"]
    assert info["format"] == "imagenet_with_subset_dirs"
    assert {s: v["images"] for s, v in info["splits"].items()} == {"train": 800, "val": 80, "test": 80}


def test_training_learns_and_writes_its_artifacts(pipeline):
    result = pipeline["train"]
    assert result["status"] in ("completed", "early_stopped") and result["epochs_done"] >= 6
    assert result["val_top1"] > 0.45  # chance is 0.25
    run_dir = pipeline["ws"] / "runs" / str(result["run"])
    assert (run_dir / "checkpoints" / "last.pt").is_file() and (run_dir / "checkpoints" / "best.pt").is_file()
    assert (run_dir / "config.yaml").is_file()
    assert (run_dir / "log.txt").read_text().count("epoch") >= result["epochs_done"]
    events = [line for line in (run_dir / "events.jsonl").read_text().splitlines() if '"epoch"' in line]
    assert len([e for e in events if '"type": "epoch"' in e]) == result["epochs_done"]
    for key in ("train_loss", "top1", "lr", "images_per_s", "eta_s"):
        assert f'"{key}"' in events[-1]


def test_variants_are_accurate_small_and_agree(pipeline):
    variants = pipeline["optimize"]["variants"]
    assert set(variants) == {"torch-fp32", "fp32", "fp16", "int8", "int8-acc", "int8-qat", "pruned", "pruned-int8"}
    torch_top1 = variants["torch-fp32"]["top1"]
    assert torch_top1 > 0.4
    assert variants["fp32"]["top1"] == pytest.approx(torch_top1, abs=0.02)
    assert variants["fp16"]["agreement"]["fp32"] >= 0.97
    assert variants["int8"]["agreement"]["fp32"] >= 0.90
    assert variants["int8-acc"]["agreement"]["fp32"] >= 0.90
    assert variants["fp16"]["size_bytes"] < 0.6 * variants["fp32"]["size_bytes"]
    assert variants["int8"]["size_bytes"] < 0.6 * variants["fp32"]["size_bytes"]


def test_pruned_variants_are_smaller_and_still_work(pipeline):
    variants = pipeline["optimize"]["variants"]
    pruning = variants["pruned"]["pruning"]
    assert pruning == variants["pruned-int8"]["pruning"]  # one pruned network serves both variants
    assert pruning["ratio"] == 0.3 and pruning["macs_after"] <= (1 - 0.3) * 1.1 * pruning["macs_before"]
    assert pruning["params_after"] < 0.8 * pruning["params_before"]
    assert variants["pruned"]["size_bytes"] < 0.8 * variants["fp32"]["size_bytes"]
    assert variants["pruned-int8"]["size_bytes"] < variants["int8"]["size_bytes"]
    assert variants["pruned"]["top1"] > 0.4  # fine-tuned after each step: far above chance (0.25)
    assert variants["pruned-int8"]["agreement"]["fp32"] >= 0.6
    model = ov.Core().read_model(pipeline["xml"]["pruned"])
    assert model.output(0).get_partial_shape()[1].get_length() == 4  # every class kept


def test_every_ir_carries_model_api_metadata_and_static_shape(pipeline):
    run_dir = pipeline["ws"] / "runs" / str(pipeline["train"]["run"])
    for name in ("fp32", "fp16", "int8", "int8-acc", "int8-qat", "pruned", "pruned-int8"):
        model = ov.Core().read_model(run_dir / "variants" / name / "model.xml")
        info = read_model_info(model)
        assert set(REQUIRED_KEYS) <= set(info), name
        assert info["model_type"] == "Classification" and info["labels"].split() == [
            "circle",
            "cross",
            "square",
            "triangle",
        ]
        assert not model.input(0).get_partial_shape().is_dynamic
        assert (run_dir / "variants" / name / "metrics.json").is_file()
    int8 = ov.Core().read_model(run_dir / "variants" / "int8" / "model.xml")
    assert any(op.get_type_name() == "FakeQuantize" for op in int8.get_ops()) or any(
        op.get_output_element_type(0).get_type_name() == "i8"
        for op in int8.get_ops()
        if op.get_type_name() == "Constant"
    )


def test_evaluate_matches_optimize(pipeline):
    run = str(pipeline["train"]["run"])
    result = last_json(run_cli("evaluate", run, "--variant", "int8", "--json", workspace=pipeline["ws"]))
    assert result["metrics"]["top1"] == pytest.approx(pipeline["optimize"]["variants"]["int8"]["top1"])
    assert result["metrics"]["images"] == 80
    assert len(result["metrics"]["confusion"]) == 4


def test_benchmark_statistics(pipeline):
    run = str(pipeline["train"]["run"])
    result = last_json(
        run_cli(
            "benchmark",
            run,
            "--variants",
            "torch-fp32,int8",
            "--precision",
            "default,f32",
            "--iterations",
            "30",
            "--json",
            workspace=pipeline["ws"],
        )
    )
    rows = {(r["variant"], r["precision_requested"]): r for r in result["results"]}
    assert set(rows) == {("torch-fp32", "default"), ("int8", "default"), ("int8", "f32")}
    for r in rows.values():
        lat = r["latency_ms"]
        assert lat["count"] >= 30
        assert 0 < lat["min"] <= lat["median"] <= lat["p99"] <= lat["max"]
        assert r["throughput"]["fps"] > 0 and r["first_inference_ms"] > 0
        assert "contended" in r["environment"]
    assert rows[("int8", "f32")]["inference_precision"] == "f32"
    assert rows[("int8", "default")]["throughput"]["nireq"] >= 1
    run_dir = pipeline["ws"] / "runs" / run
    assert (run_dir / "benchmarks" / "int8_CPU_f32.json").is_file()
    shown = last_json(run_cli("runs", "show", run, "--json", workspace=pipeline["ws"]))
    assert len(shown["epochs"]) == pipeline["train"]["epochs_done"] and len(shown["benchmarks"]) >= 3
    table = last_json(run_cli("runs", "benchmarks", run, "--json", workspace=pipeline["ws"]))
    assert {(r["variant"], r["precision asked"]) for r in table["rows"]} == set(rows)  # the newest per config


def test_predict_saves_overlays(pipeline, tmp_path):
    images = sorted((pipeline["data"] / "test" / "square").glob("*.png"))[:3]
    result = last_json(
        run_cli(
            "predict",
            str(pipeline["train"]["run"]),
            "--variant",
            "int8",
            *map(str, images),
            "--save",
            str(tmp_path),
            "--json",
            workspace=pipeline["ws"],
        )
    )
    assert len(result["predictions"]) == 3
    for pred in result["predictions"]:
        assert pred["label_name"] in {"circle", "cross", "square", "triangle"} and 0 < pred["score"] <= 1
        assert cv2.imread(pred["saved"]) is not None


def test_model_api_reads_the_ir_and_agrees(pipeline):
    from model_api.adapters import OpenvinoAdapter, create_core
    from model_api.models import Model

    from engine.data.images import read_rgb
    from engine.inference.predictor import OpenVINOPredictor

    xml = pipeline["ws"] / "runs" / str(pipeline["train"]["run"]) / "variants" / "fp32" / "model.xml"
    # Model API compiles with the device's default precision (BF16 here): ask for f32 to compare like for like.
    adapter = OpenvinoAdapter(create_core(), str(xml), device="CPU", plugin_config={"INFERENCE_PRECISION_HINT": "f32"})
    wrapper = Model.create_model(adapter, configuration={"topk": 1}, preload=True)
    ours = OpenVINOPredictor(xml, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    paths = sorted((pipeline["data"] / "test").rglob("*.png"))
    agree, worst = 0, 0.0
    for path in paths:
        bgr = cv2.imread(str(path))  # Model API takes BGR and reverses channels, as model_info says
        theirs = wrapper(bgr).top_labels[0]
        mine = ours.predict([read_rgb(path)])[0]
        agree += int(theirs.id == mine.label)
        worst = max(worst, abs(float(theirs.confidence) - float(mine.scores[theirs.id])))
    # the same input tensor (float resize on both sides, see model_api_preprocessing): same scores, not just labels
    assert agree == len(paths) and worst < 1e-4, (agree, worst)


def test_compare_and_deploy_from_the_cli(pipeline, tmp_path):
    run, ws = str(pipeline["train"]["run"]), pipeline["ws"]
    compared = last_json(run_cli("compare", run, "torch-fp32", "int8", "--json", workspace=ws))
    assert (compared["a"], compared["b"], compared["images"]) == ("torch-fp32", "int8", 80)
    disagreement = [r["disagreement"] for r in compared["rows"]]
    assert disagreement == sorted(disagreement, reverse=True)
    assert compared["label_flips"] == sum(r["agreement"] < 1 for r in compared["rows"]) <= 8
    proc = run_cli("deploy", run, "--variant", "int8", "--out", str(tmp_path / "m.zip"), workspace=ws)
    assert f"wrote {tmp_path / 'm.zip'}" in proc.stdout
    import zipfile

    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        assert {"model.xml", "model.bin", "labels.txt", "model_info.json", "README.txt"} == set(zf.namelist())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("data", "import", "/nope"), "does not exist"),
        (("train", "--dataset", "999"), "no dataset"),
        (("train", "--dataset", "1", "--model", "vgg99"), "unknown classification model 'vgg99'"),
        (("optimize", "77"), "no run"),
        (("optimize", "RUN", "--variants", "int4"), "unknown variant 'int4'"),
        (("benchmark", "RUN", "--devices", "NPU"), "not available here"),
        (("deploy", "RUN", "--variant", "torch-fp32"), "only OpenVINO variants can be deployed"),
        (("compare", "77", "torch-fp32", "int8"), "no run"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(pipeline, args, expected, capsys):
    """In process (the same main() as `python -m engine`): exit status, one line, no traceback."""
    from engine import cli

    args = [str(pipeline["train"]["run"]) if a == "RUN" else a for a in args]
    assert cli.main([*args, "--workspace", str(pipeline["ws"])]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
