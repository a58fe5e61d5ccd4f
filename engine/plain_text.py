"""Plain-text rendering of verb results for the terminal (``--json`` gives the machine form).

A result is rendered by the type its verb declares (:mod:`engine.results`), never by sniffing its keys.
"""

from __future__ import annotations

import datetime
import math
import typing
from collections.abc import Callable
from typing import Any

from engine import results as r
from engine.pipeline.search_ranking import point_key, runoff_summary
from engine.tasks import get_task
from engine.verdict import verdict


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[_fmt(row.get(c), c) for c in columns] for row in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def render(result: Any, kind: object = None) -> str:
    """``result`` of a verb whose declared return type is ``kind``."""
    if kind in RENDERERS:
        return RENDERERS[kind](result)
    if typing.get_origin(kind) is list or isinstance(result, list):
        return _rows(result)
    return _fields(result)


def _rows(rows: list) -> str:
    if not rows:
        return "(none)"
    if not isinstance(rows[0], dict):
        return "\n".join(str(v) for v in rows)
    columns = [k for k in rows[0] if not isinstance(rows[0][k], dict | list)]
    return table(rows, columns)


def _fields(result: dict) -> str:
    return "\n".join(f"{k}: {_fmt(v)}" for k, v in result.items() if not isinstance(v, list) or len(v) < 12)


def _optimize(result: r.OptimizeResult) -> str:
    key = result["primary_metric"]
    rows = [
        {**v, "size_MB": v["size_bytes"] / 1e6, "agree_fp32": v["agreement"].get("fp32")}
        for v in result["variants"].values()
    ]
    text = table(rows, ["variant", "precision", key, "drop_vs_torch_pp", "agree_fp32", "size_MB", "size_ratio_vs_fp32"])
    failed = [f"{name} failed: {why}" for name, why in result.get("failed", {}).items()]
    return "\n".join([text, *failed])


def _int8_gains(result: r.Int8GainsResult) -> str:
    """One row per architecture: FP32 and INT8 IR latency here and INT8's speed-up, with the CPU named."""
    machine = result["machine"]
    rows = [
        {
            "architecture": row["arch"],
            "px": row["size"],
            "FP32 IR ms": f"{row['latency_ms']['fp32 (default hint)']:.2f} ({row['precision']['fp32 (default hint)']})",
            "INT8 IR ms": f"{row['latency_ms']['int8 (default hint)']:.2f}",
            "INT8 vs FP32": f"{row['int8_vs_fp32_default']:.2f}x",
            "contended": "yes" if row["contended"] else "no",
        }
        for row in result["rows"]
    ]
    head = f"{result['task']} on {machine['cpu_model']} ({', '.join(machine['isa']) or 'no AVX2'})"
    columns = ["architecture", "px", "FP32 IR ms", "INT8 IR ms", "INT8 vs FP32", "contended"]
    return "\n".join([head, table(rows, columns), f"kept for this CPU in {result['saved']}"])


def _profile(result: r.ProfileResult) -> str:
    """Per variant: total, INT8 share, precision split, slowest layers, float layers by reason; then op types."""
    lines = []
    for name, prof in result["profiles"].items():
        split = ", ".join(f"{row['precision']} {row['share']:.0%}" for row in prof["by_precision"])
        lines.append(
            f"{name} on {result['device']} ({prof['inference_precision']}): {prof['total_ms']:.3f} ms in"
            f" {prof['layer_count']} executed layers; INT8 kernels {prof['int8_share']:.0%} of the time ({split});"
            f" {prof['quantized_ops']} compute ops quantized, {len(prof['float_compute'])} in float"
        )
        reasons: dict[str, int] = {}
        for layer in prof["float_compute"]:
            reasons[layer["reason"]] = reasons.get(layer["reason"], 0) + 1
        lines += [f"  {count} x {reason}" for reason, count in reasons.items()]
        lines.append(table(prof["layers"][:8], ["name", "type", "kernel", "precision", "ms"]))
    names = list(result["profiles"])
    lines.append(table(result["by_type"], ["type", *(f"{n} ms" for n in names)]))
    return "\n".join(lines)


