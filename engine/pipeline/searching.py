"""The search verb: the fastest model that keeps the accuracy, found on this machine.

Candidates are architecture x input size (sizes below, at and above the one the data suggests); each trains
the *same schedule* as the reference (the task's default epochs), so no candidate trained for one epoch is
ranked against one trained for ten. First every candidate's variants are built at random init and timed beside
the reference (``search_probe``: latency does not depend on the weights), and the candidates that can run fastest
train first; one that cannot beat the pick already made is skipped. Before a candidate trains, its cost is
estimated from a few real steps; one whose whole schedule does not fit in what is left of the budget is skipped,
and the search says so. Each is optimized into the variants asked (INT8, QAT, pruned INT8) and benchmarked on the
chosen device *interleaved with the reference* (the task's default architecture at the data's size, as FP32 IR),
so every latency is a ratio measured side by side. The accuracy floor is the reference FP32 IR's test metric minus
``max_drop``. When every candidate is done, the fastest points that keep the accuracy are timed again together
(``search_runoff``) and the pick is made from those ratios. A variant or a candidate that fails is recorded with
why and the search goes on. Every outcome
is saved to ``searches/ID.json`` as soon as it is known: a cancelled or crashed search resumes (``resume=ID``)
without redoing finished candidates.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict

from engine.choices import SEARCH_PRUNE_RATIO, SEARCH_VARIANTS
from engine.errors import Cancelled, StudioError, choice_error
from engine.export.variants import VARIANTS, Pruning, QATSettings
from engine.pipeline import optimizing, search_probe, search_runoff, search_store, training
from engine.pipeline.context import Context
from engine.pipeline.search_grid import Candidate, grid
from engine.pipeline.search_ranking import summary
from engine.pipeline.search_store import load_search, owner_folder, search_path
from engine.status import RUN_FINISHED, RunStatus, SearchStatus
from engine.store import lock
from engine.store.atomic import write_json
from engine.training.config import TrainConfig

log = logging.getLogger(__name__)

QAT_EPOCHS, PRUNE_STEPS, PRUNE_RECOVERY = 2, 2, 3  # every candidate's fine-tunes: the same for all
FINE_TUNE_EPOCHS = QAT_EPOCHS + PRUNE_STEPS + PRUNE_RECOVERY
OPTIMIZE_OVERHEAD_S = 20.0  # conversion, calibration, scoring and benchmarking of a candidate's variants


def search(
    ctx: Context,
    dataset_id: int | str | None = None,
    *,
    max_drop: float | None = None,
    device: str = "CPU",
    budget_minutes: float = 20.0,
    archs: Sequence[str] | None = None,
    sizes: Sequence[int] | None = None,
    variants: Sequence[str] = SEARCH_VARIANTS,
    prune_ratio: float = SEARCH_PRUNE_RATIO,
    resume: int | None = None,
) -> dict:
    if resume is not None:
        state = load_search(ctx, resume)
    else:
        if dataset_id is None:
            msg = "search needs --dataset ID (see `python -m engine data list`) or --resume SEARCH"
            raise StudioError(msg)
        if not 0 < prune_ratio < 1:
            msg = f"--prune-ratio must be between 0 and 1 (the share of channels removed), got {prune_ratio:g}"
            raise StudioError(msg)
        state = _new(ctx, dataset_id, max_drop, device, budget_minutes, archs, sizes, variants)
        state["prune_ratio"] = prune_ratio
    dataset = ctx.db.get_dataset(state["dataset"])
    task = ctx.task(dataset)
    candidates = [Candidate(**c) for c in state["candidates"]]
    started = time.monotonic()
    spent_before = state.get("seconds", 0.0)

    def save(status: SearchStatus = SearchStatus.RUNNING) -> dict:
        state.update(candidates=[asdict(c) for c in candidates], status=status)
        state["seconds"] = spent_before + time.monotonic() - started
        state.update(summary(state, candidates))
        write_json(search_path(ctx, state["search"]), state)
        return state

    with lock.hold(owner_folder(ctx, state["search"]), f"search {state['search']}"):  # one writer; death is seen
        return _search_candidates(ctx, state, candidates, task, dataset, save)


def _search_candidates(ctx, state: dict, candidates: list[Candidate], task, dataset, save) -> dict:
    save()
    if "probe_seconds" not in state:
        _probe(ctx, state, candidates, task, dataset)
        save()
    for candidate in candidates:
        if candidate.status in ("done", "failed", "skipped"):
            continue
        began = time.monotonic()
        try:
            if candidate is not candidates[0] and not _worth_training(ctx, state, candidate, candidates, save):
                continue
            _run_candidate(ctx, state, candidate, task, dataset, save)
            candidate.status = "done"
        except Cancelled:
            candidate.status = "pending"  # resumed later: its trained run and finished variants are kept
            candidate.seconds += time.monotonic() - began
            save(SearchStatus.CANCELLED)
            raise
        except Exception as exc:  # one candidate's failure is recorded; the search goes on without it
            if candidate is candidates[0]:  # without the reference there is nothing to compare with
                save(SearchStatus.FAILED)
                raise
            candidate.status, candidate.error = "failed", optimizing.variant_failure(exc)
            log.warning("search %s: %s failed: %s", state["search"], candidate.key, candidate.error, exc_info=True)
        candidate.seconds += time.monotonic() - began
        save()
    if "runoff" not in state:
        _runoff(ctx, state, candidates)
    return save(SearchStatus.COMPLETED)


def _probe(ctx, state: dict, candidates: list[Candidate], task, dataset) -> None:
    """Every candidate's speed at random init (``search_probe``), then the most promising first. A probe that
    fails as a whole leaves the grid's order: the search goes on without bounds."""
    began = time.monotonic()
    try:
        search_probe.probe(ctx, state, candidates, task, dataset)
        candidates[:] = search_probe.order(candidates)
    except Exception as exc:
        state["probe_error"] = optimizing.variant_failure(exc)
        log.warning("search %s: probing failed: %s", state["search"], state["probe_error"], exc_info=True)
    state["probe_seconds"] = time.monotonic() - began


