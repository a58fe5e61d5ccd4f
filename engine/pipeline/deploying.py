"""The deploy verb: a variant's IR with its labels and metadata, and how to run it, as one zip."""

from __future__ import annotations

import io
import json
import shlex
import sys
import zipfile
from pathlib import Path

from engine.errors import StudioError, choice_error
from engine.export import model_info
from engine.export.onnx_export import FORMATS, ONNX_VARIANTS
from engine.export.variants import VARIANTS
from engine.pipeline.context import Context
from engine.status import Backend
from engine.store.atomic import write_bytes

REPO = Path(__file__).resolve().parents[2]  # where ``python -m engine`` is importable from


def snippets(ctx: Context, run: dict, variant: str) -> dict[str, str]:
    """How to run the deployed model, each runnable as printed from any folder: the product's CLI, Model API,
    and the bare OpenVINO runtime. Paths are absolute (the workspace's IR, which is what the zip holds, and
    one of the run's test images as the example input)."""
    from engine.inference.preprocess import MEAN, STD

    task = ctx.task(run)
    xml = ctx.variant_path(run, variant)
    samples = ctx.samples(run, "test") or ctx.samples(run, "val")
    image = str(Path(samples[0][0]).resolve()) if samples else "image.jpg"
    labels = ctx.db.get_dataset(run["dataset_id"])["info"]["labels"]
    cli = (
        f"PYTHONPATH={shlex.quote(str(REPO))} {shlex.quote(sys.executable)} -m engine predict {run['id']}"
        f" {shlex.quote(image)}"
        f" --variant {variant} --save out/ --workspace {shlex.quote(str(ctx.ws.root.resolve()))}"
    )
    model_api = (
        "import cv2\n"
        "from model_api.models import Model\n\n"
        f'model = Model.create_model({str(xml)!r}, device="CPU")  # from the zip: "model.xml"\n'
        f"result = model(cv2.imread({image!r}))  # Model API takes BGR images; rt_info['model_info'] does the rest\n"
        + task.deploy_result
    )
    openvino = (
        "import cv2\n"
        "import numpy as np\n"
        "import openvino as ov\n\n"
        f"LABELS = {labels!r}\n"
        f"MEAN, STD = np.array({list(MEAN)!r}), np.array({list(STD)!r})  # on 0-1 RGB\n"
        f'compiled = ov.Core().compile_model({str(xml)!r}, "CPU")  # from the zip: "model.xml"\n'
        f"image = cv2.cvtColor(cv2.imread({image!r}), cv2.COLOR_BGR2RGB)\n"
        "h, w = compiled.input(0).shape[2:]\n"
        "x = cv2.resize(image.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) / 255.0  # in float\n"
        "x = ((x - MEAN) / STD).transpose(2, 0, 1)[None].astype(np.float32)  # NCHW\n"
        "outputs = compiled(x)\n" + task.deploy_openvino_result
    )
    return {"cli": cli, "model_api": model_api, "openvino": openvino}


def deploy(
    ctx: Context,
    run_id: int | str,
    variant: str,
    out: str | Path | None = None,
    ovms: str | Path | None = None,
    name: str | None = None,
    fmt: str = "openvino",
) -> dict:
    """Write ``model.xml/.bin``, ``labels.txt``, ``model_info.json`` and ``README.txt`` as one zip to ``out``
    (default: ``<run>/deploy/<name>.zip``); or, with ``ovms``, the IR as the next version of model ``name``
    (default ``<architecture>-<variant>``) in that OpenVINO Model Server repository; or, with ``fmt="onnx"``,
    the FP32 network as ``model.onnx`` in the zip. Returns where it is, what it holds and the snippets."""
    if fmt not in FORMATS:
        raise choice_error("--format", fmt, FORMATS)
    if fmt == "onnx":
        return _onnx(ctx, ctx.run(run_id), variant, out, ovms)
    run = ctx.run(run_id)
    if VARIANTS.get(variant) is None or VARIANTS[variant].backend != Backend.OPENVINO:
        valid = [n for n, v in VARIANTS.items() if v.backend == Backend.OPENVINO]
        msg = f"only OpenVINO variants can be deployed ({', '.join(valid)}), not {variant!r}"
        raise StudioError(msg)
    if ovms is not None and out is not None:
        msg = "give --out (a zip) or --ovms (a model repository), not both"
        raise StudioError(msg)
    xml = ctx.variant_path(run, variant)
    if ovms is not None:
        return _to_ovms(ctx, run, variant, xml, Path(ovms), name or f"{run['model']}-{variant}")
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
    files = {"model.xml": xml, "model.bin": xml.with_suffix(".bin")}
    texts = {
        "labels.txt": "\n".join(info.get("labels", "").split()) + "\n",
        "model_info.json": json.dumps(info, indent=2) + "\n",
        "README.txt": readme,
    }
    return _zip_result(run, variant, target, files, texts, text)


