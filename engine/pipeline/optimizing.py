"""The optimize and evaluate verbs: export IR variants from the trained model and score every variant."""

from __future__ import annotations

import logging

from engine.data import stored
from engine.errors import StudioError
from engine.evaluation.evaluate import agreement_rate, evaluate_samples
from engine.export import convert
from engine.export.variants import DEFAULT_OPTIMIZE, VARIANTS, BuildContext, parse
from engine.inference.predictor import OpenVINOPredictor, Predictor, TorchPredictor
from engine.pipeline.context import Context, run_log
from engine.store.atomic import write_json

log = logging.getLogger(__name__)

# Accuracy is scored in full precision so a variant's number reflects its own weights and quantization,
# not the CPU's default BF16 execution (which the benchmark reports separately).
EVAL_CONFIG = {"INFERENCE_PRECISION_HINT": "f32"}


def load_predictor(ctx: Context, run: dict, variant: str, device: str = "CPU", config: dict | None = None) -> Predictor:
    path = ctx.variant_path(run, variant)
    if VARIANTS[variant].backend == "pytorch":
        return TorchPredictor.from_checkpoint(path)
    return OpenVINOPredictor(path, device, EVAL_CONFIG if config is None else config)


def optimize(
    ctx: Context, run_id: int | str, *, variants: str | list[str] | None = None, calib_size: int = 300, seed: int = 0
) -> dict:
    run = ctx.run(run_id)
    names = parse(variants, default=DEFAULT_OPTIMIZE, exportable_only=True)
    if calib_size < 1:
        msg = f"--calib-size must be at least 1, got {calib_size}"
        raise StudioError(msg)
    baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
    spec, labels, img_size = baseline.spec, baseline.labels, baseline.img_size
    folder = ctx.dataset_dir(run["dataset_id"])
    test = stored.split_samples(folder, "test", run["task"])
    run_dir = ctx.run_dir(run)
    results: dict[str, dict] = {}
    with run_log(run_dir):
        base_metrics, base_preds = evaluate_samples(baseline, test)
        refs = {"torch-fp32": base_preds}
        results["torch-fp32"] = _record(
            ctx,
            run,
            "torch-fp32",
            _state_dict_bytes(baseline.model),
            base_metrics,
            base_preds,
            refs,
            base_metrics,
            spec,
        )
        build = BuildContext(
            fp32_model=convert.to_openvino(baseline.model, img_size, spec),
            finish=lambda m: convert.finish(m, spec, baseline.model, img_size, labels),
            torch_model=baseline.model,
            train_samples=stored.split_samples(folder, "train", run["task"]),
            val_samples=stored.split_samples(folder, "val", run["task"]),
            spec=spec,
            labels=labels,
            img_size=img_size,
            calib_size=calib_size,
            seed=seed,
        )
        for name in names:
            log.info("run %s: building %s (%s)", run["id"], name, VARIANTS[name].how)
            ov_model, fp16 = VARIANTS[name].build(build)
            xml = convert.save_ir(ov_model, run_dir / "variants" / name, fp16=fp16)
            metrics, preds = evaluate_samples(OpenVINOPredictor(xml, "CPU", EVAL_CONFIG), test)
            results[name] = _record(ctx, run, name, convert.ir_size(xml), metrics, preds, refs, base_metrics, spec)
            if name == "fp32":
                refs["fp32"] = preds
    fp32_size = results.get("fp32", {}).get("size_bytes") or results["torch-fp32"]["size_bytes"]
    for entry in results.values():
        entry["size_ratio_vs_fp32"] = fp32_size / entry["size_bytes"]
    return {"run": run["id"], "primary_metric": spec.primary_metric, "variants": results}


def _record(ctx, run, name, size, metrics, preds, refs, base_metrics, spec) -> dict:
    """Save one variant's scores: metric, drop vs the PyTorch model, agreement with the references."""
    key = spec.primary_metric
    entry = {
        "variant": name,
        "precision": VARIANTS[name].precision,
        "backend": VARIANTS[name].backend,
        "size_bytes": size,
        key: metrics[key],
        "drop_vs_torch_pp": 100 * (base_metrics[key] - metrics[key]),
        "agreement": {ref: agreement_rate(spec, preds, p) for ref, p in refs.items()},
        "eval_precision": "f32",
        "metrics": metrics,
    }
    path = ctx.variant_path(run, name)
    if VARIANTS[name].backend == "openvino":
        write_json(path.parent / "metrics.json", entry)
    ctx.db.upsert_variant(
        run_id=run["id"], name=name, precision=entry["precision"], path=str(path), size_bytes=size, metrics=entry
    )
    return entry


def _state_dict_bytes(model) -> int:
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def evaluate(
    ctx: Context, run_id: int | str, *, variant: str = "torch-fp32", split: str = "test", device: str = "CPU"
) -> dict:
    run = ctx.run(run_id)
    predictor = load_predictor(ctx, run, variant, device)
    samples = stored.split_samples(ctx.dataset_dir(run["dataset_id"]), split, run["task"])
    metrics, _ = evaluate_samples(predictor, samples)
    return {"run": run["id"], "variant": variant, "split": split, "device": device, "metrics": metrics}