def _runoff(ctx, state: dict, candidates: list[Candidate]) -> None:
    """The contenders timed again together (``search_runoff``); if that fails, the pick stands on each
    candidate's own timing and the search says why."""
    try:
        search_runoff.runoff(ctx, state, candidates)
    except Exception as exc:
        state["runoff_error"] = optimizing.variant_failure(exc)
        log.warning("search %s: the runoff failed: %s", state["search"], state["runoff_error"], exc_info=True)


def _worth_training(ctx, state: dict, candidate: Candidate, candidates: list[Candidate], save) -> bool:
    """Whether to train the candidate: it could beat the pick (its probe says) and its schedule fits the budget."""
    why = "" if candidate.run is not None else search_probe.out_of_reach(candidate, state.get("pick"))
    if why:
        candidate.status, candidate.error = "skipped", why
        log.info("search: %s skipped: %s", candidate.key, why)
        save()
        return False
    return _fits(ctx, state, candidate, candidates, save)


def _fits(ctx, state: dict, candidate: Candidate, candidates: list[Candidate], save) -> bool:
    """Whether the candidate's whole schedule fits in what is left of the budget (estimated from a few real
    training steps); one that does not is skipped with the numbers. The first candidate after the reference
    always runs, so every search compares at least two models."""
    if candidate.run is not None:  # started in an earlier attempt: finish it
        return True
    if candidate.estimate_s is None:
        dataset = ctx.db.get_dataset(state["dataset"])
        task = ctx.task(dataset)
        defaults = _schedule(task, dataset, candidate)
        if candidate.epoch_s is None:
            from engine.training.estimate import epoch_seconds

            candidate.epoch_s = epoch_seconds(
                task, candidate.arch, candidate.img_size, defaults.batch_size, ctx.samples(dataset, "train"),
                len(dataset["info"]["labels"]),
            )  # fmt: skip
        candidate.epochs = defaults.epochs
        candidate.estimate_s = candidate.epoch_s * (defaults.epochs + FINE_TUNE_EPOCHS) + OPTIMIZE_OVERHEAD_S
    spent = state.get("probe_seconds", 0.0) + sum(c.seconds for c in candidates)
    left = state["budget_minutes"] * 60 - spent - search_runoff.RESERVE_S
    others_done = sum(c.status == "done" for c in candidates[1:])
    if candidate.estimate_s <= left or others_done == 0:
        return True
    candidate.status = "skipped"
    candidate.error = (
        f"needs ~{candidate.estimate_s / 60:.1f} min for the same {candidate.epochs}-epoch schedule as the reference;"
        f" {max(left, 0) / 60:.1f} min of the budget left (raise --budget-minutes to include it)"
    )
    log.info("search: %s skipped: %s", candidate.key, candidate.error)
    save()
    return False


