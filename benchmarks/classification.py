"""Classification speed/accuracy benchmark on the built-in sample (a script, not a test).

Steps (NNCF-example style):
 1. write the sample dataset and import it;
 2. train the default configuration from random init (wall time recorded);
 3. optimize: OpenVINO FP32, FP16 and INT8 (NNCF PTQ) at the sample's resolution, each scored on test;
 4. export the same weights at 224x224 too (the size published numbers use), quantized the same way;
 5. time batch-1 synchronous latency of every configuration *interleaved* in rounds (shared machines
    drift by tens of percent between runs, so configurations are compared within each round) and
    report the median over rounds, plus the INT8 speed-up against every other configuration.

Usage: python benchmarks/classification.py [--rounds 5 --iterations 200 --out benchmarks/results]
Writes <out>/classification.json and <out>/classification.md and prints the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import openvino as ov

import engine
from engine.benchmark.runner import timed_loop
from engine.compression.ptq import quantize_int8
from engine.data import stored
from engine.evaluation.evaluate import evaluate_samples
from engine.export import convert
from engine.inference.predictor import OpenVINOPredictor, TorchPredictor
from engine.inference.preprocess import to_input
from engine.pipeline.context import Context

F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def configurations(ctx: Context, run: dict, size: int, folder: Path, out: Path):
    """(name, predictor factory) for every configuration at input ``size``; IRs written under ``out``."""
    baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
    baseline.img_size = size
    spec, labels = baseline.spec, baseline.labels
    fp32 = convert.to_openvino(baseline.model, size, spec, labels)
    train = stored.split_samples(folder, "train", run["task"])
    paths = {
        "fp32": convert.save_ir(fp32, out / f"fp32_{size}", fp16=False),
        "fp16": convert.save_ir(fp32, out / f"fp16_{size}", fp16=True),
        "int8": convert.save_ir(quantize_int8(fp32, train, size, calib_size=300), out / f"int8_{size}", fp16=False),
    }
    return [
        ("PyTorch eager FP32", lambda: baseline),
        ("OV FP32 (f32 hint)", lambda: OpenVINOPredictor(paths["fp32"], "CPU", F32)),
        ("OV FP32 (default: bf16)", lambda: OpenVINOPredictor(paths["fp32"], "CPU", {})),
        ("OV FP16 (default: bf16)", lambda: OpenVINOPredictor(paths["fp16"], "CPU", {})),
        ("OV INT8 (f32 hint)", lambda: OpenVINOPredictor(paths["int8"], "CPU", F32)),
        ("OV INT8 (default)", lambda: OpenVINOPredictor(paths["int8"], "CPU", {})),
    ], paths


def measure(ctx, run, size, folder, out, rounds, iterations) -> list[dict]:
    configs, paths = configurations(ctx, run, size, folder, out)
    test = stored.split_samples(folder, "test", run["task"])
    predictors = {name: make() for name, make in configs}
    rows = {name: {"config": name, "size": size} for name in predictors}
    for name, predictor in predictors.items():
        metrics, _ = evaluate_samples(predictor, test)
        rows[name]["top1"] = metrics["top1"]
        rows[name]["inference_precision"] = _precision(predictor)
    x = to_input(np.zeros((size, size, 3), dtype=np.uint8), size)
    per_round: dict[str, list[float]] = {name: [] for name in predictors}
    for _ in range(rounds):
        for name, predictor in predictors.items():  # interleaved: every config once per round
            samples = timed_loop(lambda p=predictor: p.infer(x), iterations=iterations, seconds=0, warmup=20)
            per_round[name].append(statistics.median(samples))
    for name in predictors:
        rows[name]["latency_ms_median"] = statistics.median(per_round[name])
        rows[name]["latency_ms_rounds"] = per_round[name]
    sizes = {
        "OV FP32": convert.ir_size(paths["fp32"]),
        "OV FP16": convert.ir_size(paths["fp16"]),
        "OV INT8": convert.ir_size(paths["int8"]),
    }
    for name, row in rows.items():
        row["ir_bytes"] = next((v for k, v in sizes.items() if name.startswith(k)), None)
    int8 = rows["OV INT8 (default)"]
    for row in rows.values():
        row["int8_speedup"] = row["latency_ms_median"] / int8["latency_ms_median"]
        row["top1_drop_int8_pp"] = 100 * (row["top1"] - int8["top1"])
    return list(rows.values())


def _precision(predictor) -> str:
    if predictor.backend == "pytorch":
        return "f32"
    return predictor.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"Sample classification, {meta['model']} trained from random init in {meta['train_s']:.0f} s "
        f"({meta['epochs_done']} epochs, test top-1 {meta['test_top1']:.1%}); {meta['rounds']} interleaved rounds "
        f"x {meta['iterations']} batch-1 requests, median of round medians. CPU: {meta['cpu']}.",
        "",
        "| input | configuration | precision run | test top-1 | latency ms (median) | INT8 speed-up vs this |"
        " IR size MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        size = f"{r['ir_bytes'] / 1e6:.2f}" if r["ir_bytes"] else "-"
        lines.append(
            f"| {r['size']}x{r['size']} | {r['config']} | {r['inference_precision']} | {r['top1']:.1%} "
            f"| {r['latency_ms_median']:.3f} | {r['int8_speedup']:.2f}x | {size} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--sizes", default="sample,224", help="input sizes: 'sample' (training size) and/or ints")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ws = tmp / "ws"
        engine.sample("classification", tmp / "sample")
        dataset = engine.import_dataset(tmp / "sample", workspace=ws)["dataset"]
        t0 = time.perf_counter()
        trained = engine.train(dataset, workspace=ws)
        train_s = time.perf_counter() - t0
        ctx = Context.open(ws)
        run = ctx.run(trained["run"])
        folder = ctx.dataset_dir(dataset)
        sizes = [run["config"]["img_size"] if s == "sample" else int(s) for s in args.sizes.split(",")]
        rows = []
        for size in sizes:
            rows += measure(ctx, run, size, folder, tmp / "irs", args.rounds, args.iterations)
    test_top1 = next(r["top1"] for r in rows if r["config"] == "PyTorch eager FP32" and r["size"] == sizes[0])
    meta = {
        "model": run["model"],
        "train_s": train_s,
        "epochs_done": trained["epochs_done"],
        "test_top1": test_top1,
        "rounds": args.rounds,
        "iterations": args.iterations,
        "openvino": ov.get_version(),
        "cpu": ov.Core().get_property("CPU", "FULL_DEVICE_NAME"),
    }
    table = markdown(rows, meta)
    (out / "classification.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    (out / "classification.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
