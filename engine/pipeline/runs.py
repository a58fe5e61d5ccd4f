"""Read-only verbs: runs, their variants and benchmarks, and the OpenVINO devices of this machine."""

from __future__ import annotations

from engine.pipeline.context import Context
from engine.store.atomic import read_jsonl


def list_runs(ctx: Context) -> list[dict]:
    return [
        {
            "run": r["id"],
            "dataset": r["dataset_id"],
            "task": r["task"],
            "model": r["model"],
            "status": r["status"],
            "variants": [v["name"] for v in ctx.db.list_variants(r["id"])],
            "metrics": r["metrics"],
        }
        for r in ctx.db.list_runs()
    ]


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
