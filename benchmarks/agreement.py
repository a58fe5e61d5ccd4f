"""Does the product's benchmark agree with OpenVINO's own ``benchmark_app`` on the same IRs?

1. make a small classifier's IRs (FP32, FP16, INT8) with the product (sample -> import -> train -> optimize);
2. in each of ``--rounds`` rounds, for every IR: ``benchmark_app -hint latency`` then the product's
   ``python -m engine benchmark --hint latency`` (each in its own process, as users run them), then both
   with the throughput hint, same device, precision and duration (interleaved, so drift hits both alike);
3. print both medians (of the rounds' medians), both throughputs and their ratios (goal: within 10 %);
4. stability: the product's median at several iteration counts, repeated, and the spread of the repeats
   ((max - min) / median); the smallest count within 5 % is the benchmark verb's default.

Writes ``benchmarks/results/agreement.{json,md}``. Run: ``python -m benchmarks.agreement``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import engine
from benchmarks.common import write_results
from benchmarks.optimize import cpu_facts

OUT = Path(__file__).parent / "results"
VARIANTS = ("fp32", "fp16", "int8")
COUNTS = (50, 100, 200, 500, 1000)


def make_irs(tmp: Path) -> tuple[Path, int, dict[str, Path]]:
    ws = tmp / "ws"
    engine.sample("classification", str(tmp / "data"))
    dataset = engine.import_dataset(str(tmp / "data"), workspace=ws)["dataset"]
    run = engine.train(dataset, epochs=1, max_steps=20, workspace=ws)["run"]  # timing needs no accuracy
    engine.optimize(run, variants=list(VARIANTS), calib_size=64, workspace=ws)
    return ws, run, {v: ws / "runs" / str(run) / "variants" / v / "model.xml" for v in VARIANTS}


def benchmark_app(xml: Path, hint: str, seconds: float, precision: str) -> dict:
    cmd = ["benchmark_app", "-m", str(xml), "-d", "CPU", "-hint", hint, "-t", str(seconds)]
    if precision != "default":
        cmd += ["-infer_precision", precision]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    median = re.search(r"Median:\s*([\d.]+)\s*(ms|us)", text)  # benchmark_app switches to us below 1 ms
    fps = re.search(r"Throughput:\s*([\d.]+)\s*FPS", text)
    scale = 1e-3 if median.group(2) == "us" else 1.0
    return {"median_ms": float(median.group(1)) * scale, "fps": float(fps.group(1))}


def product(where: tuple[Path, int], variant: str, hint: str, precision: str, **amount) -> dict:
    """``python -m engine benchmark`` in its own process (a training process's idle OpenMP threads beside it
    would slow OpenVINO down: measured 0.70 vs 0.55 ms)."""
    ws, run = where
    flags = [f"--{k}={v}" for k, v in amount.items()]
    cmd = [sys.executable, "-m", "engine", "benchmark", str(run), "--variants", variant, "--hint", hint]
    cmd += ["--precisions", precision, *flags, "--workspace", str(ws), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1]).stdout
    result = json.loads(out.strip().splitlines()[-1])["results"][0]
    if hint == "latency":
        return {"median_ms": result["latency_ms"]["median"], "precision": result["inference_precision"]}
    return {"fps": result["throughput"]["fps"], "median_ms": result["throughput"]["latency_ms"]["median"]}


def agreement(where: tuple[Path, int], irs: dict[str, Path], rounds: int, seconds: int, precision: str) -> list[dict]:
    runs: dict[str, dict[str, list[float]]] = {v: {} for v in irs}
    ran = {}
    for index in range(rounds):
        for name, xml in irs.items():
            record = runs[name]
            app_lat = benchmark_app(xml, "latency", seconds, precision)
            ours_lat = product(where, name, "latency", precision, seconds=seconds)
            app_tput = benchmark_app(xml, "throughput", seconds, precision)
            ours_tput = product(where, name, "throughput", precision, seconds=seconds)
            ran[name] = ours_lat["precision"]
            for key, value in (
                ("app_median_ms", app_lat["median_ms"]),
                ("ours_median_ms", ours_lat["median_ms"]),
                ("app_fps", app_tput["fps"]),
                ("ours_fps", ours_tput["fps"]),
            ):
                record.setdefault(key, []).append(value)
            print(
                f"round {index + 1}/{rounds} {name}: latency {app_lat['median_ms']:.3f} vs {ours_lat['median_ms']:.3f}"
                f" ms, throughput {app_tput['fps']:.0f} vs {ours_tput['fps']:.0f} FPS",
                flush=True,
            )
    rows = []
    for name, record in runs.items():
        med = {k: statistics.median(v) for k, v in record.items()}
        rows.append(
            {
                "variant": name,
                "precision ran": ran[name],
                **{k: round(v, 4) for k, v in med.items()},
                "latency ratio (ours/app)": round(med["ours_median_ms"] / med["app_median_ms"], 3),
                "throughput ratio (ours/app)": round(med["ours_fps"] / med["app_fps"], 3),
                "rounds": record,
            }
        )
    return rows


def stability(where: tuple[Path, int], variant: str, repeats: int, precision: str) -> list[dict]:
    """The product's median at each iteration count, ``repeats`` times, interleaved across counts."""
    medians: dict[int, list[float]] = {n: [] for n in COUNTS}
    for _ in range(repeats):
        for n in COUNTS:
            result = product(where, variant, "latency", precision, iterations=n)
            medians[n].append(result["median_ms"])
    rows = []
    for n, values in medians.items():
        mid = statistics.median(values)
        rows.append(
            {"iterations": n, "median_ms": round(mid, 4), "spread": round((max(values) - min(values)) / mid, 3)}
        )
    return rows


