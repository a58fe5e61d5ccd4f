"""The sensitivity verb: which quantized layer groups cost the accuracy, and the ignored scope that wins it back.

Every group NNCF's accuracy restorer would consider (``engine.compression.sensitivity``) is put back in float
alone and the network scored on the val split: the groups are ranked by the metric they recover. Then the
helpful groups are reverted together, best first, one more at a time, scoring each prefix: the shortest
prefix within ``max_drop`` of FP32 is the suggested ignored scope. ``optimize --variants int8-custom``
quantizes again with that scope (real int8 weights, like ``int8``) so its speed and accuracy join the tables.
"""

from __future__ import annotations

import logging

from engine.compression.sensitivity import QuantizerGroups, fake_quantize_count
from engine.errors import StudioError
from engine.pipeline.context import Context, run_log
from engine.pipeline.network import TrainedNetwork, calibration_set, val_samples
from engine.store.atomic import read_json, write_json

log = logging.getLogger(__name__)

MAX_PATH = 20  # groups reverted together at most when looking for the scope


def sensitivity(
    ctx: Context,
    run_id: int | str,
    *,
    max_drop: float = 0.005,
    calib_size: int = 300,
    calib_split: str = "train",
    seed: int = 0,
) -> dict:
    run = ctx.run(run_id)
    if not 0 <= max_drop < 1:
        msg = f"--max-drop is a fraction of the metric between 0 and 1 (0.005 = 0.5 pp), got {max_drop}"
        raise StudioError(msg)
    net = TrainedNetwork.of(ctx, run)
    val = val_samples(ctx, run)
    subset, calibration = calibration_set(ctx, run, calib_split, calib_size, seed)
    with run_log(ctx.run_dir(run)):
        fp32 = net.score(net.fp32, val)
        groups = QuantizerGroups(net.fp32, subset, net.baseline.img_size)
        int8 = net.score(groups.quantized, val)
        count = len(groups.groups)
        log.info("sensitivity: %d quantizer groups; val %s FP32 %.4f, INT8 %.4f", count, net.metric, fp32, int8)
        entries = []
        for index, group in enumerate(groups.groups):
            metric = net.score(groups.keep_float([index]), val)
            log.info("group %d/%d %s: %.4f", index + 1, len(groups.groups), group.operations[0], metric)
            entries.append(
                {
                    "group": index,
                    "operations": list(group.operations),
                    "types": list(group.types),
                    "quantizers": group.quantizers,
                    "metric": metric,
                    "recovered_pp": 100 * (metric - int8),
                    "drop_pp": 100 * (fp32 - metric),
                }
            )
        entries.sort(key=lambda e: (-e["metric"], e["group"]))
        path = _path(groups, net, val, entries, fp32, max_drop, int8)
    result = {
        "run": run["id"],
        "metric": net.metric,
        "metric_name": net.metric_name,
        "split": "val",
        "images": len(val),
        "fp32": fp32,
        "int8": int8,
        "max_drop": max_drop,
        "fake_quantize": fake_quantize_count(groups.quantized),
        "calibration": calibration,
        "groups": entries,
        "path": path,
        "suggested": suggest(path, fp32, int8, max_drop),
    }
    write_json(ctx.run_dir(run) / "sensitivity.json", result)
    return result


def _path(groups, net, val, entries, fp32, max_drop, int8) -> list[dict]:
    """Revert the helpful groups together, best first, scoring each prefix (stops once within ``max_drop``)."""
    helpful = [e for e in entries if e["metric"] > int8][:MAX_PATH]
    path, chosen = [], []
    for entry in helpful:
        if fp32 - (path[-1]["metric"] if path else int8) <= max_drop:
            break
        chosen.append(entry["group"])
        metric = net.score(groups.keep_float(chosen), val)
        scope = [name for e in entries if e["group"] in chosen for name in e["operations"]]
        path.append({"groups": len(chosen), "metric": metric, "drop_pp": 100 * (fp32 - metric), "ignored_scope": scope})
        log.info("keeping %d groups in float: val %s %.4f", len(chosen), net.metric, metric)
    return path


def suggest(path: list[dict], fp32: float, int8: float, max_drop: float) -> dict:
    """The shortest prefix of ``path`` within ``max_drop`` of FP32 (else the best one found), as a scope."""
    if fp32 - int8 <= max_drop:
        why = f"INT8 is already within {100 * max_drop:.2g} pp of FP32 on val: nothing needs to stay float"
        return {"ignored_scope": [], "metric": int8, "drop_pp": 100 * (fp32 - int8), "reached": True, "why": why}
    reaching = [step for step in path if fp32 - step["metric"] <= max_drop]
    if reaching:
        return {**reaching[0], "reached": True, "why": f"{reaching[0]['groups']} group(s) kept in float"}
    if not path:
        return {"ignored_scope": [], "metric": int8, "drop_pp": 100 * (fp32 - int8), "reached": False,
                "why": "no single group recovers any accuracy: try more calibration images or int8-qat"}  # fmt: skip
    best = max(path, key=lambda step: (step["metric"], -step["groups"]))
    why = f"no scope of up to {MAX_PATH} groups reaches the target; the best one found keeps {best['groups']}"
    return {**best, "reached": False, "why": why}


def suggested_scope(ctx: Context, run: dict) -> list[str]:
    """The scope the run's last sensitivity analysis suggested (``int8-custom`` without ``--ignored-scope``)."""
    saved = ctx.run_dir(run) / "sensitivity.json"
    scope = read_json(saved)["suggested"]["ignored_scope"] if saved.is_file() else []
    if not scope:
        msg = (
            "int8-custom needs the layers to keep in float: give --ignored-scope NAMES|FILE, or run"
            f" `python -m engine sensitivity {run['id']}` first (its suggested scope is used)"
        )
        raise StudioError(msg)
    return scope