def _sensitivity(result: r.SensitivityResult) -> str:
    """FP32 vs INT8 on val, the most sensitive groups, the suggested scope."""
    name, pp = result["metric_name"], 100
    lines = [
        f"val {name} ({result['images']} images): FP32 {pp * result['fp32']:.2f}, INT8 {pp * result['int8']:.2f}"
        f" ({len(result['groups'])} quantizer groups, {result['fake_quantize']} FakeQuantize)",
        *(f"warning: {w}" for w in result["calibration"]["warnings"]),
        "most sensitive groups (val metric with the group alone in float):",
        table(
            [{**g, "layers": ", ".join(g["operations"])[:90], name: g["metric"]} for g in result["groups"][:12]],
            ["group", name, "recovered_pp", "quantizers", "layers"],
        ),
    ]
    suggested = result["suggested"]
    lines.append(f"suggested ignored scope (max drop {pp * result['max_drop']:.2g} pp): {suggested['why']}")
    if suggested["ignored_scope"]:
        lines.append(f"  val {name} {pp * suggested['metric']:.2f} (drop {suggested['drop_pp']:.2f} pp) with:")
        lines += [f"  {op}" for op in suggested["ignored_scope"]]
        calib = suggested.get("calibration", {})
        flags = f" --calib-size {calib['images']} --calib-split {calib['split']}" if calib else ""
        lines.append(f"  make it: python -m engine optimize {result['run']} --variants int8-custom{flags}")
    return "\n".join(lines)


def _calibration(result: r.CalibrationSweepResult) -> str:
    name = result["metric_name"]
    rows = [
        {**row, name: row["metric"], "classes": f"{row['classes_covered']}/{result['classes']}",
         "overlap": ", ".join(f"{k} {v}" for k, v in row["overlap"].items())}
        for row in result["rows"]
    ]  # fmt: skip
    lines = [
        f"INT8 calibrated on the {result['split']} split, scored on {result['scored_on']}"
        f" (FP32 {name} {result['fp32']:.4f}):",
        table(rows, ["size", "requested", name, "drop_pp", "quantize_s", "classes", "overlap"]),
    ]
    warnings = dict.fromkeys(w for row in result["rows"] for w in row["warnings"])
    lines += [f"warning: {w}" for w in warnings]
    return "\n".join(lines)


def _search(result: r.SearchResult) -> str:
    """Candidates, every point (Pareto-optimal ones starred), the floor and the pick."""
    name = result["metric_name"]
    lines = [
        f"search {result['search']} on dataset {result['dataset']} ({result['task']}, {result['device']}):"
        f" {result['status']}, {result.get('seconds', 0) / 60:.1f} of {result['budget_minutes']:g} min",
        table(result["candidates"], ["arch", "img_size", "bound", "status", "run", "epochs", "seconds", "error"]),
        *(
            f"{c['arch']}@{c['img_size']} {variant} failed: {why}"
            for c in result["candidates"]
            for variant, why in (c.get("failed_variants") or {}).items()
        ),
    ]
    front = set(result.get("front", []))
    rows = [{**p, "front": "*" if point_key(p) in front else "", name: p["metric"]} for p in result.get("points", [])]
    if rows:
        columns = ["front", "candidate", "variant", name, "latency_ms", "speedup", "inference_precision", "run"]
        lines.append(table(rows, columns))
    if result.get("floor") is not None:
        lines.append(f"floor: {name} >= {result['floor']:.4f} (reference FP32 IR minus {result['max_drop']:g})")
    if sentence := runoff_summary(result):
        lines.append(sentence)
    pick = result.get("pick")
    if pick:
        lines.append(
            f"pick: {pick['candidate']} {pick['variant']} (run {pick['run']}): {name} {pick['metric']:.4f},"
            f" {pick['speedup']:.2f}x the reference's speed on {result['device']} ({pick['inference_precision']})"
        )
        if pick.get("speedup_vs_default_arch") is not None:
            default = result["default_arch_best"]
            lines.append(
                f"  {pick['speedup_vs_default_arch']:.2f}x the fastest {default['arch']} that keeps the accuracy"
                f" ({default['candidate']} {default['variant']})"
            )
    elif result.get("floor") is not None:
        lines.append("pick: none of the candidates keeps the accuracy")
    return "\n".join(lines)


