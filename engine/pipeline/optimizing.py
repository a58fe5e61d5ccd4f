"""The optimize and evaluate verbs: export IR variants from the trained model and score every variant."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.choices import CALIB_SIZE
from engine.errors import StudioError
from engine.evaluation.evaluate import agreement_rate, evaluate_samples
from engine.export import convert
from engine.export.variants import DEFAULT_OPTIMIZE, SETTINGS, VARIANTS, BuildContext, VariantSettings, parse
from engine.inference.predictor import OpenVINOPredictor, Predictor, TorchPredictor, load_predictor
from engine.pipeline.context import IR_FILES, Context, run_log
from engine.pipeline.network import calibration_set
from engine.pipeline.sensitivity import suggested_scope
from engine.status import Backend
from engine.store import integrity
from engine.store.atomic import write_json

if TYPE_CHECKING:
    from engine.tasks.base import Task

log = logging.getLogger(__name__)

# Accuracy is scored in full precision so a variant's number reflects its own weights and quantization,
# not the CPU's default BF16 execution (which the benchmark reports separately).
EVAL_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}


def variant_predictor(
    ctx: Context, run: dict, variant: str, device: str = "CPU", config: dict | None = None
) -> Predictor:
    """A run's variant ready to predict (OpenVINO compiled with ``config``, by default the f32 scoring hint)."""
    return load_predictor(ctx.variant_path(run, variant), device, EVAL_CONFIG if config is None else config)


def optimize(
    ctx: Context,
    run_id: int | str,
    *,
    variants: Sequence[str] | None = None,
    calib_size: int = CALIB_SIZE,
    calib_split: str = "train",
    ignored_scope: str | Sequence[str] | None = None,
    settings: Mapping[type[VariantSettings], VariantSettings] | None = None,
    seed: int = 0,
) -> dict:
    run = ctx.run(run_id)
    names, scope = _plan(ctx, run, variants, read_scope(ignored_scope), calib_size)
    given = settings or {}
    settings = {  # every variant's settings checked (and filled from the run) before any work
        kind: (given.get(kind) or kind()).resolved(run["config"], calib_size=calib_size, seed=seed) for kind in SETTINGS
    }
    subset, calibration = calibration_set(ctx, run, calib_split, calib_size, seed)
    quantizes = [n for n in names if VARIANTS[n].precision == "INT8" and n != "int8-qat"]
    for warning in calibration["warnings"] if quantizes else ():
        log.warning("calibration: %s", warning)
    baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
    task, labels, img_size = baseline.task, baseline.labels, baseline.img_size
    run_dir = ctx.run_dir(run)
    fp32_network = convert.to_openvino(baseline.model, img_size, task)
    if "int8-custom" in names:
        _check_scope(scope, fp32_network)  # before anything is rebuilt
    failed: dict[str, str] = {}
    with run_log(run_dir):
        book = _Scores.of_baseline(ctx, run, baseline, fp32_built="fp32" in names)
        build = BuildContext(
            fp32_model=fp32_network,
            finish=lambda m, model=None: convert.finish(m, task, model or baseline.model, img_size, labels),
            convert=lambda model: convert.to_openvino(model, img_size, task),
            torch_model=baseline.model,
            train_samples=ctx.samples(run, "train"),
            val_samples=ctx.samples(run, "val"),
            calibration=subset,
            task=task,
            labels=labels,
            img_size=img_size,
            seed=seed,
            ignored_scope=tuple(scope),
            settings=settings,
            folder=run_dir,
            source=_source(ctx.variant_path(run, "torch-fp32")),
        )
        for name in names:
            log.info("run %s: building %s (%s)", run["id"], name, VARIANTS[name].how)
            try:
                ov_model, fp16 = VARIANTS[name].build(build)
            except Exception as exc:  # one variant that cannot be built costs that variant, not the others
                failed[name] = variant_failure(exc)
                log.warning("run %s: %s failed: %s", run["id"], name, failed[name], exc_info=True)
                continue
            notes = build.notes.get(name, {}) | ({"calibration": calibration} if name in quantizes else {})
            book.add(name, convert.save_ir(ov_model, run_dir / "variants" / name, fp16=fp16), notes)
    if failed and len(failed) == len(names):
        first = next(iter(failed.items()))
        msg = f"no variant could be built: {first[0]}: {first[1]}" + (
            f" (and {len(failed) - 1} more, see {run_dir / 'log.txt'})" if len(failed) > 1 else ""
        )
        raise StudioError(msg)
    return {"run": run["id"], "primary_metric": task.primary_metric, "variants": book.results, "failed": failed}


