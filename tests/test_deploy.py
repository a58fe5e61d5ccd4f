"""The deploy verb's zip, opened: the IR inside loads and predicts what the product predicts."""

from __future__ import annotations

import json
import zipfile

import cv2
import numpy as np
import openvino as ov
import pytest

import engine

pytestmark = pytest.mark.e2e  # every test reads a model the module fixture trains and quantizes


@pytest.fixture(scope="module")
def tiny_run(tiny_imagenet, tmp_path_factory):
    """A run trained for two steps with its FP32 IR: enough to deploy (accuracy is not the point here)."""
    ws = tmp_path_factory.mktemp("deploy") / "ws"
    dataset = engine.import_dataset(str(tiny_imagenet), workspace=ws)["dataset"]
    run = engine.train(dataset, epochs=1, max_steps=2, img_size=32, batch_size=8, workspace=ws)["run"]
    engine.optimize(run, variants=["fp32"], calib_size=8, workspace=ws)
    return {"ws": ws, "run": run, "data": tiny_imagenet}


def test_the_zip_holds_a_working_ir_with_its_labels(tiny_run, tmp_path):
    out = tmp_path / "model.zip"
    result = engine.deploy(tiny_run["run"], variant="fp32", out=str(out), workspace=tiny_run["ws"])
    assert result["path"] == str(out) and result["size_bytes"] == out.stat().st_size
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["README.txt", "labels.txt", "model.bin", "model.xml", "model_info.json"]
        zf.extractall(tmp_path / "unzipped")
        labels = zf.read("labels.txt").decode().split()
        info = json.loads(zf.read("model_info.json"))
        readme = zf.read("README.txt").decode()
    assert labels == ["circle", "cross", "square", "triangle"] and info["labels"] == " ".join(labels)
    assert info["model_type"] == "Classification" and "Model.create_model" in readme

    image = next((tiny_run["data"] / "test").rglob("*.png"))
    ours = engine.predict(tiny_run["run"], [str(image)], variant="fp32", workspace=tiny_run["ws"])["predictions"][0]
    compiled = ov.Core().compile_model(str(tmp_path / "unzipped" / "model.xml"), "CPU")
    assert list(compiled.input(0).shape) == [1, 3, 32, 32]
    from engine.inference.preprocess import to_input

    logits = compiled(to_input(engine.read_image(image), 32))[0]
    assert int(np.argmax(logits)) == ours["label"]


def test_only_openvino_variants_deploy_and_out_must_be_a_file(tiny_run, tmp_path):
    with pytest.raises(engine.StudioError, match="only OpenVINO variants can be deployed"):
        engine.deploy(tiny_run["run"], variant="torch-fp32", workspace=tiny_run["ws"])
    with pytest.raises(engine.StudioError, match="is a folder; give the path of the zip file"):
        engine.deploy(tiny_run["run"], variant="fp32", out=str(tmp_path), workspace=tiny_run["ws"])
    with pytest.raises(engine.StudioError, match="has no int8 model"):
        engine.deploy(tiny_run["run"], variant="int8", workspace=tiny_run["ws"])


def test_the_default_zip_lives_in_the_run_folder(tiny_run):
    result = engine.deploy(tiny_run["run"], variant="fp32", workspace=tiny_run["ws"])
    assert result["path"].startswith(str(tiny_run["ws"] / "runs" / str(tiny_run["run"]) / "deploy"))
    assert result["snippets"]["cli"].endswith(f"--workspace {tiny_run['ws'].resolve()}")


def test_an_ovms_repository_gets_a_new_version_per_export_and_a_config_naming_every_model(tiny_run, tmp_path):
    """Two exports of one model are versions 1 and 2 side by side (never one edited in place); a second model
    joins config.json; every version's IR loads in Model API with the source IR's model_info."""
    from model_api.models import Model

    from engine.export import model_info

    repo, ws, run = tmp_path / "models", tiny_run["ws"], tiny_run["run"]
    first = engine.deploy(run, variant="fp32", ovms=str(repo), name="shapes", workspace=ws)
    v1 = (repo / "shapes" / "1" / "model.bin").read_bytes()
    second = engine.deploy(run, variant="fp32", ovms=str(repo), name="shapes", workspace=ws)
    other = engine.deploy(run, variant="fp32", ovms=str(repo), workspace=ws)  # default name: <arch>-<variant>
    assert (first["ovms"]["version"], second["ovms"]["version"], other["ovms"]["version"]) == (1, 2, 1)
    assert first["path"] == str(repo / "shapes" / "1") and first["files"] == ["model.bin", "model.xml"]
    assert (repo / "shapes" / "1" / "model.bin").read_bytes() == v1  # version 1 untouched by the second export
    assert sorted(p.name for p in (repo / "shapes").iterdir()) == ["1", "2"]  # no staging folder left behind

    config = json.loads((repo / "config.json").read_text())
    entries = {e["config"]["name"]: e["config"] for e in config["model_config_list"]}
    arch = other["ovms"]["name"]
    assert arch.endswith("-fp32") and entries == {"shapes": {"name": "shapes", "base_path": "shapes"},
                                                  arch: {"name": arch, "base_path": arch}}  # fmt: skip
    assert other["ovms"]["models"] == sorted(entries)

    image = next((tiny_run["data"] / "test").rglob("*.png"))
    source = model_info.read(ov.Core().read_model(ws / "runs" / str(run) / "variants" / "fp32" / "model.xml"))
    for folder in (repo / "shapes" / "1", repo / "shapes" / "2", repo / arch / "1"):
        assert model_info.read(ov.Core().read_model(folder / "model.xml")) == source
        model = Model.create_model(str(folder / "model.xml"), device="CPU")
        assert list(model.get_param("labels")) == source["labels"].split()
        assert model(cv2.imread(str(image))).top_labels[0].name in source["labels"].split()


