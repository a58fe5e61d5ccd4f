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
import tempfile
import time
from pathlib import Path

import engine
from benchmarks.common import measure, run_meta, write_results
from engine.inference.predictor import TorchPredictor
from engine.pipeline.context import Context


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
        engine.sample(engine.DEFAULT_TASK, str(tmp / "sample"))
        dataset = engine.import_dataset(str(tmp / "sample"), workspace=ws)["dataset"]
        t0 = time.perf_counter()
        trained = engine.train(dataset, workspace=ws)
        train_s = time.perf_counter() - t0
        ctx = Context.open(ws)
        run = ctx.run(trained["run"])
        train, test = ctx.samples(run, "train"), ctx.samples(run, "test")
        baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
        rows = measure(baseline, baseline.img_size, train, test, tmp / run["model"], args.rounds, args.iterations)
        task = baseline.task
        for arch in args.archs.split(","):
            model, _ = task.build_model(arch, len(baseline.labels), pretrained=False)
            random_init = TorchPredictor(model, task, baseline.labels, 224)
            rows += measure(random_init, 224, train, None, tmp / arch, args.rounds, args.iterations)
    meta = {
        "model": run["model"],
        "train_s": train_s,
        "epochs_done": trained["epochs_done"],
        "test_top1": rows[0]["top1"],
        **run_meta(args.rounds, args.iterations),
    }
    write_results(out, "classification", {"meta": meta, "rows": rows}, markdown(rows, meta))


if __name__ == "__main__":
    main()
