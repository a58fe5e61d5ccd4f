"""Calibration tools: the split and size INT8 calibrates on, per-class coverage, the overlap warning (content
hash, so a renamed copy is caught), and the size sweep with its metric per size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from streamlit.testing.v1 import AppTest

import engine
from engine.compression import calibration
from engine.tasks import get_task
from engine.tasks.classification.sample import SampleConfig, generate
from tests.conftest import ROOT, last_json, run_cli

COPIES = 3


def _note(text: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return info


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    """A tiny classification dataset whose val split holds three train images saved again (same pixels, other
    name and bytes: import keeps them), a trained run on it, and its INT8 calibrated on the whole train split."""
    root = tmp_path_factory.mktemp("leaky")
    data, ws = root / "data", root / "ws"
    generate(data, SampleConfig(seed=2, per_class=(("train", 8), ("val", 3), ("test", 3))))
    originals = sorted((data / "train").rglob("*.png"))[:COPIES]
    for i, path in enumerate(originals):
        copy = data / "val" / path.parent.name / f"copy_{i}.png"
        Image.open(path).save(copy, compress_level=1, pnginfo=_note(f"exported again ({i})"))
        assert copy.read_bytes() != path.read_bytes()
    dataset = str(last_json(run_cli("data", "import", str(data), "--json", workspace=ws))["dataset"])
    train = ("train", "--dataset", dataset, "--epochs", "1", "--max-steps", "2", "--img-size", "32", "--json")
    run = str(last_json(run_cli(*train, workspace=ws))["run"])
    proc = run_cli("optimize", run, "--variants", "fp32,int8", "--calib-size", "1000", "--json", workspace=ws)
    return {"ws": ws, "run": run, "originals": originals, "optimize": last_json(proc), "stderr": proc.stderr}


def test_overlap_is_found_by_pixels_and_named(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    a, b, c = tmp_path / "a.png", tmp_path / "b.bmp", tmp_path / "c.png"
    Image.fromarray(pixels).save(a)
    Image.fromarray(pixels).save(b)  # another name and file format, the same pixels
    Image.fromarray(255 - pixels).save(c)
    found = calibration.overlap([(str(a), 0)], {"val": [(str(c), 0), (str(b), 1)], "test": [(str(c), 0)]})
    assert found["val"] == {"images": 1, "examples": [{"calibration": str(a), "split_image": str(b)}]}
    assert found["test"] == {"images": 0, "examples": []}


def test_coverage_lists_every_class_and_warns_about_missing_ones():
    task = get_task("classification")
    rows = calibration.coverage(task, ["cat", "dog", "owl"], [("x", 0), ("y", 0), ("z", 2)])
    assert rows == [
        {"class": "cat", "images": 2, "share": 2 / 3},
        {"class": "dog", "images": 0, "share": 0.0},
        {"class": "owl", "images": 1, "share": 1 / 3},
    ]
    report = calibration.describe(task, ["cat", "dog", "owl"], "train", [("x", 0)], {})  # no other split
    assert any("no calibration image shows dog, owl" in w for w in report["warnings"])


def test_calibration_subset_is_seeded_and_0_means_all():
    samples = [(str(i), 0) for i in range(50)]
    assert calibration.calibration_subset(samples, 10, seed=1) == calibration.calibration_subset(samples, 10, seed=1)
    assert len(calibration.calibration_subset(samples, 10)) == 10
    assert calibration.calibration_subset(samples, 0) == samples


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_the_overlap_warning_fires_on_a_dataset_built_to_overlap(leaky):
    report = leaky["optimize"]["variants"]["int8"]["calibration"]
    assert report["split"] == "train" and report["images"] == 32
    assert report["overlap"]["val"]["images"] == COPIES and report["overlap"]["test"]["images"] == 0
    names = {example["split_image"].rsplit("/", 1)[-1] for example in report["overlap"]["val"]["examples"]}
    assert names == {f"circle_copy_{i}.png" for i in range(COPIES)}  # as stored: class_file
    assert "fp32" not in leaky["optimize"]["variants"] or "calibration" not in leaky["optimize"]["variants"]["fp32"]
    warning = f"{COPIES} of the 32 calibration images (from train) are also in the val split"
    assert any(warning in w for w in report["warnings"]) and warning in leaky["stderr"]
    table = engine.variant_table(int(leaky["run"]), workspace=leaky["ws"])
    assert any(warning in w for w in table["warnings"])
    row = next(r for r in table["rows"] if r["variant"] == "int8")
    assert row["calibration"] == f"32 train ({COPIES} in val)"
    assert all(c["images"] == 8 for c in report["coverage"])  # every train image of the 4 classes


@pytest.mark.e2e
def test_no_overlap_warning_on_the_sample(prepared):
    report = prepared("classification")["optimize"]["variants"]["int8"]["calibration"]
    assert report["images"] == 64 and report["split"] == "train"
    assert {split: found["images"] for split, found in report["overlap"].items()} == {"val": 0, "test": 0}
    assert report["warnings"] == [] and all(row["images"] > 0 for row in report["coverage"])


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_calibrating_on_val_says_what_it_costs(leaky):
    run, ws = leaky["run"], leaky["ws"]
    result = engine.optimize(int(run), variants=["int8"], calib_split="val", calib_size=8, workspace=ws)
    report = result["variants"]["int8"]["calibration"]
    assert report["split"] == "val" and report["images"] == 8 and set(report["overlap"]) == {"test"}
    assert any(w.startswith("calibrating on the val split") for w in report["warnings"])
    proc = run_cli("optimize", run, "--variants", "int8", "--calib-split", "test", check=False, workspace=ws)
    assert proc.returncode == 2 and "invalid choice: 'test'" in proc.stderr


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_the_size_sweep_scores_int8_per_calibration_size(leaky):
    run, ws = leaky["run"], leaky["ws"]
    result = last_json(run_cli("calibration", run, "--sizes", "4,16,0", "--json", workspace=ws))
    rows = result["rows"]
    assert [row["size"] for row in rows] == [4, 16, 32] and rows[-1]["requested"] == "all"
    for row in rows:
        assert 0 <= row["metric"] <= 1 and row["drop_pp"] == pytest.approx(100 * (result["fp32"] - row["metric"]))
        assert sum(c["images"] for c in row["coverage"]) == row["size"]  # one class per classification image
        assert row["quantize_s"] > 0 and 1 <= row["classes_covered"] <= 4
    assert rows[-1]["overlap"] == {"val": COPIES, "test": 0} and rows[-1]["warnings"]
    assert engine.saved_analysis(int(run), "calibration_sweep", workspace=ws) == result
    proc = run_cli("calibration", run, "--sizes", "4,lots", check=False, workspace=ws)
    assert proc.returncode == 2 and "expected comma-separated int values" in proc.stderr
    proc = run_cli("calibration", run, "--split", "test", check=False, workspace=ws)
    assert proc.returncode == 2 and "--calib-split" in proc.stderr


@pytest.mark.e2e  # trains and quantizes a real model (module fixture)
def test_the_optimize_page_shows_the_sweep_and_the_overlap(leaky, monkeypatch):
    run, ws = leaky["run"], leaky["ws"]
    if engine.saved_analysis(int(run), "calibration_sweep", workspace=ws) is None:
        run_cli("calibration", run, "--sizes", "4,0", workspace=ws)
    monkeypatch.setenv("STUDIO_WORKSPACE", str(ws))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["run"] = int(run)
    at.switch_page("app_pages/optimize.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert any("also in the val split" in w for w in warnings), warnings
    assert any(s.label == "Class coverage of the subset of" for s in at.selectbox)