def test_ovms_export_refuses_bad_names_a_file_as_repository_and_out_with_ovms(tiny_run, tmp_path):
    ws, run = tiny_run["ws"], tiny_run["run"]
    with pytest.raises(engine.StudioError, match="cannot name an OVMS model folder"):
        engine.deploy(run, variant="fp32", ovms=str(tmp_path / "m"), name="../escape", workspace=ws)
    (tmp_path / "file").write_text("x")
    with pytest.raises(engine.StudioError, match="is a file; give the folder of the model repository"):
        engine.deploy(run, variant="fp32", ovms=str(tmp_path / "file"), workspace=ws)
    with pytest.raises(engine.StudioError, match="not both"):
        engine.deploy(run, variant="fp32", ovms=str(tmp_path / "m"), out=str(tmp_path / "a.zip"), workspace=ws)
    assert not (tmp_path / "m").exists()


def test_onnx_holds_the_fp32_network_and_computes_what_the_ir_computes(tiny_run, tmp_path):
    from engine.data.images import read_rgb
    from engine.inference.preprocess import to_input

    out = tmp_path / "model-onnx.zip"
    result = engine.deploy(tiny_run["run"], variant="fp32", out=str(out), format="onnx", workspace=tiny_run["ws"])
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["README.txt", "labels.txt", "model.onnx"] == sorted(result["files"])
        zf.extractall(tmp_path / "unzipped")
        assert "opset 17" in zf.read("README.txt").decode()
    core = ov.Core()
    onnx_model = core.read_model(tmp_path / "unzipped" / "model.onnx")
    assert onnx_model.inputs[0].get_any_name() == "image" and onnx_model.outputs[0].get_any_name() == "logits"
    assert list(onnx_model.inputs[0].get_partial_shape().to_shape()) == [1, 3, 32, 32]
    xml = tiny_run["ws"] / "runs" / str(tiny_run["run"]) / "variants" / "fp32" / "model.xml"
    f32 = {"INFERENCE_PRECISION_HINT": "f32"}
    x = to_input(read_rgb(next((tiny_run["data"] / "test").rglob("*.png"))), 32)
    from_onnx = core.compile_model(onnx_model, "CPU", f32)(x)[0]
    from_ir = core.compile_model(xml, "CPU", f32)(x)[0]
    np.testing.assert_allclose(from_onnx, from_ir, rtol=1e-4, atol=1e-4)


def test_onnx_refuses_int8_and_ovms(tiny_run, tmp_path):
    with pytest.raises(engine.StudioError, match="INT8 variants are OpenVINO IRs"):
        engine.deploy(tiny_run["run"], variant="int8", format="onnx", workspace=tiny_run["ws"])
    with pytest.raises(engine.StudioError, match="--ovms publishes OpenVINO IRs"):
        engine.deploy(tiny_run["run"], variant="fp32", format="onnx", ovms=str(tmp_path), workspace=tiny_run["ws"])
    with pytest.raises(engine.StudioError, match="unknown --format 'tflite'; valid: openvino, onnx"):
        engine.deploy(tiny_run["run"], variant="fp32", format="tflite", workspace=tiny_run["ws"])


def test_the_confusion_matrices_of_two_variants_for_compare(tiny_run):
    import pandas as pd

    from engine import charts

    shown = engine.confusions(tiny_run["run"], ["torch-fp32", "fp32"], workspace=tiny_run["ws"])
    assert len(shown["cells"]) == 2 * 4 * 4  # two variants x 4 true x 4 predicted classes
    for variant in ("torch-fp32", "fp32"):
        counted = sum(c["images"] for c in shown["cells"] if c["variant"] == variant)
        assert counted == 8 * 4  # every test image once (8 per class)
    assert [r["class"] for r in shown["per_class"]] == ["circle", "cross", "square", "triangle"]
    assert {"torch-fp32 recall", "fp32 precision"} <= set(shown["per_class"][0])
    spec = charts.confusion_matrices(pd.DataFrame(shown["cells"])).to_dict()
    assert spec["facet"]["column"]["field"] == "variant"
