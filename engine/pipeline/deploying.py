"""Package a variant for deployment: the IR, its labels and metadata, and how to run it."""

from __future__ import annotations

import io
import json
import zipfile

from engine.errors import StudioError
from engine.export import model_info
from engine.export.variants import VARIANTS
from engine.pipeline.context import Context

RESULT_LINES = {  # how each task's Model API result is read
    "classification": "print(result.top_labels[0])\n",
    "detection": "for box, score, label in zip(result.bboxes, result.scores, result.label_names):\n"
    "    print(label, score, box)  # x1 y1 x2 y2 in image pixels\n",
    "segmentation": "mask = result.resultImage  # (H, W) class index per pixel\n",
}


def snippets(run: dict, variant: str) -> dict[str, str]:
    cli = f"python -m engine predict {run['id']} --variant {variant} image.jpg --save out/"
    python = (
        "import cv2\n"
        "from model_api.models import Model\n\n"
        'model = Model.create_model("model.xml", device="CPU")  # reads rt_info[\'model_info\']\n'
        'result = model(cv2.imread("image.jpg"))  # Model API takes BGR images\n'
        + RESULT_LINES.get(run["task"], "print(result)\n")
    )
    openvino = (
        "import numpy as np, openvino as ov\n\n"
        'compiled = ov.Core().compile_model("model.xml", "CPU")\n'
        "# input: RGB image resized to the model's input size, (x / 255 - mean) / std, NCHW float32\n"
        "outputs = compiled(np.zeros(compiled.input(0).shape, np.float32))\n"
        "# classification: logits; detection: boxes [1,N,5] + labels [1,N]; segmentation: scores [1,C,H,W]\n"
    )
    return {"cli": cli, "model_api": python, "openvino": openvino}


def package(ctx: Context, run_id: int | str, variant: str) -> tuple[str, bytes]:
    """(file name, zip bytes) with model.xml/.bin, labels.txt, model_info.json and README.txt."""
    run = ctx.run(run_id)
    if VARIANTS.get(variant) is None or VARIANTS[variant].backend != "openvino":
        valid = [n for n, v in VARIANTS.items() if v.backend == "openvino"]
        msg = f"only OpenVINO variants can be deployed ({', '.join(valid)}), not {variant!r}"
        raise StudioError(msg)
    xml = ctx.variant_path(run, variant)
    import openvino as ov

    info = model_info.read(ov.Core().read_model(xml))
    text = snippets(run, variant)
    readme = (
        f"Edge Model Studio run {run['id']} ({run['model']}, {run['task']}), variant {variant}.\n\n"
        f"Model API (Python):\n\n{text['model_api']}\nOpenVINO runtime:\n\n{text['openvino']}"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(xml, "model.xml")
        zf.write(xml.with_suffix(".bin"), "model.bin")
        zf.writestr("labels.txt", "\n".join(info.get("labels", "").split()) + "\n")
        zf.writestr("model_info.json", json.dumps(info, indent=2) + "\n")
        zf.writestr("README.txt", readme)
    return f"run{run['id']}-{run['model']}-{variant}.zip", buffer.getvalue()
