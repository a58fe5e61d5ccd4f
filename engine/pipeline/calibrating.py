"""The calibration_sweep verb: how many calibration images INT8 needs, and whether they cover and leak.

For each size it quantizes the run's FP32 network with that many images of the chosen split (drawn with the
seed: exactly the subset optimize would use at that size) and scores the result on the val split, so a user
sees where more images stop buying accuracy. Every size also reports its per-class coverage and its overlap
with the val/test splits (by content hash).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from engine.choices import CALIBRATION_SWEEP
from engine.compression.ptq import quantize_int8
from engine.errors import StudioError
from engine.pipeline.context import Context, run_log
from engine.pipeline.network import TrainedNetwork, calibration_set, val_samples
from engine.store.atomic import write_json

log = logging.getLogger(__name__)

SWEEP = CALIBRATION_SWEEP


def calibration_sweep(
    ctx: Context, run_id: int | str, *, sizes: Sequence[int] = SWEEP, split: str = "train", seed: int = 0
) -> dict:
    run = ctx.run(run_id)
    if not sizes or any(size < 0 for size in sizes):
        msg = f"--sizes must be calibration sizes of at least 1 (0 = the whole split), got {list(sizes)}"
        raise StudioError(msg)
    net = TrainedNetwork.of(ctx, run)
    val = val_samples(ctx, run)
    rows, seen = [], set()
    with run_log(ctx.run_dir(run)):
        fp32 = net.score(net.fp32, val)
        for size in sizes:
            subset, report = calibration_set(ctx, run, split, size, seed)
            if len(subset) in seen:  # e.g. 300 and "all" of a 200-image split
                continue
            seen.add(len(subset))
            log.info("calibration sweep: %d %s images", len(subset), split)
            start = time.perf_counter()
            quantized = quantize_int8(net.fp32, subset, net.baseline.img_size)
            seconds = time.perf_counter() - start
            metric = net.score(quantized, val)
            rows.append(
                {
                    "size": len(subset),
                    "requested": size or "all",
                    "metric": metric,
                    "drop_pp": 100 * (fp32 - metric),
                    "quantize_s": seconds,
                    "classes_covered": sum(1 for row in report["coverage"] if row["images"]),
                    "coverage": report["coverage"],
                    "overlap": {name: found["images"] for name, found in report["overlap"].items()},
                    "warnings": report["warnings"],
                }
            )
    result = {
        "run": run["id"],
        "metric": net.metric,
        "metric_name": net.metric_name,
        "split": split,
        "scored_on": "val",
        "fp32": fp32,
        "classes": len(net.baseline.labels),
        "rows": sorted(rows, key=lambda row: row["size"]),
    }
    write_json(ctx.run_dir(run) / "calibration_sweep.json", result)
    return result
