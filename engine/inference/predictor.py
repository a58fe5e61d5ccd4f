"""One predictor interface over PyTorch and OpenVINO: ``predict(images) -> list[Prediction]``.

Each prediction carries the time spent in pre-processing, inference and post-processing, so Compare,
Benchmark and the metrics never care which backend ran.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from engine.errors import StudioError
from engine.inference.devices import check_device
from engine.inference.prediction import Prediction, Timing
from engine.inference.preprocess import to_input
from engine.status import Backend
from engine.tasks import Task, get_task, task_of_model_type


class Predictor:
    backend = ""

    def __init__(self, task: Task, labels: list[str], img_size: int) -> None:
        self.task, self.labels, self.img_size = task, labels, img_size

    def infer(self, x: np.ndarray) -> list[np.ndarray]:
        """Run the network on one pre-processed (1, 3, H, W) input; return its outputs (the IR's, in order)."""
        raise NotImplementedError

    def draw(self, image: np.ndarray, prediction: Prediction):
        """The image with the prediction drawn by the task (PIL image)."""
        return self.task.draw(image, prediction, self.labels)

    def predict(self, images: list[np.ndarray]) -> list[Prediction]:
        """Predict RGB ``uint8`` (H, W, 3) images one by one (batch 1, the edge-latency setting)."""
        out = []
        for image in images:
            t0 = time.perf_counter()
            x = to_input(image, self.img_size)
            t1 = time.perf_counter()
            raw = self.infer(x)
            t2 = time.perf_counter()
            pred = self.task.postprocess(raw, image.shape[:2], x.shape[-2:])
            t3 = time.perf_counter()
            pred.timing = Timing((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
            out.append(pred)
        return out


class TorchPredictor(Predictor):
    backend = Backend.PYTORCH

    def __init__(self, model, task: Task, labels: list[str], img_size: int) -> None:
        import torch

        super().__init__(task, labels, img_size)
        self.model = model.eval()
        self._torch = torch

    @classmethod
    def from_checkpoint(cls, path: Path) -> TorchPredictor:
        from engine.training import checkpoint

        state = checkpoint.load(path)
        try:
            task = get_task(state["task"])
            model, _ = task.build_model(state["arch"], len(state["labels"]), pretrained=False)
            model.load_state_dict(state["model"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            detail = str(exc).splitlines()[0][:200]
            msg = (
                f"checkpoint {path} does not hold a usable {state.get('arch', '?')} model ({type(exc).__name__}:"
                f" {detail}); it was changed or copied from another run: train the run again"
            )
            raise StudioError(msg) from None
        return cls(model, task, state["labels"], state["img_size"])

    def infer(self, x: np.ndarray) -> list[np.ndarray]:
        from engine.training import threads

        threads.BUDGET.adjust()  # on the cores other processes leave free
        with self._torch.inference_mode():
            return self.task.torch_outputs(self.model, self._torch.from_numpy(x))[0]


class OpenVINOPredictor(Predictor):
    backend = Backend.OPENVINO

    def __init__(self, xml: str | Path, device: str = "CPU", config: dict | None = None) -> None:
        import openvino as ov

        xml = Path(xml)
        if not xml.is_file():
            msg = f"OpenVINO model {xml} does not exist; create it with `python -m engine optimize RUN`"
            raise StudioError(msg)
        core = ov.Core()
        check_device(core, device)
        try:
            model = core.read_model(xml)
        except RuntimeError as exc:
            detail = str(exc).strip().splitlines()[0][:200]
            msg = f"cannot read OpenVINO model {xml} ({detail}); it is damaged: export it again"
            raise StudioError(msg) from None
        info = read_model_info(model)
        shape = model.input(0).get_partial_shape()
        if shape.is_dynamic:
            msg = f"{xml} has a dynamic input shape {shape}; export it again with a static shape"
            raise StudioError(msg)
        super().__init__(info["task"], info["labels"], int(shape[2].get_length()))
        self.xml, self.device = xml, device
        try:
            self.compiled = core.compile_model(model, device, config or {})
        except RuntimeError as exc:
            detail = str(exc).strip().splitlines()[0][:200]
            msg = f"OpenVINO cannot compile {xml} for {device} ({detail}); try another device or export it again"
            raise StudioError(msg) from None
        self.request = self.compiled.create_infer_request()

    def infer(self, x: np.ndarray) -> list[np.ndarray]:
        results = self.request.infer({0: x})
        return [results[output] for output in self.compiled.outputs]


def load_predictor(path: Path, device: str = "CPU", config: dict | None = None) -> Predictor:
    """A predictor for a model file: ``best.pt`` (PyTorch) or ``model.xml`` (OpenVINO, compiled with ``config``)."""
    if Path(path).suffix == ".pt":
        return TorchPredictor.from_checkpoint(Path(path))
    return OpenVINOPredictor(path, device, config)


def read_model_info(model) -> dict:
    """The task and labels from the IR's Model API ``rt_info['model_info']``."""
    if not model.has_rt_info(["model_info", "model_type"]):
        msg = "the IR has no rt_info model_info/model_type; it was not exported by Edge Model Studio or Model API"
        raise StudioError(msg)
    model_type = model.get_rt_info(["model_info", "model_type"]).astype(str)
    labels = (
        model.get_rt_info(["model_info", "labels"]).astype(str).split()
        if model.has_rt_info(["model_info", "labels"])
        else []
    )
    task = task_of_model_type(model_type)
    return {"task": task, "labels": task.labels_from_model_api(labels)}
