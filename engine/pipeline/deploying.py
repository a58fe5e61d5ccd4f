"""The deploy verb: a variant's IR with its labels and metadata, and how to run it, as one zip."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from engine.errors import StudioError
from engine.export import model_info
from engine.export.variants import VARIANTS
from engine.pipeline.context import Context
from engine.store.atomic import write_bytes


def snippets(ctx: Context, run: dict, variant: str) -> dict[str, str]:
    """How to run the deployed model: the product's CLI, Model API, and the bare OpenVINO runtime."""
    cli = f"python -m engine predict {run['id']} --variant {variant} image.jpg --save out/ --workspace {ctx.ws.root}"
    model_api = (
        "import cv2\n"
        "from model_api.models import Model\n\n"
        'model = Model.create_model("model.xml", device="CPU")  # reads rt_info[\'model_info\']\n'
        'result = model(cv2.imread("image.jpg"))  # Model API takes BGR images\n' + ctx.task(run).deploy_result
    )
    openvino = (
        "import numpy as np, openvino as ov\n\n"
        'compiled = ov.Core().compile_model("model.xml", "CPU")\n'
        "# input: RGB image resized to the model's input size, (x / 255 - mean) / std, NCHW float32\n"
        "outputs = compiled(np.zeros(compiled.input(0).shape, np.float32))\n"
        f"# outputs: {', '.join(ctx.task(run).output_names)}\n"
    )
    return {"cli": cli, "model_api": model_api, "openvino": openvino}


def deploy(ctx: Context, run_id: int | str, variant: str, out: str | Path | None = None) -> dict:
    """Write ``model.xml/.bin``, ``labels.txt``, ``model_info.json`` and ``README.txt`` as one zip to ``out``
    (default: ``<run>/deploy/<name>.zip``); return where it is, what it holds and the snippets."""
    run = ctx.run(run_id)
    if VARIANTS.get(variant) is None or VARIANTS[variant].backend != "openvino":
        valid = [n for n, v in VARIANTS.items() if v.backend == "openvino"]
        msg = f"only OpenVINO variants can be deployed ({', '.join(valid)}), not {variant!r}"
        raise StudioError(msg)
    xml = ctx.variant_path(run, variant)
    name = f"run{run['id']}-{run['model']}-{variant}.zip"
    target = Path(out) if out else ctx.run_dir(run) / "deploy" / name
    if target.is_dir():
        msg = f"--out {target} is a folder; give the path of the zip file to write, e.g. {target / name}"
        raise StudioError(msg)
    import openvino as ov

    info = model_info.read(ov.Core().read_model(xml))
    text = snippets(ctx, run, variant)
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
        files = zf.namelist()
    write_bytes(target, buffer.getvalue())
    return {
        "run": run["id"],
        "variant": variant,
        "path": str(target),
        "size_bytes": target.stat().st_size,
        "files": files,
        "snippets": text,
    }
