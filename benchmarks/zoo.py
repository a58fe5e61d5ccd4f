"""Which architectures INT8 really speeds up on this CPU: every architecture of every task, batch 1.

For each task (its built-in sample calibrates) and each architecture in the task's table (random init: speed
does not depend on the weights' values):
 1. the product's own FP32 IR and NNCF PTQ INT8 IR (the ``fp32`` and ``int8`` rows of the variant table)
    at a realistic input (classification 224, detection and instance segmentation 320, segmentation 256 px;
    ``--sizes`` to change);
 2. batch-1 latency of PyTorch eager, the FP32 IR at the CPU plugin's default precision hint (bf16 where the CPU
    has avx512_bf16 or AMX, else f32), the FP32 IR with the f32 hint, and the INT8 IR at the default hint,
    *interleaved in rounds* (every configuration once per round), medians of the round medians;
 3. the speed-up of INT8 over each, and the IR sizes.

Prints the CPU model, its ISA flags and the precision each configuration ran in. The product reads the table
(``engine.models.zoo``) to say, per architecture, whether INT8 pays off on a CPU like the one measured.
Usage: python -m benchmarks.zoo [--tasks classification,detection] [--rounds 3] [--seconds 1.5]
Writes benchmarks/results/zoo.{json,md}, one table per ISA tier (AMX, AVX-512 VNNI + BF16, AVX2, ...): a run
replaces its own tier's table and keeps the others; rows of tasks (or ``--archs``) not measured are kept from its
tier's table when that was measured on a CPU of the same model and ISA. Detectors are timed on a black image: a
random-init detector's post-processing (NMS, Mask R-CNN's mask per box) costs by what it happens to find, so their
rows compare configurations of one network, not networks.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common import write_results
from engine.benchmark.machine import cpu_facts, versions
from engine.models.zoo import TIERS, tables, tier
from engine.pipeline.int8_gains import calibration_samples, measure_arch
from engine.tasks import TASKS, get_task

OUT = Path(__file__).parent / "results"
SIZES = {name: task.realistic_size for name, task in TASKS.items()}  # classification 224, detection 320, ...
TIER_NAMES = [name for name, _ in TIERS] + ["no AVX2"]
CONFIGS = ("pytorch", "fp32 (default hint)", "fp32 (f32 hint)", "int8 (default hint)")


def table(rows: list[dict], machine: dict) -> str:
    lines = [
        f"### {tier(machine['isa'])}",
        "",
        f"CPU: {machine['cpu_model']} ({machine['cores']} cores; {', '.join(machine['isa']) or 'no AVX2'})",
        f"OpenVINO {machine['openvino']}: default CPU inference precision {machine['default_inference_precision']}",
        "",
        "| task | architecture | px | PyTorch ms | FP32 IR ms (default) | FP32 IR ms (f32) | INT8 ms |"
        " INT8 vs FP32 default | vs f32 | vs PyTorch | IR size ratio | contended |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ms = r["latency_ms"]
        lines.append(
            f"| {r['task']} | {r['arch']}{' (default)' if r['default'] else ''} | {r['size']} | {ms['pytorch']:.2f} |"
            f" {ms['fp32 (default hint)']:.2f} ({r['precision']['fp32 (default hint)']}) |"
            f" {ms['fp32 (f32 hint)']:.2f} | {ms['int8 (default hint)']:.2f} | **{r['int8_vs_fp32_default']:.2f}x** |"
            f" {r['int8_vs_fp32_f32']:.2f}x | {r['int8_vs_pytorch']:.1f}x |"
            f" {r['fp32_ir_bytes'] / r['int8_ir_bytes']:.1f}x | {'yes' if r.get('contended') else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def kept_rows(old: dict | None, machine: dict, measured_tasks: set[str], only: set[str]) -> list[dict]:
    """The rows of this tier's table on file this run did not measure (other tasks, other architectures), when it
    was measured on a CPU of the same model and ISA: ``--tasks instance_segmentation`` adds a task, it does not drop
    the other three. Another CPU's table of the tier is replaced whole."""
    if old is None or {k: old["machine"].get(k) for k in ("cpu_model", "isa")} != {
        k: machine[k] for k in ("cpu_model", "isa")
    }:
        return []
    return [r for r in old["rows"] if r["task"] not in measured_tasks or (only and r["arch"] not in only)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--archs", default="", help="comma list: only these architectures")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.5, help="timing window per configuration per round")
    parser.add_argument("--calib", type=int, default=64, help="calibration images (speed does not depend on it)")
    parser.add_argument("--sizes", default="", help="task=px,... (default: classification=224,detection=320,...)")
    args = parser.parse_args()
    sizes = dict(SIZES)
    for item in filter(None, args.sizes.split(",")):
        name, _, px = item.partition("=")
        sizes[name] = int(px)
    only = set(filter(None, args.archs.split(",")))
    machine = cpu_facts()
    isa = ", ".join(machine["isa"])
    print(f"CPU: {machine['cpu_model']}; ISA: {isa}; default {machine['default_inference_precision']}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for task_name in args.tasks.split(","):
            calib, labels = calibration_samples(task_name, Path(tmp) / task_name, tiny=False)  # the full sample
            for arch in get_task(task_name).archs:
                if only and arch not in only:
                    continue
                row = measure_arch(
                    task_name,
                    arch,
                    sizes[task_name],
                    calib,
                    labels,
                    Path(tmp),
                    rounds=args.rounds,
                    seconds=args.seconds,
                    calib_size=args.calib,
                    configs=CONFIGS,
                )
                print(f"{task_name} {arch}: INT8 {row['int8_vs_fp32_default']:.2f}x the FP32 IR (default hint)")
                rows.append(row)
    on_file = tables()
    mine = tier(machine["isa"])
    old = next((t for t in on_file if tier(t["machine"]["isa"]) == mine), None)
    rows = kept_rows(old, machine, {r["task"] for r in rows}, only) + rows
    new = {"machine": machine, "versions": versions(), "rounds": args.rounds, "seconds": args.seconds, "rows": rows}
    kept = [new if t is old else t for t in on_file] if old is not None else [*on_file, new]
    kept.sort(key=lambda t: TIER_NAMES.index(tier(t["machine"]["isa"])))  # strongest tier first
    write_results(OUT, "zoo", {"tables": kept}, "\n".join(table(t["rows"], t["machine"]) for t in kept))


if __name__ == "__main__":
    main()
