"""Compare two variants of a run image by image: the predictions, their latency, how far they disagree."""

from __future__ import annotations

from engine.data.images import read_rgb
from engine.pipeline.context import Context
from engine.pipeline.optimizing import variant_predictor


def compare(
    ctx: Context, run_id: int | str, a: str = "torch-fp32", b: str = "int8", *, split: str = "test", limit: int = 500
) -> dict:
    """Predict ``split`` with both variants; rows sorted most-disagreeing first."""
    run = ctx.run(run_id)
    pa, pb = variant_predictor(ctx, run, a), variant_predictor(ctx, run, b)
    samples = ctx.samples(run, split)[:limit]
    labels, task = pa.labels, pa.task
    rows = []
    for index, (path, target) in enumerate(samples):
        image = read_rgb(path)
        ra, rb = pa.predict([image])[0], pb.predict([image])[0]
        agreement = task.agreement(ra, rb)
        rows.append(
            {
                "index": index,
                "image": path,
                "target": task.caption(task.ground_truth(target), labels),
                a: task.caption(ra, labels),
                b: task.caption(rb, labels),
                f"{a} score": ra.score,
                f"{b} score": rb.score,
                "agreement": agreement,
                "disagreement": 1.0 - agreement + abs(ra.score - rb.score) / 10,
                f"{a} ms": ra.timing.total_ms,
                f"{b} ms": rb.timing.total_ms,
            }
        )
    rows.sort(key=lambda r: -r["disagreement"])
    flips = sum(1 for r in rows if r["agreement"] < 1.0)
    return {"run": run["id"], "a": a, "b": b, "split": split, "images": len(rows), "label_flips": flips, "rows": rows}