def _searches(results: list) -> str:
    rows = [
        {
            "search": s["search"],
            "dataset": s["dataset"],
            "status": s["status"],
            "candidates": len(s["candidates"]),
            "pick": s["pick"] and point_key(s["pick"]),
            "speedup": s["pick"] and s["pick"]["speedup"],
        }
        for s in results
    ]
    return table(rows, ["search", "dataset", "status", "candidates", "pick", "speedup"])


def _benchmark(result: r.BenchmarkResult) -> str:
    rows = [
        {
            "variant": res["variant"],
            "device": res["device"],
            "precision": res.get("inference_precision"),
            "median_ms": res.get("latency_ms", {}).get("median"),
            "p99_ms": res.get("latency_ms", {}).get("p99"),
            "fps": res.get("throughput", {}).get("fps"),
            "contended": res["environment"]["contended"],
        }
        for res in result["results"]
    ]
    return table(rows, list(rows[0]) if rows else ["variant"])


def _display_table(result: r.VariantTable | r.BenchmarkTable) -> str:
    rows = [{**row, result["metric_name"]: row.get("metric")} for row in result["rows"]]
    columns = [c for c in (rows[0] if rows else {}) if c not in ("metric", "config")]
    return table(rows, columns)


def _variant_table(result: r.VariantTable) -> str:
    return "\n".join([_display_table(result), *(f"warning: {w}" for w in result["warnings"])])


def _benchmark_table(result: r.BenchmarkTable) -> str:
    return f"{_display_table(result)}\n\n{verdict(result)}"


def _predict(result: r.PredictResult) -> str:
    rows = [{"image": p["image"], "prediction": get_task(p["task"]).describe_text(p)} for p in result["predictions"]]
    return table(rows, ["image", "prediction"])


def _compare(result: r.CompareResult) -> str:
    head = (
        f"run {result['run']}: {result['a']} vs {result['b']} differ on {result['label_flips']} of {result['images']}"
    )
    shown = result["rows"][:20]
    columns = ["index", "target", result["a"], result["b"], "agreement"]
    more = f"\n... {len(result['rows']) - 20} more (--json lists all)" if len(result["rows"]) > 20 else ""
    return f"{head} {result['split']} images (most-disagreeing first)\n{table(shown, columns)}{more}"


def _saliency(result: r.SaliencyResult) -> str:
    sim = result["similarity"]
    lines = [
        f"run {result['run']} · {result['image']} · {result['explained']} ({result['masks']} masks)",
        f"{result['a']} vs {result['b']}: correlation {sim['correlation']:.2f}, top-20% overlap {sim['top20_iou']:.2f}"
        f" ({result['seconds']['original']:.1f} s + {result['seconds']['optimized']:.1f} s)",
    ]
    return "\n".join(lines + [f"wrote {p}" for p in result["saved"]])


def _report(result: r.ReportResult) -> str:
    return f"wrote {result['path']} ({result['size_bytes'] / 1e6:.2f} MB): {', '.join(result['sections'])}"


def _deploy(result: r.DeployResult) -> str:
    served = result["ovms"]
    where = []
    if served is not None:
        models = ", ".join(served["models"])
        where = [f"OVMS model {served['name']} version {served['version']}; {served['config']} serves {models}"]
    return "\n".join(
        [
            f"wrote {result['path']} ({result['size_bytes'] / 1e6:.2f} MB): {', '.join(result['files'])}",
            *where,
            "",
            *(
                ["run it with Model API:", result["snippets"]["model_api"]]
                if "model_api" in result["snippets"]
                else [result["snippets"]["onnx"]]
            ),
        ]
    )


