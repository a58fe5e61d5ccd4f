"""The search's last step: its contenders timed again, together, before it picks.

Each candidate is timed beside the reference right after it trains, minutes apart from the others. On a shared
2-core CPU a whole process sometimes runs small networks at about half speed (see
``interleaved_latency_apart``), so two candidates timed minutes apart can swap places: three 20-minute searches
on the classification sample picked ResNet-18 at 64 px twice (1.34-1.37x in the benchmark's own table) and at
48 px once (1.69x), timing each at 1.81-1.91x. So once every candidate is done, the accuracy-keeping points
within the probe's noise of the best (``MARGIN``), and the default architecture's best, are timed again in the
same rounds as the reference, each round in a new process, and the pick is made from those ratios alone.
"""

from __future__ import annotations

import time

from engine.pipeline.search_grid import Candidate
from engine.pipeline.search_probe import MARGIN
from engine.pipeline.search_ranking import point_key

CONTENDERS = 4  # the fastest few: the runoff decides among close calls, not the whole grid
ROUNDS = 9
TIMED_MS = 300.0  # each model's requests per round: ~0.3 s of them (300 of a 0.3-ms classifier, 30 at least)
RESERVE_S = 30.0  # kept from the budget for it: 3-4 small classifiers' runoff took 7-12 s on 2 cores


def requests(points: list[dict]) -> int:
    """Requests per model per round: enough for ``TIMED_MS`` of the slowest contender, from 30 to 300."""
    slowest = max(p["latency_ms"] for p in points)
    return int(min(max(TIMED_MS / slowest, 30), 300))


def contenders(points: list[dict], default_arch: str) -> list[dict]:
    """The points to time again: the fastest accuracy-keeping ones within ``MARGIN`` of the best (at most
    ``CONTENDERS``) and the fastest of the default architecture (the pick is also reported against it)."""
    eligible = sorted((p for p in points if p.get("keeps_accuracy")), key=lambda p: -p["speedup"])
    if not eligible:
        return []
    best = eligible[0]["speedup"]
    chosen = [p for p in eligible if p["speedup"] * MARGIN >= best][:CONTENDERS]
    default_best = next((p for p in eligible if p["arch"] == default_arch), None)
    if default_best is not None and default_best not in chosen:
        chosen.append(default_best)
    return chosen


def runoff(ctx, state: dict, candidates: list[Candidate]) -> None:
    """Time the contenders of ``state``'s points (``summary`` has marked which keep the accuracy) beside the
    reference's FP32 IR, each point's ratio replaced by the runoff's; ``state["runoff"]`` says what ran."""
    from engine.benchmark.interleaved import interleaved_latency_apart

    began = time.monotonic()
    reference = candidates[0]
    chosen = [
        p
        for p in contenders([p for c in candidates for p in c.points], reference.arch)
        if not (p["candidate"] == reference.key and p["variant"] == "fp32")  # the reference itself: 1.00x
    ]
    if not chosen or reference.run is None:
        return
    models = {"reference": ctx.variant_path(ctx.run(reference.run), "fp32")}
    models |= {point_key(p): ctx.variant_path(ctx.run(p["run"]), p["variant"]) for p in chosen}
    iterations = requests(chosen)
    timing = interleaved_latency_apart(models, state["device"], rounds=ROUNDS, iterations=iterations)
    base = timing["reference"]["median_ms"]
    for p in chosen:
        measured = timing[point_key(p)]
        p["first_speedup"] = p.get("first_speedup", p["speedup"])  # what its own benchmark said
        p.update(latency_ms=measured["median_ms"], reference_ms=base, speedup=base / measured["median_ms"],
                 inference_precision=measured["inference_precision"])  # fmt: skip
        p["runoff"] = True
    state["runoff"] = {
        "points": [point_key(p) for p in chosen],
        "rounds": ROUNDS,
        "iterations": iterations,
        "reference_ms": base,
        "seconds": time.monotonic() - began,
    }
