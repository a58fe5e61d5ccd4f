"""Read-only verbs: runs, their variants and benchmarks, and the OpenVINO devices of this machine."""

from __future__ import annotations

from engine.export.variants import VARIANTS
from engine.pipeline.context import Context
from engine.store.atomic import read_jsonl
from engine.tasks import primary_metric


def list_runs(ctx: Context) -> list[dict]:
    """Every run with its best validation value of the task's metric (``val_metric``, named ``metric_name``)."""
    out = []
    for r in ctx.runs():
        key, name = primary_metric(r["task"])  # no task module (and no torch) to list runs
        value = r["metrics"].get(f"val_{key}")
        out.append(
            {
                "run": r["id"],
                "dataset": r["dataset_id"],
                "task": r["task"],
                "model": r["model"],
                "status": r["status"],
                "metric_name": name,
                "val_metric": value if isinstance(value, float) else None,
                "variants": [v["name"] for v in ctx.db.list_variants(r["id"])],
                "metrics": r["metrics"],
            }
        )
    return out


def variant_table(ctx: Context, run_id: int | str) -> dict:
    """The run's variants as a table: test metric, drop, agreement with FP32, size and size ratio (as stored)."""
    run = ctx.run(run_id)
    task = ctx.task(run)
    variants = sorted(ctx.db.list_variants(run["id"]), key=lambda v: list(VARIANTS).index(v["name"]))
    original = next((v["metrics"] for v in variants if v["name"] == "torch-fp32"), {})
    rows = [
        {
            "variant": v["name"],
            "precision": v["precision"],
            "backend": v["metrics"].get("backend"),
            "metric": v["metrics"].get(task.primary_metric),
            **{name: v["metrics"].get("metrics", {}).get(key) for key, name in task.side_metrics.items()},
            "drop vs PyTorch (pp)": v["metrics"].get("drop_vs_torch_pp"),
            "agreement with FP32": v["metrics"].get("agreement", {}).get("fp32"),
            "size (MB)": v["size_bytes"] / 1e6,
            "size ratio vs FP32": v["metrics"].get("size_ratio_vs_fp32"),
            "MACs vs original": v["metrics"].get("pruning", {}).get("macs_ratio"),
            "calibration": _calibration(v["metrics"].get("calibration")),
            "layers kept in float": len(v["metrics"]["ignored_scope"]) if "ignored_scope" in v["metrics"] else None,
            "keeps accuracy": task.accuracy_kept(v["metrics"], original)[0] if v["name"] != "torch-fp32" else None,
            "accuracy lost": task.accuracy_kept(v["metrics"], original)[1] if v["name"] != "torch-fp32" else None,
        }
        for v in variants
    ]
    warnings = dict.fromkeys(w for v in variants for w in v["metrics"].get("calibration", {}).get("warnings", []))
    return {
        "run": run["id"],
        "metric": task.primary_metric,
        "metric_name": task.metric_name,
        "rows": rows,
        "warnings": list(warnings),
    }


def _calibration(report: dict | None) -> str | None:
    """``300 train`` (and the overlap, when calibration images are also in val or test)."""
    if not report:
        return None
    shared = ", ".join(f"{n} in {split}" for split, found in report["overlap"].items() if (n := found["images"]))
    return f"{report['images']} {report['split']}" + (f" ({shared})" if shared else "")


def show_run(ctx: Context, run_id: int | str) -> dict:
    run = ctx.run(run_id)
    run_dir = ctx.run_dir(run)
    epochs = [e for e in read_jsonl(run_dir / "events.jsonl") if e.get("type") == "epoch"]
    return {
        "run": run["id"],
        "dataset": run["dataset_id"],
        "task": run["task"],
        "model": run["model"],
        "status": run["status"],
        "folder": str(run_dir),
        "config": run["config"],
        "metrics": run["metrics"],
        "epochs": epochs,
        "variants": [{k: v for k, v in row.items() if k != "run_id"} for row in ctx.db.list_variants(run["id"])],
        "benchmarks": [
            {
                "variant": b["variant"],
                "device": b["device"],
                "precision_requested": b["result"].get("precision_requested"),
                "inference_precision": b["result"].get("inference_precision"),
                "median_ms": b["result"].get("latency_ms", {}).get("median"),
                "fps": b["result"].get("throughput", {}).get("fps"),
            }
            for b in ctx.db.list_benchmarks(run["id"])
        ],
    }


def devices() -> list[dict]:
    """OpenVINO devices with their key properties, plus AUTO."""
    import openvino as ov

    core = ov.Core()
    out = []
    for name in core.available_devices:
        entry = {"device": name}
        for prop in (
            "FULL_DEVICE_NAME",
            "OPTIMIZATION_CAPABILITIES",
            "INFERENCE_PRECISION_HINT",
            "RANGE_FOR_STREAMS",
            "DEVICE_ARCHITECTURE",
        ):
            try:
                value = core.get_property(name, prop)
            except RuntimeError:
                continue
            entry[prop.lower()] = value.get_type_name() if hasattr(value, "get_type_name") else value
        out.append(entry)
    out.append(
        {
            "device": "AUTO",
            "full_device_name": "Automatic selection among " + ", ".join(core.available_devices),
        }
    )
    return out


def settings_rows(shown: dict) -> list[dict]:
    """A run's settings as (setting, value) rows that cannot be misread: ``pretrained`` is what was *asked*
    (use ImageNet weights when present), so the weights actually used are their own row."""
    rows = []
    for key, value in shown["config"].items():
        if isinstance(value, dict | list):
            continue
        rows.append({"setting": "ImageNet weights asked for" if key == "pretrained" else key, "value": value})
    used = shown["metrics"].get("pretrained")
    if used is not None:
        rows.append({"setting": "weights used", "value": "ImageNet (pretrained)" if used else "random init"})
    for key, why in (shown["config"].get("chosen") or {}).items():
        rows.append({"setting": f"why {key}", "value": why})
    return rows
