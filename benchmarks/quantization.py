"""Which layers cost INT8 its accuracy, what keeping them in float buys back, and at what speed.

For each built-in sample (product defaults: the task's model, trained from random init):
 1. sample -> import -> train -> ``optimize --variants fp32,int8`` (300 train images calibrate INT8);
 2. ``sensitivity --max-drop 0`` (win back everything, to see what it costs): every quantizer group reverted
    alone and scored on val; the suggested ignored scope (at most 20 groups); then
    ``optimize --variants int8-custom`` builds it as a real INT8 IR;
 3. ``calibration_sweep`` with 16, 64, 300 and all train images, scored on val;
 4. val and test metric of fp32, int8 and int8-custom (f32 scoring hint, as optimize scores), and batch-1
    latency of the three IRs at the CPU's default precision and with the f32 hint, *interleaved in rounds*
    (median of the round medians), so the price of each layer kept in float is a ratio measured side by side;
 5. ``profile`` of the three IRs (default precision and f32): the share of the time in INT8 kernels, and the
    compute layers left in float with the reason.

Prints the CPU model, its ISA flags and OpenVINO's OPTIMIZATION_CAPABILITIES with the precision that ran.
Usage: python -m benchmarks.quantization [--tasks classification,segmentation,detection] [--rounds 5]
Writes benchmarks/results/quantization.{json,md}.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import engine
from benchmarks.common import write_results
from benchmarks.optimize import cpu_facts
from engine.benchmark.runner import timed_loop
from engine.inference.predictor import OpenVINOPredictor
from engine.pipeline.context import Context
from engine.tasks import get_task

OUT = Path(__file__).parent / "results"
IRS = ("fp32", "int8", "int8-custom")
SPLITS = ("val", "test")
SWEPT = ("size", "requested", "metric", "drop_pp", "quantize_s")
PRECISIONS = {"default": {}, "f32": {"INFERENCE_PRECISION_HINT": "f32"}}


def run_task(task: str, tmp: Path, rounds: int, iterations: int) -> dict:
    ws = tmp / task / "ws"
    engine.sample(task, str(tmp / task / "data"))
    dataset = engine.import_dataset(str(tmp / task / "data"), workspace=ws)["dataset"]
    run = engine.train(dataset, workspace=ws)["run"]
    engine.optimize(run, variants=["fp32", "int8"], workspace=ws)
    began = time.perf_counter()
    analysis = engine.sensitivity(run, max_drop=0.0, workspace=ws)
    sensitivity_s = time.perf_counter() - began
    if analysis["suggested"]["ignored_scope"]:
        engine.optimize(run, variants=["int8-custom"], workspace=ws)
    began = time.perf_counter()
    sweep = engine.calibration_sweep(run, sizes=[16, 64, 300, 0], workspace=ws)
    sweep_s = time.perf_counter() - began
    ctx = Context.open(ws)
    record = ctx.run(run)
    built = [v for v in IRS if (ctx.run_dir(record) / "variants" / v / "model.xml").is_file()]
    key = get_task(task).primary_metric
    scores = {
        v: {split: engine.evaluate(run, variant=v, split=split, workspace=ws)["metrics"][key] for split in SPLITS}
        for v in built
    }
    profiles = {
        precision: engine.profile(run, variants=built, precision=precision, iterations=100, workspace=ws)["profiles"]
        for precision in PRECISIONS
    }
    return {
        "task": task,
        "run": run,
        "profile": {
            f"{v}/{precision}": {
                "total_ms": prof["total_ms"],
                "int8_share": prof["int8_share"],
                "inference_precision": prof["inference_precision"],
                "by_precision": prof["by_precision"],
                "float_compute": _reasons(prof["float_compute"]),
            }
            for precision, by_variant in profiles.items()
            for v, prof in by_variant.items()
        },
        "metric": key,
        "groups": len(analysis["groups"]),
        "fake_quantize": analysis["fake_quantize"],
        "sensitivity_s": sensitivity_s,
        "top_groups": analysis["groups"][:5],
        "suggested": analysis["suggested"],
        "fp32_val": analysis["fp32"],
        "int8_val": analysis["int8"],
        "scores": scores,
        "latency": _latency(ctx, record, built, rounds, iterations),
        "sweep": [{k: row[k] for k in SWEPT} for row in sweep["rows"]],
        "sweep_s": sweep_s,
    }


def _reasons(layers: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for layer in layers:
        counts[layer["reason"]] = counts.get(layer["reason"], 0) + 1
    return counts


def _latency(ctx: Context, run: dict, variants: list[str], rounds: int, iterations: int) -> dict:
    configs = {
        (v, p): OpenVINOPredictor(ctx.variant_path(run, v), "CPU", config)
        for v in variants
        for p, config in PRECISIONS.items()
    }
    size = next(iter(configs.values())).img_size
    x = np.zeros((1, 3, size, size), np.float32)
    per_round: dict[tuple, list[float]] = {k: [] for k in configs}
    for predictor in configs.values():
        timed_loop(lambda p=predictor: p.infer(x), iterations=1, seconds=0, warmup=20)
    for _ in range(rounds):
        for k, predictor in configs.items():  # interleaved: every configuration once per round
            samples = timed_loop(lambda p=predictor: p.infer(x), iterations=iterations, seconds=0, warmup=3)
            per_round[k].append(statistics.median(samples))
    return {
        f"{v}/{p}": {
            "median_ms": statistics.median(per_round[(v, p)]),
            "rounds_ms": per_round[(v, p)],
            "precision_ran": configs[(v, p)].compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name(),
        }
        for v, p in configs
    }


def markdown(results: list[dict], facts: dict, rounds: int, iterations: int) -> str:
    lines = [
        f"CPU: {facts['cpu_model']} ({facts['cores']} cores; {', '.join(facts['isa'])}); OpenVINO {facts['openvino']},"
        f" OPTIMIZATION_CAPABILITIES {', '.join(facts['optimization_capabilities'])}, default precision"
        f" {facts['default_inference_precision']}. Latency: batch 1, {rounds} interleaved rounds x {iterations}"
        " requests, median of the round medians.",
        "",
        "| task | groups | sensitivity s | kept in float | val FP32 | val INT8 | val int8-custom | test FP32"
        " | test INT8 | test int8-custom | int8 ms (default) | int8-custom ms (default) | custom / int8"
        " | precision ran |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s, lat = r["scores"], r["latency"]

        def pct(variant: str, split: str, s=s) -> str:
            return f"{100 * s[variant][split]:.2f}" if variant in s else "-"

        if "int8-custom" in s:
            custom_ms = lat["int8-custom/default"]["median_ms"]
            timing = f"{custom_ms:.3f} | {custom_ms / lat['int8/default']['median_ms']:.2f}x"
        else:
            timing = "- | -"
        lines.append(
            f"| {r['task']} | {r['groups']} | {r['sensitivity_s']:.0f} | {len(r['suggested']['ignored_scope'])} layers"
            f" | {pct('fp32', 'val')} | {pct('int8', 'val')} | {pct('int8-custom', 'val')}"
            f" | {pct('fp32', 'test')} | {pct('int8', 'test')} | {pct('int8-custom', 'test')}"
            f" | {lat['int8/default']['median_ms']:.3f} | {timing} | {lat['int8/default']['precision_ran']} |"
        )
    lines += ["", "Per-layer profile (`profile`, 100 requests; share of the summed layer time):", ""]
    lines += [
        "| task | IR | precision ran | layer time ms | in INT8 kernels | compute layers in float (reason) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        for key, prof in r["profile"].items():
            reasons = "; ".join(f"{n} x {why}" for why, n in prof["float_compute"].items()) or "-"
            lines.append(
                f"| {r['task']} | {key} | {prof['inference_precision']} | {prof['total_ms']:.3f}"
                f" | {prof['int8_share']:.0%} | {reasons} |"
            )
    lines += ["", "Calibration sweep (INT8 calibrated on N train images, val metric):", ""]
    lines += ["| task | images | val metric | drop vs FP32 (pp) | quantize s |", "|---|---|---|---|---|"]
    for r in results:
        lines += [
            f"| {r['task']} | {row['size']} ({row['requested']}) | {100 * row['metric']:.2f} | {row['drop_pp']:.2f}"
            f" | {row['quantize_s']:.1f} |"
            for row in r["sweep"]
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="classification,segmentation")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    facts = cpu_facts()
    print(facts)
    with tempfile.TemporaryDirectory() as tmp:
        results = [run_task(t, Path(tmp), args.rounds, args.iterations) for t in args.tasks.split(",")]
    payload = {"cpu": facts, "rounds": args.rounds, "iterations": args.iterations, "results": results}
    write_results(OUT, "quantization", payload, markdown(results, facts, args.rounds, args.iterations))


if __name__ == "__main__":
    main()