def _schedule(task, dataset, candidate: Candidate) -> TrainConfig:
    """The candidate's training settings: the task's defaults (the reference's schedule) at its size."""
    return TrainConfig(task=task.name, model=candidate.arch, img_size=candidate.img_size).resolved(dataset["info"])


def _new(ctx, dataset_id, max_drop, device, budget_minutes, archs, sizes, variants) -> dict:
    dataset = ctx.db.get_dataset(dataset_id)
    task = ctx.task(dataset)
    names = list(variants)
    for name in names:
        if name not in SEARCH_VARIANTS:
            raise choice_error("search variant", name, SEARCH_VARIANTS)
    left_out = [n for n in names if n in task.unsupported_variants]
    for name in left_out:  # the task cannot build it: the search goes on with the others
        log.warning("search: %s left out for %s: %s", name, task.name, task.unsupported_variants[name])
    names = [n for n in names if n not in left_out]
    if not names:
        msg = f"none of the variants asked for can be built for {task.name}; ask for int8"
        raise StudioError(msg)
    if not math.isfinite(budget_minutes) or budget_minutes <= 0:
        msg = f"--budget-minutes must be a positive number of minutes, got {budget_minutes:g}"
        raise StudioError(msg)
    lo, hi = 32, 1024
    bad = [s for s in sizes or () if not lo <= s <= hi]
    if bad:
        msg = f"--sizes: {bad[0]} px is not an input size; give sizes from {lo} to {hi} px, e.g. --sizes 96,128"
        raise StudioError(msg)
    drop = task.max_drop if max_drop is None else max_drop
    if not math.isfinite(drop) or not 0 <= drop < 1:
        msg = f"--max-drop is a fraction of the metric (0.005 = 0.5 points), got {drop:g}"
        raise StudioError(msg)
    import openvino as ov

    from engine.inference.devices import check_device

    check_device(ov.Core(), device)
    default_size = TrainConfig(task=task.name).resolved(dataset["info"]).img_size
    from engine.pipeline.int8_gains import measured_here

    candidates = grid(task, archs, sizes, default_size, measured_here(ctx))
    folder = ctx.ws.root / "searches"
    folder.mkdir(parents=True, exist_ok=True)
    search_id = 1 + max((int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()), default=0)
    return {
        "search": search_id,
        "dataset": dataset["id"],
        "task": task.name,
        "metric": task.primary_metric,
        "metric_name": task.metric_name,
        "device": device,
        "max_drop": drop,
        "budget_minutes": budget_minutes,
        "variants": names,
        "created": time.time(),
        "candidates": [asdict(c) for c in candidates],
    }


