"""The sensitivity verb: which quantized layer groups cost the accuracy, and the ignored scope that wins it back.

Every group NNCF's accuracy restorer would consider (``engine.compression.sensitivity``) is put back in float
alone and the network scored on the val split: the groups are ranked by the metric they recover (a cheap
revert, as NNCF ranks). Then the helpful groups are kept in float together, best first, one more at a time,
and each such scope is *quantized again* with ``nncf.IgnoredScope`` on the same calibration subset, exactly
as ``optimize --variants int8-custom`` will build it: a revert and a re-quantization differ (bias correction
of the layers after an ignored one changes), so the suggested scope's metric is the one int8-custom gets on
val. The shortest scope within ``max_drop`` of FP32 is suggested.
"""

from __future__ import annotations

import logging

from engine.choices import CALIB_SIZE
from engine.compression.ptq import quantize_int8
from engine.compression.sensitivity import QuantizerGroups, fake_quantize_count
from engine.errors import StudioError
from engine.pipeline.context import Context, run_log
from engine.pipeline.network import TrainedNetwork, calibration_set, val_samples
from engine.store.atomic import read_json, write_json

log = logging.getLogger(__name__)

MAX_PATH = 20  # groups reverted together at most when looking for the scope
TOLERANCE = 1e-6  # float noise: a drop of exactly max_drop (0.9700 - 0.9650) counts as within it


def sensitivity(
    ctx: Context,
    run_id: int | str,
    *,
    max_drop: float = 0.005,
    calib_size: int = CALIB_SIZE,
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
        path = _path(net, subset, val, entries, fp32, max_drop, int8)
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
    result["suggested"]["calibration"] = {"split": calib_split, "images": len(subset)}
    write_json(ctx.run_dir(run) / "sensitivity.json", result)
    return result


def _path(net, subset, val, entries, fp32, max_drop, int8) -> list[dict]:
    """Quantize again with the helpful groups in float, best first, one more each time, scoring each scope on
    val (stops once within ``max_drop``)."""
    helpful = [e for e in entries if e["metric"] > int8][:MAX_PATH]
    path, scope = [], []
    for count, entry in enumerate(helpful, start=1):
        if fp32 - (path[-1]["metric"] if path else int8) <= max_drop + TOLERANCE:
            break
        scope = [*scope, *entry["operations"]]
        network = quantize_int8(net.fp32, subset, net.baseline.img_size, ignored_scope=scope)
        metric = net.score(network, val)
        path.append({"groups": count, "metric": metric, "drop_pp": 100 * (fp32 - metric), "ignored_scope": scope,
                     "fake_quantize": fake_quantize_count(network)})  # fmt: skip
        log.info("re-quantized with %d groups in float: val %s %.4f", count, net.metric, metric)
    return path


def suggest(path: list[dict], fp32: float, int8: float, max_drop: float) -> dict:
    """The shortest prefix of ``path`` within ``max_drop`` of FP32 (else the best one found), as a scope."""
    if fp32 - int8 <= max_drop + TOLERANCE:
        why = f"INT8 is already within {100 * max_drop:.2g} pp of FP32 on val: nothing needs to stay float"
        return {"ignored_scope": [], "metric": int8, "drop_pp": 100 * (fp32 - int8), "reached": True, "why": why}
    reaching = [step for step in path if fp32 - step["metric"] <= max_drop + TOLERANCE]
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
