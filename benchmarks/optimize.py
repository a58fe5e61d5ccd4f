"""The compression ladder, measured: is each variant faster than the FP32 model on this CPU, at the same accuracy?

For each dataset (the three built-in samples, the classification sample trained at 224 px, and each task's sample
trained at a realistic input with an INT8-friendly architecture: ``classification-160-resnet18``,
``segmentation-256-lraspp_resnet18``, ``detection-320-retinanet_resnet18_fpn``, on shorter schedules that fit 2 cores):
 1. write the sample, import it, train from random init (product defaults, or the dataset's overrides);
 2. build fp32, int8, int8-qat, pruned and pruned-int8 (or ``--variants``) with the product's ``optimize``;
 3. score every variant on the test split (f32 scoring hint, as the product does);
 4. time batch-1 latency of every configuration *interleaved in rounds* (PyTorch eager FP32, OV FP32 with the
    f32 hint, OV FP32 at the CPU's default precision, and each variant at the default precision) and report
    the median of the round medians — each round times the IRs in a new process that never loads PyTorch
    (``interleaved_latency_apart``: a process sometimes runs sub-millisecond networks at half speed for its
    whole life) and PyTorch in this one; async throughput (THROUGHPUT hint) per IR afterwards, in this process;
 5. optionally (``--search-minutes``) run the product's ``search`` on the 64-px classification sample and
    time its pick in the same rounds.

Every row gets its ratio to the FP32 IR at the default precision, to the f32 hint and to PyTorch; for each
dataset the JSON records the fastest variant that keeps accuracy (task thresholds) and its
``speedup_vs_fp32_default``. The CPU model, its ISA flags and OpenVINO's OPTIMIZATION_CAPABILITIES are printed.

Usage: python -m benchmarks.optimize [--datasets classification,detection,segmentation,classification-224,...]
                                     [--variants int8,int8-qat,pruned,pruned-int8] [--epochs N]
                                     [--settings '{"prune_recovery": 3}']
                                     [--rounds 7 --iterations 100 --search-minutes 0] [--keep DIR]
Writes benchmarks/results/optimize.json and optimize.md (datasets of earlier runs are kept, each with its CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import engine
from benchmarks.common import write_results
from engine.benchmark.interleaved import interleaved_latency_apart
from engine.benchmark.machine import cpu_facts
from engine.benchmark.runner import benchmark_openvino, timed_loop
from engine.compression.prune import count
from engine.export.convert import ir_size
from engine.inference.predictor import TorchPredictor
from engine.pipeline.context import Context

DATASETS = {  # name -> (task, training overrides)
    "classification": ("classification", {}),
    "detection": ("detection", {}),
    "segmentation": ("segmentation", {}),
    "classification-224": ("classification", {"img_size": 224, "batch_size": 32}),
    # realistic inputs, INT8-friendly architectures (benchmarks/results/zoo.md), schedules that fit 2 cores
    # ResNet-18 from random init at 160 px sits at chance (loss ln 4) for 5 epochs at the default peak lr (2e-3)
    "classification-160-resnet18": (
        "classification",
        {"model": "resnet18", "img_size": 160, "epochs": 8, "lr": 5e-4},
    ),
    "segmentation-256-lraspp_resnet18": ("segmentation", {"model": "lraspp_resnet18", "img_size": 256, "epochs": 12}),
    # RetinaNet-ResNet18 (GroupNorm head) at the product's learning rate for it (2e-3)
    "detection-320-retinanet_resnet18_fpn": (
        "detection",
        {"model": "retinanet_resnet18_fpn", "img_size": 320, "epochs": 10},
    ),
}
VARIANTS = ["fp32", "int8", "int8-qat", "pruned", "pruned-int8"]
F32 = {"INFERENCE_PRECISION_HINT": "f32"}


@dataclass
class Config:
    """One timed configuration: the PyTorch baseline (no IR) or an IR, at the default precision or ``hint``."""

    label: str
    variant: str
    xml: Path | None = None
    hint: dict = field(default_factory=dict)
    given: dict | None = None  # a metric scored elsewhere (the search pick's), else the variant's own
    latencies: list[float] = field(default_factory=list)  # ms, one median per interleaved round
    precision: str = ""  # what the timing process reported it ran in


def prepare(name: str, tmp: Path, variants: list[str], epochs: int | None, settings: dict) -> tuple[Path, dict]:
    """Sample -> import -> train (the product's defaults under the dataset's overrides) -> optimize ``variants``
    (with the variants' ``settings``, e.g. ``prune_recovery``; none: the product's defaults)."""
    task, overrides = DATASETS[name]
    overrides = {**overrides, **({"epochs": epochs} if epochs else {})}
    ws = tmp / name / "ws"
    engine.sample(task, str(tmp / name / "data"))
    dataset = engine.import_dataset(str(tmp / name / "data"), workspace=ws)["dataset"]
    began = time.perf_counter()
    trained = engine.train(dataset, workspace=ws, **overrides)
    train_s = time.perf_counter() - began
    began = time.perf_counter()
    engine.optimize(trained["run"], variants=variants, workspace=ws, **settings)
    return ws, {
        "dataset": dataset,
        "run": trained["run"],
        "arch": trained["model"],
        "epochs_done": trained["epochs_done"],
        "train_s": train_s,
        "optimize_s": time.perf_counter() - began,
        "optimize_settings": settings,
    }


def measure(
    name: str, ws: Path, info: dict, variants: list[str], rounds: int, iterations: int, extra: dict[str, tuple]
) -> dict:
    """Metric, interleaved batch-1 latency, throughput, IR size and MACs of every configuration of one run."""
    ctx = Context.open(ws)
    run = ctx.run(info["run"])
    task = ctx.task(run)
    key = task.primary_metric
    scored = {v["name"]: v["metrics"] for v in ctx.db.list_variants(run["id"])}
    baseline = TorchPredictor.from_checkpoint(ctx.variant_path(run, "torch-fp32"))
    size = baseline.img_size
    example = torch.zeros(1, 3, size, size)
    macs = count(task.export_module(baseline.model), example)[0]
    # the IRs are compiled only in the timing processes, which report the precision each ran in
    baseline_config = Config("PyTorch eager FP32", "torch-fp32", precision="f32")
    configs = [baseline_config, Config("OV FP32 (f32 hint)", "fp32", ctx.variant_path(run, "fp32"), F32)]
    configs += [Config(f"OV {v} (default)", v, ctx.variant_path(run, v)) for v in variants]
    configs += [  # the search pick, with the metric the search scored
        Config(label, "search-pick", Path(xml), given={key: metric}) for label, (xml, metric) in extra.items()
    ]
    irs = {c.label: c for c in configs if c.xml}
    paths, hints = {c.label: c.xml for c in irs.values()}, {c.label: c.hint for c in irs.values() if c.hint}
    x = np.zeros((1, 3, size, size), np.float32)
    timed_loop(lambda: baseline.infer(x), iterations=1, seconds=0, warmup=20)
    for _ in range(rounds):  # interleaved: every configuration once per round
        # the IRs in a new process that never loads PyTorch (engine.benchmark.interleaved.interleaved_latency_apart:
        # a process can run sub-millisecond networks at half speed for its whole life), PyTorch here, same round
        timing = interleaved_latency_apart(paths, rounds=1, iterations=iterations, configs=hints)
        for label, config in irs.items():
            config.latencies.append(timing[label]["median_ms"])
            config.precision = timing[label]["inference_precision"]
        samples = timed_loop(lambda: baseline.infer(x), iterations=iterations, seconds=0, warmup=3)
        baseline_config.latencies.append(statistics.median(samples))
    rows = []
    for c in configs:
        metrics = c.given or scored.get(c.variant, {})
        pruning = metrics.get("pruning") or {}
        own_macs = pruning.get("macs_after", macs) if c.variant.startswith("pruned") else macs
        row = {
            "dataset": name,
            "config": c.label,
            "variant": c.variant,
            key: metrics.get(key),
            "latency_ms": statistics.median(c.latencies),
            "latency_ms_rounds": c.latencies,
            "precision_ran": c.precision,
            "macs": None if c.given else own_macs,  # the search pick's MACs are not counted
        }
        if c.xml:
            row["ir_bytes"] = ir_size(c.xml)
            if not c.hint:  # async throughput afterwards (per IR, default precision)
                fps = benchmark_openvino(c.xml, "CPU", hint="throughput", iterations=iterations)
                row["fps"] = fps["throughput"]["fps"]
        rows.append(row)
    return _ratios(rows, key, task.max_drop, info, size, scored)


def _ratios(rows: list[dict], key: str, max_drop: float, info: dict, size: int, scored: dict) -> dict:
    by = {r["config"]: r for r in rows}
    default, f32, torch_row = by["OV fp32 (default)"], by["OV FP32 (f32 hint)"], by["PyTorch eager FP32"]
    reference = scored["fp32"][key]
    for r in rows:
        r["speedup_vs_fp32_default"] = default["latency_ms"] / r["latency_ms"]
        r["speedup_vs_fp32_f32"] = f32["latency_ms"] / r["latency_ms"]
        r["speedup_vs_pytorch"] = torch_row["latency_ms"] / r["latency_ms"]
        r["size_ratio_vs_fp32"] = default["ir_bytes"] / r["ir_bytes"] if r.get("ir_bytes") else None
        r["macs_ratio"] = r["macs"] / default["macs"] if r["macs"] else None
        r["drop_vs_fp32"] = None if r[key] is None else reference - r[key]
        r["keeps_accuracy"] = r["drop_vs_fp32"] is not None and r["drop_vs_fp32"] <= max_drop + 1e-9
    candidates = [r for r in rows if r["keeps_accuracy"] and r["variant"] not in ("torch-fp32",)]
    best = max(candidates, key=lambda r: r["speedup_vs_fp32_default"], default=None)
    return {"img_size": size, "metric": key, "max_drop": max_drop, **info, "rows": rows, "best": best}


def machine_line(meta: dict) -> str:
    return (
        f"CPU: {meta['cpu_model']} ({meta['cores']} cores) · ISA: {', '.join(meta['isa'])} · OpenVINO"
        f" {meta['openvino']} · OPTIMIZATION_CAPABILITIES: {', '.join(meta['optimization_capabilities'])} ·"
        f" default precision {meta['default_inference_precision']} · batch 1, median of {meta['rounds']}"
        f" interleaved rounds of {meta['iterations']} requests"
    )


def markdown(results: dict, meta: dict) -> str:
    """The tables; each dataset names the CPU it was measured on where that is not this run's (``meta``)."""
    lines = [machine_line(meta), ""]
    for name, result in results.items():
        key = result["metric"]
        arch = f"{result['arch']}, " if result.get("arch") else ""
        lines += [
            f"### {name} ({arch}{result['img_size']} px, trained {result['train_s'] / 60:.1f} min)",
            "",
            *([machine_line(result["meta"]), ""] if result.get("meta", meta) != meta else []),
            f"| config | {key} | drop | ms | vs FP32 default | vs f32 hint | vs PyTorch | fps | IR MB | size ratio"
            " | MACs |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in result["rows"]:
            metric = "-" if r[key] is None else f"{r[key]:.4f}"
            drop = "-" if r["drop_vs_fp32"] is None else f"{100 * r['drop_vs_fp32']:+.2f}"
            ir = f"{r['ir_bytes'] / 1e6:.2f}" if r.get("ir_bytes") else "-"
            ratio = f"{r['size_ratio_vs_fp32']:.2f}x" if r.get("size_ratio_vs_fp32") else "-"
            fps = f"{r['fps']:.0f}" if r.get("fps") else "-"
            lines.append(
                f"| {r['config']} ({r['precision_ran']}) | {metric} | {drop} | {r['latency_ms']:.3f} |"
                f" {r['speedup_vs_fp32_default']:.2f}x | {r['speedup_vs_fp32_f32']:.2f}x |"
                f" {r['speedup_vs_pytorch']:.1f}x | {fps} | {ir} | {ratio} |"
                f" {'-' if r['macs_ratio'] is None else format(r['macs_ratio'], '.2f')} |"
            )
        best = result["best"]
        verdict = (
            f"fastest that keeps accuracy: **{best['config']}**, {best['speedup_vs_fp32_default']:.2f}x the FP32"
            f" IR at the default precision"
            if best and best["variant"] != "fp32"
            else "no variant is faster than the FP32 IR at the same accuracy here"
        )
        lines += ["", verdict, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--search-minutes", type=float, default=0.0, help="also search on the 64-px sample")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma list (fp32 is always built)")
    parser.add_argument("--epochs", type=int, default=0, help="training epochs (0: the product's default)")
    parser.add_argument(
        "--settings",
        default="{}",
        help='variant options as JSON, e.g. \'{"prune_steps": 2, "prune_epochs": 1, "prune_recovery": 3}\'',
    )
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument(
        "--keep",
        default="",
        help="keep the workspaces in this folder (default: a temporary one); a dataset already prepared there"
        " is measured again without training",
    )
    args = parser.parse_args()
    variants = ["fp32", *(v for v in args.variants.split(",") if v and v != "fp32")]
    meta = {**cpu_facts(), "rounds": args.rounds, "iterations": args.iterations}
    print(
        f"CPU {meta['cpu_model']}; ISA {', '.join(meta['isa'])}; OpenVINO {meta['optimization_capabilities']},"
        f" default precision {meta['default_inference_precision']}",
        flush=True,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "optimize.json"
    earlier = json.loads(saved.read_text())["datasets"] if saved.is_file() else {}
    results = {}
    with contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            kept = Path(tmp) / name / "prepared.json"
            if args.keep and kept.is_file():  # trained and optimized by an earlier run: measure it again
                info = json.loads(kept.read_text())
                ws = Path(tmp) / name / "ws"
            else:
                ws, info = prepare(name, Path(tmp), variants, args.epochs or None, json.loads(args.settings))
                kept.write_text(json.dumps(info))
            extra = {}
            if name == "classification" and args.search_minutes > 0:
                found = engine.search(info["dataset"], budget_minutes=args.search_minutes, workspace=ws)
                info["search"] = {k: found[k] for k in ("search", "seconds", "floor", "pick", "front")}
                info["search"]["candidates"] = [  # every candidate's outcome: what the pick was chosen from
                    {
                        "candidate": f"{c['arch']}@{c['img_size']}",
                        "status": c["status"],
                        "seconds": c["seconds"],
                        "why": c["error"],
                        "points": {p["variant"]: (p["metric"], p["speedup"]) for p in c["points"]},
                    }
                    for c in found["candidates"]
                ]
                if found["pick"]:
                    pick = found["pick"]
                    ctx = Context.open(ws)
                    xml = ctx.variant_path(ctx.run(pick["run"]), pick["variant"])
                    extra[f"search pick: {pick['candidate']} {pick['variant']}"] = (xml, pick["metric"])
            measured = measure(name, ws, info, variants, args.rounds, args.iterations, extra)
            results[name] = {**measured, "meta": meta}
            print(markdown({name: results[name]}, meta), flush=True)
            # saved after every dataset (a long run that stops keeps what it measured); datasets measured in an
            # earlier run are kept, each with the CPU and settings it was measured with
            merged = {**earlier, **results}
            write_results(out, "optimize", {"meta": meta, "datasets": merged}, markdown(merged, meta))


if __name__ == "__main__":
    main()
