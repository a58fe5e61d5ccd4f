"""Every Deploy snippet, executed exactly as the page prints it, from a temporary folder, for every task."""

from __future__ import annotations

import subprocess
import sys

import pytest

import engine
from engine.tasks import TASK_NAMES

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("task", TASK_NAMES)
def test_each_snippet_runs_as_printed_from_any_folder_and_prints_the_prediction(prepared, task, tmp_path):
    pipeline = prepared(task)
    ws, run = pipeline["ws"], pipeline["train"]["run"]
    package = engine.deploy(run, variant="int8", workspace=ws)
    snippets = package["snippets"]
    assert "np.zeros" not in snippets["openvino"] and "image.jpg" not in "".join(snippets.values())
    image = snippets["openvino"].split("cv2.imread(")[1].split(")")[0].strip("'\"")
    ours = engine.predict(run, [image], variant="int8", workspace=ws)["predictions"][0]

    printed = {}
    for kind, code in snippets.items():
        command = ["bash", "-c", code] if kind == "cli" else [sys.executable, "-c", code]
        proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, f"{kind} snippet failed:\n{code}\n{proc.stderr[-2000:]}"
        assert proc.stdout.strip(), f"{kind} snippet printed nothing"
        printed[kind] = proc.stdout
    assert (tmp_path / "out").is_dir()  # the CLI's --save out/ landed in the folder it ran from

    if task == "classification":  # every snippet names the class the product predicts
        assert all(ours["label_name"] in out for out in printed.values()), (ours, printed)
    elif task == "detection":  # the same number of confident boxes (the product draws those scoring >= 0.3)
        confident = len(ours["detections"])
        assert f"{confident} box(es) scoring at least 30 %" in printed["openvino"], (ours, printed["openvino"])
    elif task == "instance_segmentation":  # the same confident instances, class by class, in both readers
        names = sorted(d["label_name"] for d in ours["detections"])
        assert names and f"{len(names)} instance(s) above" in printed["model_api"], (ours, printed["model_api"])
        for kind in ("model_api", "openvino"):
            words = [line.split() for line in printed[kind].splitlines()]
            assert sorted(w[0] for w in words if w and w[0] in pipeline["dataset"]["labels"]) == names, printed[kind]
    else:  # the class covering most of the image in the product's mask is in the snippet's too
        main = max(ours["class_area"], key=ours["class_area"].get)
        assert f"'{main}'" in printed["openvino"], (ours, printed["openvino"])
