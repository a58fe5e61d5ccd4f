"""Does the dashboard leave the machine to the work? Two measurements, side by side, interleaved in rounds.

1. **What watching costs**: CPU of the Streamlit process alone (user+system, not its children; jobs run in
   their own processes) over ``--window`` seconds of wall-clock time, with two tabs (Home + Train) open in
   Chromium, while idle and while a training job runs, with the product's ``runner.postScriptGC = false``
   and with Streamlit's default (a full ``gc.collect()`` after every fragment rerun). Target: <= 5 % of a
   core with two tabs on a job.
2. **What a busy neighbour costs training**: the median epoch time of a small training (``python -m engine
   train``, its own process) on an idle machine and beside a process spinning one core, with the product's
   thread budget (threads follow the free cores) and with all cores pinned (``STUDIO_TRAIN_THREADS``, the
   old ``torch.set_num_threads(cpu_count)``). Target: busy <= 2.5x idle.

Writes ``benchmarks/results/dashboard_cpu.{json,md}``. Run: ``python -m benchmarks.dashboard_cpu``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

import engine
from benchmarks.common import write_results
from engine.benchmark.machine import cpu_facts
from tests.e2e.conftest import chromium, new_page, serve_process

OUT = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[1]
SPIN = "while True: pass"


@contextlib.contextmanager
def neighbour() -> object:
    """Another process keeping one core busy (what a second user's job or a video call does to the box)."""
    proc = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        time.sleep(1.0)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def streamlit_share(ws: Path, tmp: Path, post_gc: bool, window: float) -> dict:
    """CPU share of one core used by the Streamlit process with Home and Train open, over ``window`` s."""
    env = {"STREAMLIT_RUNNER_POST_SCRIPT_GC": "true" if post_gc else "false"}
    with serve_process(ws, tmp / "streamlit.log", env) as (url, proc), chromium() as browser:
        tabs = [new_page(browser, url), new_page(browser, url, "train")]
        for tab in tabs:
            tab.wait_for_selector("h1", timeout=120_000)
        time.sleep(8)  # first renders (imports, chart specs) are a start-up cost, not watching
        streamlit = psutil.Process(proc.pid)
        before, start = streamlit.cpu_times(), time.monotonic()
        time.sleep(window)
        after, wall = streamlit.cpu_times(), time.monotonic() - start
    return {"share": ((after.user - before.user) + (after.system - before.system)) / wall, "wall_s": wall}


def watching(tmp: Path, rounds: int, window: float) -> list[dict]:
    ws = tmp / "ws-watch"
    engine.get_task("classification").write_sample(tmp / "data", tiny=True)
    dataset = engine.import_dataset(str(tmp / "data"), workspace=ws)["dataset"]
    engine.train(dataset, model="mobilenet_v3_small", epochs=2, img_size=32, workspace=ws)  # a run to show
    samples: dict[tuple[str, bool], list[float]] = {}
    for _ in range(rounds):
        for state in ("idle", "on a running job"):
            job = None
            if state != "idle":
                settings = {"dataset": dataset, "model": "mobilenet_v3_small", "epochs": 5000, "patience": 5000}
                job = engine.submit_job("train", settings | {"img_size": 32}, title="long", workspace=ws)
            try:
                for post_gc in (False, True):
                    share = streamlit_share(ws, tmp, post_gc, window)["share"]
                    samples.setdefault((state, post_gc), []).append(share)
                    print(f"  {state:17s} postScriptGC={str(post_gc).lower():5s} {share:6.1%}", flush=True)
            finally:
                if job is not None:
                    engine.cancel_job(job["id"], workspace=ws)
                    time.sleep(3)
    return [
        {"tabs": 2, "state": state, "postScriptGC": post_gc, "median_share": statistics.median(v), "samples": v}
        for (state, post_gc), v in samples.items()
    ]


def epoch_times(ws: Path, dataset: int, pin: int | None, busy: bool, epochs: int) -> list[float]:
    """Per-epoch seconds of one ``python -m engine train`` (its own process), after the first epoch."""
    env = {**os.environ, "STUDIO_WORKSPACE": str(ws)}
    env.pop("STUDIO_TRAIN_THREADS", None)
    if pin:
        env["STUDIO_TRAIN_THREADS"] = str(pin)
    cmd = [sys.executable, "-m", "engine", "train", "--dataset", str(dataset), "--model", "mobilenet_v3_small",
           "--epochs", str(epochs), "--img-size", "64", "--patience", "100", "--no-pretrained", "--json"]  # fmt: skip
    with neighbour() if busy else contextlib.nullcontext():
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    run = json.loads(out.strip().splitlines()[-1])["run"]
    return [e["epoch_s"] for e in engine.show_run(run, workspace=ws)["epochs"]][1:]


def training(tmp: Path, rounds: int, epochs: int) -> list[dict]:
    ws = tmp / "ws-train"
    engine.get_task("classification").write_sample(tmp / "data-train", tiny=True)
    dataset = engine.import_dataset(str(tmp / "data-train"), workspace=ws)["dataset"]
    cores = psutil.cpu_count()
    configs = [("thread budget (product)", None), (f"pinned to {cores} threads (before)", cores)]
    samples: dict[tuple[str, bool], list[float]] = {}
    for _ in range(rounds):
        for name, pin in configs:
            for busy in (False, True):
                median = statistics.median(epoch_times(ws, dataset, pin, busy, epochs))
                samples.setdefault((name, busy), []).append(median)
                print(f"  {name:30s} {'busy' if busy else 'idle'}  {median:6.2f} s/epoch", flush=True)
    rows = []
    for name, _ in configs:
        idle, busy = (statistics.median(samples[(name, b)]) for b in (False, True))
        rows.append({"threads": name, "idle_epoch_s": idle, "busy_epoch_s": busy, "slowdown": busy / idle,
                     "idle_samples": samples[(name, False)], "busy_samples": samples[(name, True)]})  # fmt: skip
    return rows


def table(facts: dict, watch: list[dict], train: list[dict], args: argparse.Namespace) -> str:
    lines = [
        f"CPU: {facts['cpu_model']} ({facts['cores']} cores; {', '.join(facts['isa'])}); OpenVINO"
        f" {facts['openvino']}. Medians of {args.rounds} interleaved rounds.",
        "",
        f"Streamlit process CPU, two tabs (Home + Train), {args.window:g} s wall-clock windows:",
        "",
        "| state | postScriptGC | CPU (% of one core) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {r['state']} | {str(r['postScriptGC']).lower()}{' (product)' if not r['postScriptGC'] else ''} |"
        f" {r['median_share']:.1%} |"
        for r in watch
    ]
    lines += [
        "",
        f"Training epoch time (mobilenet_v3_small, 64 px, tiny sample), idle vs one core spinning beside it"
        f" ({args.epochs} epochs per training, first dropped):",
        "",
        "| threads | idle s/epoch | busy s/epoch | busy / idle |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['threads']} | {r['idle_epoch_s']:.2f} | {r['busy_epoch_s']:.2f} | {r['slowdown']:.1f}x |" for r in train
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--window", type=float, default=20.0, help="seconds per CPU measurement")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per timed training")
    args = parser.parse_args()
    facts = cpu_facts()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        print("Streamlit process CPU:", flush=True)
        watch = watching(Path(tmp), args.rounds, args.window)
        print("Training beside a busy neighbour:", flush=True)
        train = training(Path(tmp), args.rounds, args.epochs)
    payload = {"cpu": facts, "args": vars(args), "watching": watch, "training": train}
    payload["seconds"] = time.perf_counter() - began
    write_results(OUT, "dashboard_cpu", payload, table(facts, watch, train, args))


if __name__ == "__main__":
    main()