def _to_ovms(ctx: Context, run: dict, variant: str, xml: Path, repo: Path, name: str) -> dict:
    from engine.pipeline import ovms_repository

    version = ovms_repository.publish(xml, repo, name)
    folder = Path(version["path"])
    return {
        "run": run["id"],
        "variant": variant,
        "path": str(folder),
        "size_bytes": sum(f.stat().st_size for f in folder.iterdir()),
        "files": sorted(f.name for f in folder.iterdir()),
        "snippets": snippets(ctx, run, variant),
        "ovms": version,
    }


def _onnx(ctx: Context, run: dict, variant: str, out: str | Path | None, ovms) -> dict:
    """The run's trained FP32 network as ONNX, zipped with its labels and how to run it."""
    from engine.export.onnx_export import to_onnx
    from engine.inference.predictor import TorchPredictor

    if variant not in ONNX_VARIANTS:
        msg = (
            f"--format onnx writes the FP32 network ({', '.join(ONNX_VARIANTS)}), not {variant!r}: INT8 variants are"
            " OpenVINO IRs (deploy them with --format openvino)"
        )
        raise StudioError(msg)
    if ovms is not None:
        msg = "--ovms publishes OpenVINO IRs; drop --format onnx, or drop --ovms to write an ONNX zip"
        raise StudioError(msg)
    name = f"run{run['id']}-{run['model']}-fp32-onnx.zip"
    target = Path(out) if out else ctx.run_dir(run) / "deploy" / name
    if target.is_dir():
        msg = f"--out {target} is a folder; give the path of the zip file to write, e.g. {target / name}"
        raise StudioError(msg)
    baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
    task, size = baseline.task, baseline.img_size
    onnx_path = to_onnx(baseline.model, task, size, ctx.run_dir(run) / "deploy" / "model.onnx")
    outputs = list(task.network_output_names or task.output_names)
    readme = (
        f"Edge Model Studio run {run['id']} ({run['model']}, {run['task']}), FP32 network as ONNX (opset 17).\n"
        f"Input 'image': float32 [1, 3, {size}, {size}], RGB scaled to 0-1 and normalised with ImageNet's mean and"
        f" std. Outputs: {', '.join(outputs)}.\n"
        + (
            "Box decoding and NMS are not in the ONNX graph (the OpenVINO IR of this run has them).\n"
            if task.network_output_names
            else ""
        )
        + "\nOpenVINO reads it directly:\n\n    import openvino as ov\n"
        "    compiled = ov.Core().compile_model('model.onnx', 'CPU')\n"
    )
    labels = ctx.db.get_dataset(run["dataset_id"])["info"]["labels"]
    texts = {"labels.txt": "\n".join(labels) + "\n", "README.txt": readme}
    return _zip_result(run, variant, target, {"model.onnx": onnx_path}, texts, {"onnx": readme})


def _zip_result(run: dict, variant: str, target: Path, files: dict, texts: dict, snippets: dict) -> dict:
    """Write ``files`` (name -> path) and ``texts`` (name -> text) as one zip at ``target``, atomically; the
    deploy result that describes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in files.items():
            zf.write(path, name)
        for name, text in texts.items():
            zf.writestr(name, text)
        names = zf.namelist()
    write_bytes(target, buffer.getvalue())
    return {
        "run": run["id"],
        "variant": variant,
        "path": str(target),
        "size_bytes": target.stat().st_size,
        "files": names,
        "snippets": snippets,
        "ovms": None,
    }