def _run_candidate(ctx, state, candidate: Candidate, task, dataset, save) -> None:
    """Train (or resume) the candidate's run on the reference's schedule, build its variants, benchmark them
    beside the reference."""
    train_samples = ctx.samples(dataset, "train")
    candidate.epochs = candidate.epochs or _schedule(task, dataset, candidate).epochs
    candidate.status = "training"
    save()
    run = _trained_run(ctx, candidate, dataset, candidate.epochs, save)
    candidate.status = "optimizing"
    save()
    done = {v["name"] for v in ctx.db.list_variants(run["id"])}
    wanted = ["fp32", *state["variants"]]
    if "pruned-int8" in wanted:
        wanted.insert(1, "pruned")  # its FP32 twin: shows what pruning alone buys
    missing = [v for v in wanted if v not in done and v not in candidate.failed_variants]
    if missing:
        result = optimizing.optimize(
            ctx,
            run["id"],
            variants=missing,
            calib_size=min(300, len(train_samples)),
            settings={
                Pruning: Pruning(
                    ratio=search_store.prune_ratio(state),
                    steps=PRUNE_STEPS,
                    epochs_per_step=1,
                    recovery_epochs=PRUNE_RECOVERY,
                ),
                QATSettings: QATSettings(epochs=QAT_EPOCHS),
            },
        )
        candidate.failed_variants.update(result.get("failed", {}))
        for name, why in result.get("failed", {}).items():
            log.warning("search %s: %s/%s failed: %s", state["search"], candidate.key, name, why)
    candidate.status = "benchmarking"
    save()
    built = [v for v in wanted if v not in candidate.failed_variants]
    candidate.points = _benchmark(ctx, state, candidate, run, built, task)


def _trained_run(ctx, candidate: Candidate, dataset, epochs: int, on_run) -> dict:
    """The candidate's finished run: trained now, or resumed / reused from an earlier attempt."""
    if candidate.run is not None:
        run = ctx.run(candidate.run)
        if run["status"] in RUN_FINISHED:
            return run
        if (ctx.run_dir(run) / "checkpoints" / "last.pt").is_file():
            result = training.train(ctx, resume=run["id"])
            return _finished(ctx, result)

    def remember(run_id: int) -> None:
        candidate.run = run_id
        on_run()

    result = training.train(
        ctx,
        dataset["id"],
        model=candidate.arch,
        img_size=candidate.img_size,
        epochs=epochs,
        on_run=remember,
    )
    return _finished(ctx, result)


def _finished(ctx, result: dict) -> dict:
    if result["status"] == RunStatus.CANCELLED:
        raise Cancelled
    return ctx.run(result["run"])


def _benchmark(ctx, state, candidate: Candidate, run: dict, names: list[str], task) -> list[dict]:
    """Each variant's latency on the device interleaved with the reference FP32 IR, and its test metric."""
    from engine.benchmark.interleaved import interleaved_latency_apart

    reference = _reference(ctx, state)
    metrics = {v["name"]: v["metrics"] for v in ctx.db.list_variants(run["id"])}
    paths = {name: ctx.variant_path(run, name) for name in names if name in metrics}
    models = {"reference": ctx.variant_path(reference, "fp32"), **paths} if reference else dict(paths)
    timing = interleaved_latency_apart(models, state["device"], rounds=5, iterations=50)
    base = timing["reference" if reference else "fp32"]["median_ms"]
    points = []
    for name in paths:
        entry = metrics[name]
        pruning = entry.get("pruning") or {}
        points.append(
            {
                "candidate": candidate.key,
                "arch": candidate.arch,
                "img_size": candidate.img_size,
                "run": run["id"],
                "variant": name,
                "precision": VARIANTS[name].precision,
                "metric": entry.get(task.primary_metric),
                "latency_ms": timing[name]["median_ms"],
                "reference_ms": base,
                "speedup": base / timing[name]["median_ms"],
                "inference_precision": timing[name]["inference_precision"],
                "size_bytes": entry.get("size_bytes"),
                "macs_ratio": pruning.get("macs_ratio"),
            }
        )
    return points


def _reference(ctx, state) -> dict | None:
    first = state["candidates"][0]
    if first.get("run") is None:
        return None
    run = ctx.run(first["run"])
    return run if ctx.variant_path(run, "fp32").is_file() else None
