"""The report verb: one self-contained HTML file per run that opens offline and says everything about it.

Machine (CPU model, ISA flags, what OpenVINO reports), library versions, dataset, training settings and
curves, the variant table, the benchmark headline, table and charts, and sample predictions of the original
and the optimized model. Charts are rendered to inline SVG by vl-convert (the same Altair charts the
dashboard draws, no JavaScript, no CDN); images are inline PNG.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import pandas as pd

from engine import charts
from engine.benchmark.machine import cpu_facts, versions
from engine.data.images import read_rgb
from engine.drawing import data_url
from engine.errors import StudioError
from engine.pipeline import runs
from engine.pipeline.benchmarking import benchmark_table
from engine.pipeline.context import Context
from engine.pipeline.optimizing import variant_predictor
from engine.store.atomic import write_text

SAMPLES = 4  # test images shown with both models' predictions

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b}
h1{color:#0068B5;margin-bottom:.2rem} h2{border-bottom:2px solid #0068B5;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem} td,th{border:1px solid #ccc;padding:.25rem .5rem}
th{background:#eef4fa;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
.headline{display:flex;gap:2rem;background:#eef4fa;padding:1rem 1.4rem;border-radius:8px;margin:1rem 0}
.headline div{font-size:.85rem;color:#444} .headline b{display:block;font-size:2rem;color:#0068B5}
.charts{display:flex;flex-wrap:wrap;gap:1rem} .pair{display:flex;gap:1rem;flex-wrap:wrap;margin:.6rem 0}
figure{margin:0} figcaption{font-size:.8rem;color:#444;max-width:300px} .muted{color:#666;font-size:.85rem}
"""


def report(ctx: Context, run_id: int | str, *, out: str | Path | None = None) -> dict:
    """Write the run's report card (``runs/<id>/report.html`` unless ``out``); returns its path and sections."""
    run = ctx.run(run_id)
    target = Path(out) if out else ctx.run_dir(run) / "report.html"
    if target.is_dir():
        target = target / f"run{run['id']}-report.html"
    if target.suffix.lower() not in (".html", ".htm"):
        msg = f"--out {target} should be an .html file (or a folder to write run{run['id']}-report.html into)"
        raise StudioError(msg)
    shown = runs.show_run(ctx, run["id"])
    variants = runs.variant_table(ctx, run["id"])
    measured = benchmark_table(ctx, run["id"])
    dataset = ctx.db.get_dataset(run["dataset_id"])
    sections = {
        "Result": _headline(measured),
        "Machine": _machine(),
        "Dataset": _dataset(dataset),
        "Training": _training(shown),
        "Variants": _variants(variants),
        "Benchmark": _benchmark(measured),
        "Sample predictions": _predictions(ctx, run, measured),
    }
    title = f"Run {run['id']} · {run['model']} · {run['task']}"
    body = "".join(f"<h2>{html.escape(name)}</h2>{content}" for name, content in sections.items())
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>Edge Model Studio · {html.escape(title)}</h1>"
        f"<p class='muted'>Report card written {time.strftime('%Y-%m-%d %H:%M:%S %Z')} · status {run['status']}"
        f" · workspace run folder {html.escape(shown['folder'])}</p>{body}</body></html>"
    )
    write_text(target, page)
    return {"run": run["id"], "path": str(target), "size_bytes": target.stat().st_size, "sections": list(sections)}


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p class='muted'>none</p>"
    columns = columns or list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(row.get(c)) for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    if isinstance(value, bool) or value is None:
        return f"<td>{'' if value is None else ('yes' if value else 'no')}</td>"
    if isinstance(value, float):
        return f"<td class='n'>{value:.4g}</td>"
    if isinstance(value, int):
        return f"<td class='n'>{value}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _svg(chart) -> str:
    import vl_convert

    return f"<figure>{vl_convert.vegalite_to_svg(chart.to_dict())}</figure>"


def _png(image) -> str:
    return f"<img alt='' src='{data_url(image)}'>"


def _headline(measured: dict) -> str:
    h = measured.get("headline")
    if not h:
        return "<p>Not benchmarked yet: run <code>python -m engine benchmark RUN</code> and write the card again.</p>"
    figures = []
    if h["speedup_vs_original"] is not None:
        figures.append(("speed vs the original PyTorch model", f"{h['speedup_vs_original']:.2f}x"))
    if h["speedup_vs_fp32_ir"] is not None:
        figures.append(("speed vs the FP32 IR", f"{h['speedup_vs_fp32_ir']:.2f}x"))
    if h["metric_change_pp"] is not None:
        figures.append((f"test {measured['metric_name']} change", f"{h['metric_change_pp']:+.1f} pp"))
    if h["size_ratio_vs_fp32"]:
        figures.append(("smaller than FP32", f"{h['size_ratio_vs_fp32']:.1f}x"))
    boxes = "".join(f"<div><b>{html.escape(v)}</b>{html.escape(k)}</div>" for k, v in figures)
    from engine.verdict import headline, verdict

    return (
        f"<div class='headline'>{boxes}</div><p>{html.escape(headline(measured))}.</p>"
        f"<p class='muted'>{html.escape(verdict(measured))}.</p>"
    )


