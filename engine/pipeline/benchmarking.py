"""The benchmark verb: every variant x device x precision of a run, saved to the run folder and database."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

from engine.benchmark import runner
from engine.choices import HINTS
from engine.errors import StudioError, choice_error
from engine.export.variants import VARIANTS, parse
from engine.pipeline.context import Context, run_log
from engine.status import JOB_ACTIVE, Backend
from engine.store.atomic import write_json

log = logging.getLogger(__name__)


def benchmark(
    ctx: Context,
    run_id: int | str,
    *,
    variants: Sequence[str] | None = None,
    devices: Sequence[str] = ("CPU",),
    hint: str = "both",
    precisions: Sequence[str] = ("default",),
    iterations: int = 200,
    seconds: float = 0.0,
    warmup: int = 10,
) -> dict:
    run = ctx.run(run_id)
    existing = [v["name"] for v in ctx.db.list_variants(run["id"])] or ["torch-fp32"]
    names = parse(variants, default=tuple(existing))
    device_list, precision_list = list(devices), list(precisions)
    _check(device_list, precision_list, hint, iterations, seconds, warmup)
    run_dir = ctx.run_dir(run)
    others = [j["title"] for j in ctx.db.list_jobs(JOB_ACTIVE) if j["pid"] != os.getpid()]
    results = []
    with run_log(run_dir):
        for name in names:
            path = ctx.variant_path(run, name)
            for device in device_list:
                for precision in precision_list:
                    if VARIANTS[name].backend == Backend.PYTORCH:
                        if device != "CPU" or precision != "default":
                            continue  # the PyTorch baseline runs once, on CPU, in its own FP32
                        res = runner.benchmark_torch(path, iterations=iterations, seconds=seconds, warmup=warmup)
                    else:
                        res = runner.benchmark_openvino(
                            path,
                            device,
                            hint=hint,
                            precision=precision,
                            iterations=iterations,
                            seconds=seconds,
                            warmup=warmup,
                        )
                    res["environment"]["other_jobs"] = others
                    if others:  # the job queue normally prevents this: say so when it happened
                        res["environment"]["contended"] = True
                        res["environment"]["note"] = f"ran while other jobs ran: {', '.join(others)}"
                    res.update(
                        {
                            "run": run["id"],
                            "variant": name,
                            "precision": VARIANTS[name].precision,
                            "hint": hint if VARIANTS[name].backend == Backend.OPENVINO else "latency",
                            "created": time.time(),
                        }
                    )
                    stem = f"{name}_{device.replace(':', '-')}_{precision}"
                    write_json(run_dir / "benchmarks" / f"{stem}.json", res)
                    ctx.db.add_benchmark(run_id=run["id"], variant=name, device=device, result=res)
                    log.info(
                        "benchmark %s on %s (%s): median %.3f ms",
                        name,
                        device,
                        precision,
                        res.get("latency_ms", {}).get("median", float("nan")),
                    )
                    results.append(res)
    # the raw per-request samples stay in the result files and the database; the summary omits them
    return {"run": run["id"], "results": [{k: v for k, v in r.items() if k != "latency_samples_ms"} for r in results]}


def _check(devices: list[str], precisions: list[str], hint: str, iterations: int, seconds: float, warmup: int) -> None:
    """Refuse settings that cannot give a measurement, before anything is measured or stored."""
    if not devices or not precisions:
        msg = "give at least one device (e.g. CPU) and one precision (e.g. default)"
        raise StudioError(msg)
    if hint not in HINTS:
        raise choice_error("hint", hint, HINTS)
    for p in precisions:
        if p not in runner.PRECISIONS:
            raise choice_error("precision", p, runner.PRECISIONS)
    if seconds < 0 or warmup < 0:
        msg = f"--seconds and --warmup cannot be negative (got {seconds:g} and {warmup}); use 0 to turn them off"
        raise StudioError(msg)
    if iterations < 1 and not seconds:
        msg = "give --iterations >= 1 or --seconds S > 0"
        raise StudioError(msg)


def benchmark_table(ctx: Context, run_id: int | str) -> dict:
    """The newest result per variant x device x precision asked, shaped for display.

    ``rows``: one per configuration with its statistics and the variant's test metric; ``samples``: every
    request's latency, for distributions; ``config`` labels are distinct per variant x device x precision."""
    run = ctx.run(run_id)
    task = ctx.task(run)
    variants = {v["name"]: v["metrics"] for v in ctx.db.list_variants(run["id"])}
    accuracy = {name: m.get(task.primary_metric) for name, m in variants.items()}
    latest = {}
    for b in ctx.db.list_benchmarks(run["id"]):
        r = b["result"]
        latest[(r["variant"], r["device"], r.get("precision_requested"))] = r
    rows, samples = [], []
    for (variant, device, asked), r in latest.items():
        ran = r.get("inference_precision")
        # what ran, and whether it was the device's own choice: distinct for every variant x device x precision asked
        config = f"{variant} · {device} · {ran or asked}" + (" (default)" if asked == "default" else " (asked)")
        lat, fps = r.get("latency_ms", {}), r.get("throughput", {})
        rows.append(
            {
                "config": config,
                "variant": variant,
                "device": device,
                "precision asked": asked,
                "precision ran": ran,
                **{f"{k} ms": lat.get(k) for k in ("median", "mean", "p90", "p99", "min", "max")},
                "fps": fps.get("fps"),
                "streams": fps.get("streams"),
                "nireq": fps.get("nireq"),
                "compile ms": r.get("compile_ms"),
                "first inference ms": r.get("first_inference_ms"),
                "contended": bool(r.get("environment", {}).get("contended")),
                "metric": accuracy.get(variant),
            }
        )
        samples += [{"config": config, "latency_ms": value} for value in r.get("latency_samples_ms", [])]
    pick = _rate(rows, variants, task)
    return {
        "run": run["id"],
        "metric": task.primary_metric,
        "metric_name": task.metric_name,
        "rows": rows,
        "samples": samples,
        "contended": any(row["contended"] for row in rows),
        "pick": pick,
        "headline": headline(rows, variants, pick, task.primary_metric),
        "explanation": _explanation(ctx, task.name, run["model"]),
    }


