"""Detection, segmentation and instance segmentation speed/accuracy on the built-in samples (a script, not a test).

For each task:
 1. write the sample dataset and import it;
 2. train the default configuration from random init (wall time and the per-epoch learning curve recorded);
 3. build OpenVINO FP32, FP16 and INT8 through the product's variant table (detection: the network is
    quantized, decoding + NMS appended in float) and score every configuration on the test split with
    the task's metric (mAP@0.5 / mIoU);
 4. time batch-1 latency of every configuration interleaved in rounds and report medians and the INT8
    speed-up against each (PyTorch eager, OV FP32 with the f32 hint, OV default precision = BF16 here);
 5. time the task's second architecture the same way (random init: speed only).

Usage: python -m benchmarks.tasks [--tasks detection,segmentation --rounds 5 --iterations 100]
       python -m benchmarks.tasks --tasks instance_segmentation --splits train=160,val=20,test=20 --epochs 8 \
           --iterations 20 --name tasks-instance_segmentation   (a smaller sample and schedule, recorded)
Writes <out>/<name>.json and <out>/<name>.md and prints the tables.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time
from pathlib import Path

import engine
from benchmarks.common import measure, run_meta, write_results
from engine.inference.predictor import TorchPredictor
from engine.pipeline.context import Context
from engine.store.atomic import read_jsonl
from engine.tasks import get_task

SECOND_ARCH = {
    "detection": "retinanet_mobilenet_v3_large_fpn",
    "segmentation": "deeplabv3_mobilenet_v3_large",
    "instance_segmentation": "maskrcnn_mobilenet_v3_large_fpn",
}


def write_sample(task: str, out: Path, splits: dict[str, int] | None) -> None:
    if not splits:
        engine.sample(task, out)
        return
    module = importlib.import_module(get_task(task).sample.module)
    module.generate(out, module.SampleConfig(splits=tuple(splits.items())))


def run_task(task: str, tmp: Path, rounds: int, iterations: int, splits: dict | None, epochs: int | None) -> dict:
    ws = tmp / task / "ws"
    write_sample(task, tmp / task / "sample", splits)
    dataset = engine.import_dataset(tmp / task / "sample", workspace=ws)["dataset"]
    t0 = time.perf_counter()
    trained = engine.train(dataset, workspace=ws, **({"epochs": epochs} if epochs else {}))
    train_s = time.perf_counter() - t0
    ctx = Context.open(ws)
    run = ctx.run(trained["run"])
    train, test = ctx.samples(run, "train"), ctx.samples(run, "test")
    baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
    key = baseline.task.primary_metric
    curve = [
        {"epoch": e["epoch"], "elapsed_s": round(e["elapsed_s"], 1), key: round(e[key], 4)}
        for e in read_jsonl(ctx.run_dir(run) / "events.jsonl")
        if e.get("type") == "epoch"
    ]
    size = baseline.img_size
    rows = measure(baseline, size, train, test, tmp / task / run["model"], rounds, iterations)
    second, _ = baseline.task.build_model(SECOND_ARCH[task], len(baseline.labels), pretrained=False)
    second_rows = measure(
        TorchPredictor(second, baseline.task, baseline.labels, size),
        size,
        train,
        None,
        tmp / task / SECOND_ARCH[task],
        rounds,
        iterations,
    )
    return {
        "task": task,
        "metric": key,
        "model": run["model"],
        "img_size": size,
        "sample_splits": {s: len(ctx.samples(run, s)) for s in ("train", "val", "test")},
        "train_s": train_s,
        "epochs_done": trained["epochs_done"],
        "curve": curve,
        "rows": rows + second_rows,
    }


def markdown(results: list[dict], meta: dict) -> str:
    lines = [
        f"CPU: {meta['cpu']}, OpenVINO {meta['openvino']}. Batch-1 synchronous latency on the first test image (a"
        f" black image for the random-init rows), {meta['rounds']} interleaved"
        f" rounds x {meta['iterations']} requests, median of the round medians; speed-up = this latency / INT8"
        " (default precision) latency. Detection latency includes decoding + NMS (in the IR for OpenVINO,"
        " torchvision's for PyTorch); instance segmentation's the RoI heads and a 28x28 mask per box.",
        "",
    ]
    for result in results:
        key = result["metric"]
        lines += [
            f"### {result['task']}: {result['model']} at {result['img_size']} px",
            "",
            f"Default config trained from random init in {result['train_s']:.0f} s ({result['epochs_done']} epochs"
            + (f", sample {_splits(result['sample_splits'])}" if "sample_splits" in result else "")
            + f"); {key} on the test split. Learning curve (val {key} by elapsed seconds): "
            + ", ".join(f"{c['elapsed_s']:.0f}s {c[key]:.3f}" for c in result["curve"]),
            "",
            f"| model | configuration | precision run | test {key} | latency ms | INT8 speed-up vs this | IR MB |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in result["rows"]:
            size = f"{r['ir_bytes'] / 1e6:.2f}" if r["ir_bytes"] else "-"
            value = f"{r[key]:.3f}" if r[key] is not None else "- (random init)"
            lines.append(
                f"| {r['model']} | {r['config']} | {r['inference_precision']} | {value} "
                f"| {r['latency_ms_median']:.2f} | {r['int8_speedup']:.2f}x | {size} |"
            )
        lines.append("")
    return "\n".join(lines)


def _splits(splits: dict[str, int]) -> str:
    return "/".join(f"{n} {s}" for s, n in splits.items())


def _parse_splits(text: str | None) -> dict[str, int] | None:
    return {k: int(v) for k, v in (part.split("=") for part in text.split(","))} if text else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="detection,segmentation")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--splits", help="sample images per split, e.g. train=160,val=20,test=20 (default: the task's)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: the task's)")
    parser.add_argument("--name", default="tasks", help="results file stem under --out")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    splits = _parse_splits(args.splits)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results = [run_task(t, tmp, args.rounds, args.iterations, splits, args.epochs) for t in args.tasks.split(",")]
    meta = run_meta(args.rounds, args.iterations)
    write_results(out, args.name, {"meta": meta, "results": results}, markdown(results, meta))


if __name__ == "__main__":
    main()
