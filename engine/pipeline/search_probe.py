"""How fast each search candidate *can* run here, measured before anything is trained.

A network's latency does not depend on its weights' values, and structured pruning at a given ratio leaves the
same shapes whichever channels it removes. So each candidate's variants (FP32 IR, INT8 — QAT's INT8 IR has the
same graph — and, pruned by the search's ratio, pruned FP32 and pruned INT8) are built from a randomly initialised
network by the product's own variant table, without fine-tuning, and timed on the search's device *interleaved*
with the reference's FP32 IR. The best of those ratios is the candidate's bound: what it reaches at most if it
keeps the accuracy.

The search orders its candidates by bound (the most promising trains first) and skips one whose bound cannot
beat the pick it already has. The ratios are kept in the workspace per CPU (``search_probes.json``): a second
search on the same kind of machine probes only what it has not seen.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from engine.pipeline.int8_gains import this_cpu
from engine.pipeline.search_grid import Candidate
from engine.pipeline.search_store import prune_ratio
from engine.store.atomic import read_json, write_json

log = logging.getLogger(__name__)
FILE = "search_probes.json"
CALIBRATION_IMAGES = 8  # latency does not depend on how well the INT8 IR is calibrated
MARGIN = 1.2  # a bound this much below the pick is out of reach (the same IR probed 1.01-1.13x itself)


def built_variants(variants: list[str]) -> list[str]:
    """The variants a candidate's probe times for the search's ``variants`` (QAT's INT8 graph is INT8's)."""
    names = ["fp32"]
    if {"int8", "int8-qat"} & set(variants):
        names.append("int8")
    if "pruned-int8" in variants:
        names += ["pruned", "pruned-int8"]
    return names


def out_of_reach(candidate: Candidate, pick: dict | None) -> str:
    """Why the candidate cannot beat ``pick`` (the search's current pick), or "" when it might."""
    best = candidate.bound
    if pick is None or best is None or best * MARGIN >= pick["speedup"]:
        return ""
    return (
        f"its fastest variant ran {best:.2f}x the reference before training (random init: latency does not"
        f" depend on the weights); the pick, {pick['candidate']} {pick['variant']}, already runs {pick['speedup']:.2f}x"
    )


def order(candidates: list[Candidate]) -> list[Candidate]:
    """The reference first, then the others by bound, highest first (unprobed ones last, in their grid order)."""
    first, others = candidates[0], candidates[1:]
    ranked = sorted(others, key=lambda c: -(c.bound if c.bound is not None else -1.0))
    return [first, *ranked]


def probe(ctx, state: dict, candidates: list[Candidate], task, dataset) -> None:
    """Fill every candidate's ``probe`` (variant -> speed-up over the reference's FP32 IR), from this CPU's
    cache or measured now. A candidate whose network cannot be built or timed keeps
    an empty probe and its ``probe_error``: the search still trains it, after the probed ones."""
    reference = candidates[0]
    ratio = prune_ratio(state)
    names = built_variants(state["variants"])
    cache_path = ctx.ws.root / FILE
    cache = read_json(cache_path) if cache_path.is_file() else {}
    seen = cache.setdefault(this_cpu(), {})
    key = {c.key: f"{task.name} {c.key} vs {reference.key} {state['device']} prune {ratio:g}" for c in candidates}
    todo = []
    for c in candidates:
        known = seen.get(key[c.key], {})
        if all(n in known for n in names):
            _keep(c, {n: known[n] for n in names}, state["variants"])
        else:
            todo.append(c)
    if todo:
        measured = _measure(ctx, task, dataset, reference, todo, names, ratio, state["device"])
        for c in todo:
            if isinstance(measured.get(c.key), str):
                c.probe, c.probe_error = {}, measured[c.key]
                continue
            seen[key[c.key]] = measured[c.key]
            _keep(c, measured[c.key], state["variants"])
        write_json(cache_path, cache)


def _keep(candidate: Candidate, speed: dict[str, float], variants: list[str]) -> None:
    """The probe's ratios under the names of the points the search will make (int8-qat is timed as int8)."""
    probe = {"fp32": speed["fp32"]}
    for name in ("int8", "int8-qat"):
        if name in variants:
            probe[name] = speed["int8"]
    if "pruned-int8" in variants:
        probe |= {"pruned": speed["pruned"], "pruned-int8": speed["pruned-int8"]}
    candidate.probe, candidate.bound = probe, max(probe.values())


def _measure(ctx, task, dataset, reference, todo, names, ratio, device) -> dict[str, dict[str, float] | str]:
    """Build every candidate's variants at random init, time them interleaved with the reference's FP32 IR."""
    from engine.benchmark.interleaved import interleaved_latency_apart
    from engine.compression.calibration import calibration_subset
    from engine.export.random_init import random_init_irs
    from engine.pipeline.optimizing import variant_failure

    labels = dataset["info"]["labels"]
    calibration = calibration_subset(ctx.samples(dataset, "train"), CALIBRATION_IMAGES)
    out: dict[str, dict[str, float] | str] = {}
    with tempfile.TemporaryDirectory(prefix="probe-") as tmp:
        folder = Path(tmp)
        at = reference.img_size
        _, irs = random_init_irs(task, reference.arch, at, labels, calibration, ["fp32"], folder / "reference")
        paths = {"reference": irs["fp32"]}
        for c in todo:
            log.info("search: probing %s (%s at random init)", c.key, ", ".join(names))
            try:
                _, built = random_init_irs(
                    task, c.arch, c.img_size, labels, calibration, names, folder / c.key, prune_ratio=ratio
                )
            except Exception as exc:  # one network that cannot be built does not stop the search
                out[c.key] = variant_failure(exc)
                log.warning("search: probing %s failed: %s", c.key, out[c.key])
                continue
            paths |= {f"{c.key}/{n}": xml for n, xml in built.items()}
        timing = interleaved_latency_apart(paths, device, rounds=3, iterations=30)
    base = timing["reference"]["median_ms"]
    for c in todo:
        if c.key not in out:
            out[c.key] = {n: base / timing[f"{c.key}/{n}"]["median_ms"] for n in names}
    return out