def _explanation(ctx: Context, task: str, arch: str) -> str:
    """Why INT8 does (not) speed this architecture up on this CPU: its ISA tier and what was measured (on this
    CPU with ``measure_int8``, else the committed zoo table)."""
    from engine.benchmark.machine import isa
    from engine.models import zoo
    from engine.pipeline.int8_gains import measured_here

    return zoo.explain(task, arch, isa(), measured_here(ctx))


FASTER = 1.05  # a speed-up below this is within the timing noise of a shared machine: not "faster"


def _rate(rows: list[dict], variants: dict[str, dict], task) -> dict | None:
    """Add each row's speed-up over the FP32 IR at the device's default precision (same device) and whether
    it is faster and keeps accuracy (the task's rule: for classification per class too); return the fastest
    such row (None when no variant is faster here)."""
    default = [r for r in rows if r["precision asked"] == "default"]
    reference = {r["device"]: r["median ms"] for r in default if r["variant"] == "fp32"}
    for row in rows:
        base, median = reference.get(row["device"]), row["median ms"]
        row["speed-up vs FP32"] = base / median if base and median else None
        kept, why = task.accuracy_kept(variants.get(row["variant"], {}), variants.get("torch-fp32", {}))
        row["keeps accuracy"], row["accuracy lost"] = kept, why
        row["faster"] = bool(row["speed-up vs FP32"] and row["speed-up vs FP32"] >= FASTER)
    candidates = [  # an optimized variant is an IR made from the FP32 one: never the PyTorch model or FP32 itself
        r for r in default if r["faster"] and r["keeps accuracy"] and not r["contended"] and _optimizes(r["variant"])
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda r: r["speed-up vs FP32"])
    return {key: best[key] for key in ("variant", "device", "precision ran", "median ms", "speed-up vs FP32")}


def _why_not(row: dict) -> str:
    """Why the headline's variant is not the optimized one, as a phrase after its name (rows rated by _rate)."""
    if not row.get("faster"):
        return "not faster than the FP32 IR here"
    if not row.get("keeps accuracy"):
        return f"faster, but it loses accuracy ({row['accuracy lost']})"
    return "faster, but measured while other processes used the CPU: benchmark it again on an idle machine"


def _optimizes(variant: str) -> bool:
    """Whether ``variant`` is an optimization of the FP32 IR (FP16, INT8, pruned...), not the baseline itself."""
    return VARIANTS[variant].backend == Backend.OPENVINO and variant != "fp32"


def headline(rows: list[dict], variants: dict[str, dict], pick: dict | None, metric: str) -> dict | None:
    """The result in one line: the optimized variant (else INT8, else the fastest IR) against the original
    PyTorch model (speed-up of benchmarked medians on the same device) and the FP32 IR, its metric change in
    points against PyTorch and its size ratio against the FP32 IR. None before any IR is benchmarked."""
    default = {(r["variant"], r["device"]): r for r in rows if r["precision asked"] == "default" and r["median ms"]}
    irs = [r for (name, _), r in default.items() if VARIANTS[name].backend == Backend.OPENVINO]
    if not irs:
        return None
    if pick is not None:
        best = default[(pick["variant"], pick["device"])]
    else:
        int8 = [r for r in irs if r["variant"] == "int8" and r["device"] == "CPU"]
        best = int8[0] if int8 else min(irs, key=lambda r: r["median ms"])
    original = default.get(("torch-fp32", "CPU"))
    fp32 = default.get(("fp32", best["device"]))
    chosen, torch_metrics = variants.get(best["variant"], {}), variants.get("torch-fp32", {})
    change = None
    if chosen.get(metric) is not None and torch_metrics.get(metric) is not None:
        change = 100 * (chosen[metric] - torch_metrics[metric])
    return {
        "variant": best["variant"],
        "device": best["device"],
        "precision_ran": best["precision ran"],
        "median_ms": best["median ms"],
        "optimized": pick is not None,
        "why_not": None if pick is not None else _why_not(best),
        "original_ms": original["median ms"] if original else None,
        "speedup_vs_original": original["median ms"] / best["median ms"] if original else None,
        "speedup_vs_fp32_ir": fp32["median ms"] / best["median ms"] if fp32 and best is not fp32 else None,
        "metric_change_pp": change,
        "size_ratio_vs_fp32": chosen.get("size_ratio_vs_fp32"),
        "contended": best["contended"] or bool(original and original["contended"]),
    }
