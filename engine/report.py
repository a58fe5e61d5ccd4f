"""Plain-text rendering of verb results for the terminal (``--json`` gives the machine form)."""

from __future__ import annotations

from typing import Any


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def render(result: Any) -> str:
    if isinstance(result, list):
        if not result:
            return "(none)"
        columns = [k for k in result[0] if not isinstance(result[0][k], dict | list)]
        return table(result, columns)
    if "primary_metric" in result and isinstance(result.get("variants"), dict):  # optimize
        key = result["primary_metric"]
        rows = [
            {**v, "size_MB": v["size_bytes"] / 1e6, "agree_fp32": v["agreement"].get("fp32")}
            for v in result["variants"].values()
        ]
        return table(
            rows, ["variant", "precision", key, "drop_vs_torch_pp", "agree_fp32", "size_MB", "size_ratio_vs_fp32"]
        )
    if "results" in result:  # benchmark
        rows = [
            {
                "variant": r["variant"],
                "device": r["device"],
                "precision": r.get("inference_precision"),
                "median_ms": r.get("latency_ms", {}).get("median"),
                "p99_ms": r.get("latency_ms", {}).get("p99"),
                "fps": r.get("throughput", {}).get("fps"),
                "contended": r["environment"]["contended"],
            }
            for r in result["results"]
        ]
        return table(rows, list(rows[0]) if rows else ["variant"])
    if "splits" in result:  # data import / data info
        return _dataset(result)
    if "predictions" in result:
        return table(
            [{"image": p["image"], "prediction": _prediction(p)} for p in result["predictions"]],
            ["image", "prediction"],
        )
    return "\n".join(f"{k}: {_fmt(v)}" for k, v in result.items() if not isinstance(v, list) or len(v) < 12)


def _prediction(p: dict) -> str:
    if "detections" in p:
        found = ", ".join(f"{d['label_name']} {d['score']:.2f}" for d in p["detections"])
        return f"{len(p['detections'])} object(s) >= {p['threshold']}: {found}" if found else "no objects"
    if "class_area" in p:
        return ", ".join(
            f"{name} {share:.0%}" for name, share in sorted(p["class_area"].items(), key=lambda kv: -kv[1])
        )
    return f"{p.get('label_name', p.get('label'))} {p.get('score', 0):.3f}"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "-"
    return str(value)


def _dataset(info: dict) -> str:
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
    if "boxes_per_image" in info:  # detection: per-class counts above are objects
        per_image = info["boxes_per_image"]
        lines += [
            "",
            "(per-class counts are objects; total is images)",
            f"boxes per image: {per_image.get('min')}-{per_image.get('max')} (median {per_image.get('median')})",
            "box sizes: " + ", ".join(f"{k} {v}" for k, v in info["box_size_buckets"].items()),
        ]
    if "mask_class_area" in info:  # segmentation: per-class counts above are images containing the class
        lines += ["", "(per-class counts are images containing the class)"]
        lines += ["share of annotated pixels: " + ", ".join(f"{k} {v:.1%}" for k, v in info["mask_class_area"].items())]
    problems = info.get("problems", [])
    lines += ["", f"problems: {len(problems) or 'none'}"]
    lines += [f"  {p['kind']}: {p['file']} — {p['message']} ({p['action']})" for p in problems[:20]]
    if len(problems) > 20:
        lines.append(f"  ... {len(problems) - 20} more (--json lists all)")
    return "\n".join(lines)