def _machine() -> str:
    facts, libs = cpu_facts(), versions()
    rows = [
        {"": "CPU", "value": facts["cpu_model"]},
        {"": "cores", "value": facts["cores"]},
        {"": "ISA flags that matter", "value": ", ".join(facts["isa"]) or "none of AVX2/AVX-512/VNNI/AMX"},
        {"": "OpenVINO CPU device", "value": facts["full_device_name"]},
        {"": "OPTIMIZATION_CAPABILITIES", "value": ", ".join(facts["optimization_capabilities"])},
        {"": "default inference precision", "value": facts["default_inference_precision"]},
        {"": "OpenVINO build", "value": facts["openvino"]},
    ]
    return _table(rows) + _table([{"package": k, "version": v} for k, v in libs.items()])


def _dataset(dataset: dict) -> str:
    info = dataset["info"]
    counts = []
    for split, entry in info.get("splits", {}).items():
        per_class = entry.get("per_class", {}) if isinstance(entry, dict) else {}
        images = entry.get("images") if isinstance(entry, dict) else entry
        counts.append({"split": split, "images": images, **per_class})
    lead = (
        f"<p>Dataset {dataset['id']} · {html.escape(dataset['name'])} · format {html.escape(str(dataset['format']))}"
        f" · {len(info.get('labels', []))} classes: {html.escape(', '.join(info.get('labels', [])))}</p>"
    )
    return lead + _table(counts)


def _training(shown: dict) -> str:
    from engine.pipeline.runs import settings_rows

    parts = [_table(settings_rows(shown))]
    notice = shown["metrics"].get("weights_notice")
    if notice:
        parts.append(f"<p class='muted'>{html.escape(notice)}</p>")
    epochs = pd.DataFrame(shown["epochs"])
    if not epochs.empty:
        from engine.tasks import get_task

        task = get_task(shown["task"])
        curves = [charts.training_curves(epochs)]
        if task.primary_metric in epochs:
            curves.append(charts.metric_curve(epochs, task.primary_metric, task.metric_name))
        parts.append("<div class='charts'>" + "".join(_svg(c) for c in curves) + "</div>")
    return "".join(parts)


def _variants(table: dict) -> str:
    rows = table["rows"]
    used = [c for c in (rows[0] if rows else {}) if any(r[c] is not None for r in rows)]  # columns with a value
    title = {c: f"test {table['metric_name']}" if c == "metric" else c for c in used}
    renamed = [{title[c]: r[c] for c in used} for r in rows]
    warnings = "".join(f"<p class='muted'>warning: {html.escape(w)}</p>" for w in table["warnings"])
    return _table(renamed, list(title.values())) + warnings


def _benchmark(measured: dict) -> str:
    if not measured["rows"]:
        return "<p class='muted'>No benchmark yet.</p>"
    table = pd.DataFrame(measured["rows"])
    columns = ["config", "median ms", "p90 ms", "fps", "speed-up vs FP32", "metric", "contended"]
    parts = [_table(table[columns].rename(columns={"metric": f"test {measured['metric_name']}"}).to_dict("records"))]
    figures = []  # a chart with no rows would be an empty frame
    if measured["samples"]:
        figures.append(charts.latency_distribution(pd.DataFrame(measured["samples"])))
    if not (throughput := table.dropna(subset=["fps"])).empty:
        figures.append(charts.throughput_bars(throughput))
    scatter = table.dropna(subset=["median ms", "metric"]).rename(columns={"median ms": "latency_ms"})
    scatter = scatter.rename(columns={"metric": "accuracy"})
    if not scatter.empty:
        scatter["pareto"] = charts.pareto_front(scatter)
        figures.append(charts.accuracy_vs_latency(scatter, measured["metric_name"]))
    parts.append("<div class='charts'>" + "".join(_svg(f) for f in figures) + "</div>")
    if measured["contended"]:
        parts.append("<p class='muted'>Some rows were measured while other processes used the CPU.</p>")
    return "".join(parts)


def _predictions(ctx: Context, run: dict, measured: dict) -> str:
    names = [v["name"] for v in ctx.db.list_variants(run["id"])]
    h = measured.get("headline")
    optimized = h["variant"] if h else ("int8" if "int8" in names else None)
    shown = [v for v in dict.fromkeys(["torch-fp32", optimized]) if v in names]
    samples = ctx.samples(run, "test")
    if not shown or not samples:
        return "<p class='muted'>No variant or no test images to show.</p>"
    picked = samples[:: max(len(samples) // SAMPLES, 1)][:SAMPLES]
    predictors = {v: variant_predictor(ctx, run, v) for v in shown}
    task = next(iter(predictors.values())).task
    labels = next(iter(predictors.values())).labels
    blocks = []
    for path, target in picked:
        image = read_rgb(path)
        truth = task.ground_truth(target)
        caption = html.escape(task.caption(truth, labels))
        figures = [
            f"<figure>{_png(task.draw(image, truth, labels))}<figcaption>ground truth: {caption}</figcaption></figure>"
        ]
        for name, predictor in predictors.items():
            pred = predictor.predict([image])[0]
            figures.append(
                f"<figure>{_png(predictor.draw(image, pred))}<figcaption>{html.escape(name)}:"
                f" {html.escape(task.caption(pred, labels))}</figcaption></figure>"
            )
        blocks.append(f"<p class='muted'>{html.escape(Path(path).name)}</p><div class='pair'>{''.join(figures)}</div>")
    return "".join(blocks)