def _job_logs(result: r.JobLogs) -> str:
    head = f"job {result['job']} ({result['status']}, {result['backend']} backend)"
    return "\n".join([head, *(result["lines"] or ["(nothing printed yet)"])])


def _dataset(info: r.DatasetInfo) -> str:
    size = info["image_size"]
    head = [
        f"dataset {info.get('dataset', '')}: {info['task']}, format {info['format']}, {info['num_images']} images",
        f"image size: width {size['width']['min']}-{size['width']['max']} (median {size['width']['median']}),"
        f" height {size['height']['min']}-{size['height']['max']} (median {size['height']['median']})",
        "",
    ]
    splits = info["splits"]
    rows = [{"class": name, **{s: splits[s]["per_class"].get(name, 0) for s in splits}} for name in info["labels"]]
    rows.append({"class": "total", **{s: splits[s]["images"] for s in splits}})
    lines = [*head, table(rows, ["class", *splits])]
    notes = get_task(info["task"]).dataset_notes(info)
    if notes:
        lines += ["", *notes]
    lines += [f"note: {n['kind']}: {n['message']} — {n['action']}" for n in info.get("notes", [])]
    problems = info.get("problems", [])
    lines += ["", f"problems: {len(problems) or 'none'}"]
    lines += [f"  {p['kind']}: {p['file']} — {p['message']} ({p['action']})" for p in problems[:20]]
    if len(problems) > 20:
        lines.append(f"  ... {len(problems) - 20} more (--json lists all)")
    return "\n".join(lines)


TIME_COLUMNS = ("created", "started", "finished", "updated", "time")  # Unix times, shown as local time


def number(value: float) -> str:
    """At most 4 significant digits and never e-notation: 0.3842, 12.35, 497.4, 12,346 (CLI and pages alike)."""
    if math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    if abs(value) < 1e-4:
        return "<0.0001" if value > 0 else ">-0.0001"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    digits = min(max(0, 3 - math.floor(math.log10(abs(value)))), 4)
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"


def _fmt(value: Any, column: str = "") -> str:
    if value is None:
        return "-"
    if column in TIME_COLUMNS and isinstance(value, int | float) and value > 1e8:
        return datetime.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dict):  # per-class scores: "cat 0.91, dog 0.45", the first 12 of them
        shown = ", ".join(f"{k} {_fmt(v)}" for k, v in list(value.items())[:12])
        return shown + (f", ... ({len(value) - 12} more)" if len(value) > 12 else "")
    return str(value)


def _weights(rows: list[r.WeightsRow]) -> str:
    shown = [{**row, "present": "yes" if row["present"] else "no", "sha256": row["sha256"][:12]} for row in rows]
    folder = rows[0]["folder"] if rows else ""
    text = table(shown, ["arch", "task", "kind", "file", "present", "sha256", "source"])
    return f"weights folder: {folder}\n{text}"


def _weights_import(result: r.WeightsImport) -> str:
    lines = [
        f"stored {i['file']} ({i['kind']}, sha256 {i['sha256'][:12]}, checked by {i['checked']})"
        for i in result["imported"]
    ]
    return "\n".join([*lines, f"in {result['folder']}"])


RENDERERS: dict[object, Callable[[Any], str]] = {
    list[r.WeightsRow]: _weights,
    r.WeightsImport: _weights_import,
    r.OptimizeResult: _optimize,
    r.BenchmarkResult: _benchmark,
    r.ProfileResult: _profile,
    r.Int8GainsResult: _int8_gains,
    r.SensitivityResult: _sensitivity,
    r.CalibrationSweepResult: _calibration,
    r.SearchResult: _search,
    list[r.SearchResult]: _searches,
    r.VariantTable: _variant_table,
    r.BenchmarkTable: _benchmark_table,
    r.PredictResult: _predict,
    r.CompareResult: _compare,
    r.SaliencyResult: _saliency,
    r.ReportResult: _report,
    r.DeployResult: _deploy,
    r.DatasetInfo: _dataset,
    r.JobLogs: _job_logs,
}
