"""Classification speed/accuracy benchmark on the built-in sample (a script, not a test).

Steps (NNCF-example style):
 1. write the sample dataset and import it;
 2. train the default configuration from random init (wall time recorded);
 3. optimize: OpenVINO FP32, FP16 and INT8 (NNCF PTQ) at the sample's resolution, each scored on test;
 4. time every classification architecture at 224x224 (the size published numbers use), random-init
    weights, quantized the same way on the same calibration images;
 5. time batch-1 synchronous latency of every configuration *interleaved* in rounds (shared machines
    drift by tens of percent between runs, so configurations are compared within each round) and
    report the median over rounds, plus the INT8 speed-up against every other configuration.

Usage: python -m benchmarks.classification [--rounds 5 --iterations 200 --out benchmarks/results]
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
from engine.data import stored
from engine.evaluation.evaluate import evaluate_samples
from engine.export import convert
from engine.export.variants import VARIANTS, BuildContext
from engine.inference.predictor import OpenVINOPredictor, TorchPredictor
from engine.inference.preprocess import to_input
from engine.pipeline.context import Context

F32 = {"INFERENCE_PRECISION_HINT": "f32"}


def configurations(baseline: TorchPredictor, size: int, calib: list, out: Path) -> tuple[list, dict]:
    """(name, predictor) for every configuration of ``baseline``'s weights at input ``size``.

    The IRs are built by the product's own variant table, so this measures what ``optimize`` produces.
    """
    spec, labels, stem = baseline.spec, baseline.labels, f"{out.name}_{size}"
    build = BuildContext(
        fp32_model=convert.to_openvino(baseline.model, size, spec, labels),
        train_samples=calib,
        val_samples=[],
        spec=spec,
        labels=labels,
        img_size=size,
        calib_size=300,
        seed=0,
    )
    paths = {}
    for name in ("fp32", "fp16", "int8"):
        model, fp16 = VARIANTS[name].build(build)
        paths[name] = convert.save_ir(model, out / f"{name}_{stem}", fp16=fp16)
    torch_at_size = TorchPredictor(baseline.model, spec, labels, size)
    return [
        ("PyTorch eager FP32", torch_at_size),
        ("OV FP32 (f32 hint)", OpenVINOPredictor(paths["fp32"], "CPU", F32)),
        ("OV FP32 (default: bf16)", OpenVINOPredictor(paths["fp32"], "CPU", {})),
        ("OV FP16 (default: bf16)", OpenVINOPredictor(paths["fp16"], "CPU", {})),
        ("OV INT8 (f32 hint)", OpenVINOPredictor(paths["int8"], "CPU", F32)),
        ("OV INT8 (default)", OpenVINOPredictor(paths["int8"], "CPU", {})),
    ], paths


def measure(
    baseline: TorchPredictor, size: int, calib: list, test: list | None, out: Path, rounds: int, iterations: int
) -> list[dict]:
    """Accuracy on ``test`` (when given) and interleaved batch-1 latency of every configuration."""
    configs, paths = configurations(baseline, size, calib, out)
    rows = {name: {"model": out.name, "config": name, "size": size, "top1": None} for name, _ in configs}
    for name, predictor in configs:
        rows[name]["inference_precision"] = _precision(predictor)
        if test is not None:
            rows[name]["top1"] = evaluate_samples(predictor, test)[0]["top1"]
    x = to_input(np.zeros((size, size, 3), dtype=np.uint8), size)
    per_round: dict[str, list[float]] = {name: [] for name, _ in configs}
    for _ in range(rounds):
        for name, predictor in configs:  # interleaved: every configuration once per round
            samples = timed_loop(lambda p=predictor: p.infer(x), iterations=iterations, seconds=0, warmup=20)
            per_round[name].append(statistics.median(samples))
    sizes = {"OV FP32": paths["fp32"], "OV FP16": paths["fp16"], "OV INT8": paths["int8"]}
    for name, row in rows.items():
        row["latency_ms_median"] = statistics.median(per_round[name])
        row["latency_ms_rounds"] = per_round[name]
        row["ir_bytes"] = next((convert.ir_size(v) for k, v in sizes.items() if name.startswith(k)), None)
    int8 = rows["OV INT8 (default)"]
    for row in rows.values():
        row["int8_speedup"] = row["latency_ms_median"] / int8["latency_ms_median"]
        if test is not None:
            row["top1_drop_int8_pp"] = 100 * (row["top1"] - int8["top1"])
    return list(rows.values())


def _precision(predictor) -> str:
    if predictor.backend == "pytorch":
        return "f32"
    return predictor.compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"CPU: {meta['cpu']}, OpenVINO {meta['openvino']}. Batch-1 synchronous latency, {meta['rounds']} interleaved"
        f" rounds x {meta['iterations']} requests, median of the round medians; speed-up = this latency / INT8"
        " (default precision) latency.",
        "",
        f"Trained default ({meta['model']}, random init, {meta['train_s']:.0f} s of training, {meta['epochs_done']}"
        " epochs) at the sample resolution; top-1 on the 200 test images. At 224 x 224 every architecture is"
        " timed with random-init weights (speed does not depend on the weights; top-1 is not meaningful there).",
        "",
        "| model | input | configuration | precision run | test top-1 | latency ms | INT8 speed-up vs this | IR MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        size = f"{r['ir_bytes'] / 1e6:.2f}" if r["ir_bytes"] else "-"
        top1 = f"{r['top1']:.1%}" if r["top1"] is not None else "-"
        lines.append(
            f"| {r['model']} | {r['size']} | {r['config']} | {r['inference_precision']} | {top1} "
            f"| {r['latency_ms_median']:.3f} | {r['int8_speedup']:.2f}x | {size} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument(
        "--archs",
        default="mobilenet_v3_small,mobilenet_v3_large,efficientnet_b0,resnet18",
        help="architectures timed at 224x224",
    )
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
        train = stored.split_samples(folder, "train", run["task"])
        test = stored.split_samples(folder, "test", run["task"])
        baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
        rows = measure(baseline, baseline.img_size, train, test, tmp / run["model"], args.rounds, args.iterations)
        spec = baseline.spec
        for arch in args.archs.split(","):
            model, _ = spec.build_model(arch, len(baseline.labels), pretrained=False)
            random_init = TorchPredictor(model, spec, baseline.labels, 224)
            rows += measure(random_init, 224, train, None, tmp / arch, args.rounds, args.iterations)
    meta = {
        "model": run["model"],
        "train_s": train_s,
        "epochs_done": trained["epochs_done"],
        "test_top1": rows[0]["top1"],
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