def _plan(ctx: Context, run: dict, variants: Sequence[str] | None, scope: list[str], calib_size: int):
    """The variants to build, in order, and the ignored scope of ``int8-custom`` (the suggested one when none
    is given): a scope makes its own variant, alone or beside the ones asked for (e.g. plain int8, to compare)."""
    names = parse(variants, default=("int8-custom",) if scope else DEFAULT_OPTIMIZE, exportable_only=True)
    if scope and "int8-custom" not in names:
        names = parse([*names, "int8-custom"], default=DEFAULT_OPTIMIZE)
    if calib_size < 1:
        msg = f"--calib-size must be at least 1, got {calib_size}"
        raise StudioError(msg)
    task = ctx.task(run)
    refused = [n for n in names if n in task.unsupported_variants]
    if refused:
        why = "; ".join(f"{n} cannot be built for {task.name}: {task.unsupported_variants[n]}" for n in refused)
        msg = f"{why}; leave {'it' if len(refused) == 1 else 'them'} out of --variants"
        raise StudioError(msg)
    if "int8-custom" in names and not scope:
        scope = suggested_scope(ctx, run)
    return names, scope


@dataclass
class _Scores:
    """Every variant scored on the run's test split against the PyTorch model (and the FP32 IR), each saved
    as soon as it is scored: a cancelled optimize keeps what it built."""

    ctx: Context
    run: dict
    task: Task
    test: list
    earlier: dict[str, dict]  # the variants stored before this call
    base_metrics: dict = field(default_factory=dict)
    refs: dict[str, list] = field(default_factory=dict)  # predictions agreement is measured against
    results: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def of_baseline(cls, ctx: Context, run: dict, baseline: TorchPredictor, *, fp32_built: bool) -> _Scores:
        earlier = {v["name"]: v for v in ctx.db.list_variants(run["id"])}
        book = cls(ctx, run, baseline.task, ctx.samples(run, "test"), earlier)
        book.base_metrics, book.refs["torch-fp32"] = evaluate_samples(baseline, book.test)
        size = _state_dict_bytes(baseline.model)
        book.results["torch-fp32"] = book.score("torch-fp32", size, book.base_metrics, book.refs["torch-fp32"])
        book.record("torch-fp32")
        if not fp32_built and "fp32" in earlier:  # agreement with the stored FP32 IR, as when it is built
            _, book.refs["fp32"] = evaluate_samples(variant_predictor(ctx, run, "fp32"), book.test)
        return book

    def add(self, name: str, xml: Path, notes: dict) -> None:
        metrics, preds = evaluate_samples(OpenVINOPredictor(xml, "CPU", EVAL_CONFIG), self.test)
        self.results[name] = self.score(name, convert.ir_size(xml), metrics, preds) | notes
        self.record(name)
        if name == "fp32":
            self.refs["fp32"] = preds
            self.record("torch-fp32")  # its ratio now refers to this FP32 IR

    def score(self, name: str, size: int, metrics: dict, preds: list) -> dict:
        """One variant's scores: metric, drop vs the PyTorch model, agreement with the references."""
        key = self.task.primary_metric
        return {
            "variant": name,
            "precision": VARIANTS[name].precision,
            "backend": VARIANTS[name].backend,
            "size_bytes": size,
            key: metrics[key],
            "drop_vs_torch_pp": 100 * (self.base_metrics[key] - metrics[key]),
            "agreement": {ref: agreement_rate(self.task, preds, p) for ref, p in self.refs.items()},
            "eval_precision": "f32",
            "metrics": metrics,
        }

    def record(self, name: str) -> None:
        """Save a variant with its size ratio to this call's FP32 IR, or to the stored one; what is stored is
        exactly what is returned."""
        fp32_size = self.results.get("fp32", self.earlier.get("fp32", {})).get("size_bytes")
        entry = self.results[name]
        entry["size_ratio_vs_fp32"] = fp32_size / entry["size_bytes"] if fp32_size else None
        _save(self.ctx, self.run, name, entry)


