"""Data-parallel training (``train --nproc N``, torchrun + gloo on CPU) against one process, side by side.

Each round trains the same run (tiny built-in sample, same seed, same global batch) once per process count,
interleaved, through the CLI as a user would. Reported: median epoch time (first epoch dropped), training
images per second, the per-epoch training loss and the final validation metric, so both the speed and the
"same result within noise" are on one table. On a 2-core machine two processes share the cores with gloo's
all-reduce, so expect no speed-up here: DDP pays off with more cores or more machines.

Writes ``benchmarks/results/ddp_training.{json,md}``. Run: ``python -m benchmarks.ddp_training``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import engine
from benchmarks.common import write_results
from engine.benchmark.machine import cpu_facts

OUT = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def train_once(ws: Path, dataset: int, nproc: int, args: argparse.Namespace, key: str) -> dict:
    env = {**os.environ, "STUDIO_WORKSPACE": str(ws)}
    cmd = [sys.executable, "-m", "engine", "train", "--dataset", str(dataset), "--epochs", str(args.epochs),
           "--img-size", str(args.img_size), "--batch-size", str(args.batch_size), "--nproc", str(nproc),
           "--device", "cpu", "--json"]  # fmt: skip
    began = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - began
    run = json.loads(out.strip().splitlines()[-1])["run"]
    shown = engine.show_run(run, workspace=ws)
    epochs = shown["epochs"]
    return {
        "run": run,
        "wall_s": wall,
        "epoch_s": statistics.median(e["epoch_s"] for e in epochs[1:]),
        "images_per_s": statistics.median(e["images_per_s"] for e in epochs[1:]),
        "train_loss": [e["train_loss"] for e in epochs],
        "metric": max(e[key] for e in epochs),  # the best epoch's, the checkpoint the run keeps
    }


def table(facts: dict, rows: list[dict], args: argparse.Namespace, key: str) -> str:
    lines = [
        f"CPU: {facts['cpu_model']} ({facts['cores']} cores; {', '.join(facts['isa'])}). Tiny classification"
        f" sample, {args.img_size} px, global batch {args.batch_size}, {args.epochs} epochs, medians of"
        f" {args.rounds} interleaved rounds (first epoch dropped).",
        "",
        f"| processes | s/epoch | train images/s | wall s (incl. start-up) | train loss per epoch | val {key} |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        losses = " / ".join(f"{v:.2f}" for v in r["train_loss"])
        speed = f"{r['epoch_s']:.2f} | {r['images_per_s']:.0f} | {r['wall_s']:.1f}"
        lines.append(f"| {r['nproc']} | {speed} | {losses} | {r['metric']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--img-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--nproc", default="1,2", help="process counts to compare")
    args = parser.parse_args()
    counts = [int(n) for n in args.nproc.split(",")]
    facts = cpu_facts()
    began = time.perf_counter()
    samples: dict[int, list[dict]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        engine.get_task("classification").write_sample(Path(tmp) / "data", tiny=True)
        ws = Path(tmp) / "ws"
        dataset = engine.import_dataset(str(Path(tmp) / "data"), workspace=ws)["dataset"]
        key = engine.get_task("classification").primary_metric
        for _ in range(args.rounds):
            for n in counts:  # interleaved: every process count once per round
                result = train_once(ws, dataset, n, args, key)
                samples[n].append(result)
                print(f"  {n} process(es): {result['epoch_s']:.2f} s/epoch, val {key} {result['metric']}", flush=True)
    rows = []
    for n in counts:
        runs = samples[n]
        rows.append({
            "nproc": n,
            "epoch_s": statistics.median(r["epoch_s"] for r in runs),
            "images_per_s": statistics.median(r["images_per_s"] for r in runs),
            "wall_s": statistics.median(r["wall_s"] for r in runs),
            "train_loss": runs[-1]["train_loss"],
            "metric": statistics.median(r["metric"] for r in runs),
            "rounds": runs,
        })  # fmt: skip
    payload = {"cpu": facts, "args": vars(args), "rows": rows, "seconds": time.perf_counter() - began}
    write_results(OUT, "ddp_training", payload, table(facts, rows, args, key))


if __name__ == "__main__":
    main()