def table(facts: dict, rows: list[dict], stable: list[dict], seconds: float, pick: int | None) -> str:
    lines = [
        f"CPU: {facts['cpu_model']} ({facts['cores']} cores; {', '.join(facts['isa'])}); OpenVINO {facts['openvino']},"
        f" default precision {facts['default_inference_precision']}. Each cell: median of rounds, {seconds:g} s each,"
        " benchmark_app and the product interleaved.",
        "",
        "| variant | precision ran | benchmark_app median ms | product median ms | ratio | benchmark_app FPS |"
        " product FPS | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['precision ran']} | {r['app_median_ms']:.3f} | {r['ours_median_ms']:.3f} |"
            f" {r['latency ratio (ours/app)']:.2f} | {r['app_fps']:.0f} | {r['ours_fps']:.0f} |"
            f" {r['throughput ratio (ours/app)']:.2f} |"
        )
    lines += ["", "| iterations | median ms | spread of repeats |", "|---|---|---|"]
    lines += [f"| {s['iterations']} | {s['median_ms']:.3f} | {s['spread']:.1%} |" for s in stable]
    lines.append("")
    lines.append(
        f"Smallest iteration count whose repeats agree within 5 %: {pick}" if pick else "No count was within 5 %."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="per measurement (benchmark_app takes whole seconds)")
    parser.add_argument("--repeats", type=int, default=5, help="stability: repeats per iteration count")
    parser.add_argument("--precision", default="default")
    args = parser.parse_args()
    facts = cpu_facts()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ws, run, irs = make_irs(Path(tmp))
        rows = agreement((ws, run), irs, args.rounds, args.seconds, args.precision)
        stable = stability((ws, run), "int8", args.repeats, args.precision)
    pick = next((s["iterations"] for s in stable if s["spread"] <= 0.05), None)
    payload = {"cpu": facts, "args": vars(args), "rows": rows, "stability": stable, "stable_iterations": pick}
    payload["seconds"] = time.perf_counter() - began
    write_results(OUT, "agreement", payload, table(facts, rows, stable, args.seconds, pick))


if __name__ == "__main__":
    main()