def variant_failure(exc: BaseException) -> str:
    """One line for a variant that could not be built: the message of an ordinary condition (a StudioError
    says what to do), else the exception's type and first line (the traceback is in the run's log)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return first if isinstance(exc, StudioError) else f"{type(exc).__name__}: {first}"


def _check_scope(scope: list[str], network) -> None:
    names = {op.get_friendly_name() for op in network.get_ops()}
    unknown = [name for name in scope if name not in names]
    if unknown:
        ops = network.get_ordered_ops()
        example = next(op.get_friendly_name() for op in ops if op.get_type_name() == "Convolution")
        msg = (
            f"--ignored-scope: the network has no layer {unknown[0]!r}"
            f"{f' (and {len(unknown) - 1} more)' if len(unknown) > 1 else ''}; its layers are named like {example!r}:"
            " `python -m engine sensitivity RUN` lists the quantized ones"
        )
        raise StudioError(msg)


def read_scope(value: str | Sequence[str] | None) -> list[str]:
    """``--ignored-scope``: comma-separated layer names, or a file of them (one per line, ``#`` comments; or
    JSON: a list, or a saved ``sensitivity.json`` whose suggested scope is used)."""
    if not value:
        return []
    if not isinstance(value, str):
        return [str(name) for name in value]
    path = Path(value)
    if not path.is_file():
        return [name.strip() for name in value.split(",") if name.strip()]
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]
    if isinstance(data, dict):
        data = data.get("suggested", {}).get("ignored_scope")
    if not isinstance(data, list) or not all(isinstance(name, str) for name in data):
        kind = type(data).__name__
        msg = f"--ignored-scope {path}: expected a list of layer names (or a sensitivity.json), got {kind}"
        raise StudioError(msg)
    return data


def _source(best: Path) -> dict:
    """Identifies the trained checkpoint (QAT checkpoints of an older best.pt are not resumed)."""
    stat = best.stat()
    return {"checkpoint": best.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _save(ctx: Context, run: dict, name: str, entry: dict) -> None:
    path = ctx.variant_path(run, name, verify=False)
    if VARIANTS[name].backend == Backend.OPENVINO:  # the IR's hashes: every later use checks them first
        entry["files"] = integrity.digests(path.parent, IR_FILES)
    write_json(ctx.run_dir(run) / "variants" / name / "metrics.json", entry)  # what `workspace repair` reads
    ctx.db.upsert_variant(
        run_id=run["id"],
        name=name,
        precision=entry["precision"],
        path=str(path),
        size_bytes=entry["size_bytes"],
        metrics=entry,
    )


def _state_dict_bytes(model) -> int:
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def evaluate(
    ctx: Context, run_id: int | str, *, variant: str = "torch-fp32", split: str = "test", device: str = "CPU"
) -> dict:
    run = ctx.run(run_id)
    metrics, _ = evaluate_samples(variant_predictor(ctx, run, variant, device), ctx.samples(run, split))
    return {"run": run["id"], "variant": variant, "split": split, "device": device, "metrics": metrics}
