"""What the verbs return: plain dicts with a declared shape (the CLI prints them with ``--json``).

Each verb's return annotation names one of these types; ``engine.plain_text`` renders a result by that type,
never by looking at which keys it happens to have.
"""

from __future__ import annotations

from typing import Any, TypedDict


class SampleResult(TypedDict):
    task: str
    path: str
    images: dict[str, int]  # per split


class DatasetInfo(TypedDict, total=False):
    dataset: int
    name: str
    source: str
    task: str
    format: str
    labels: list[str]
    num_images: int
    splits: dict[str, dict]  # split -> {"images": n, "per_class": {class: n}}
    image_size: dict[str, dict]
    image_sizes: list[list[int]]
    problems: list[dict]  # {"kind", "file", "message", "action"}
    count_unit: str  # what the per-class counts count ("images", "objects")
    charts: list[dict]  # the task's statistics as charts: {"kind", "title", "x", "y", "rows"}
    notes: list[dict]  # what the statistics mean for training: {"kind", "message", "action"} (engine.data.notes)


class DatasetRow(TypedDict):
    dataset: int
    name: str
    task: str
    format: str
    images: int


class SampleRow(TypedDict):
    image: str
    target: Any
    caption: str


class TrainResult(TypedDict, total=False):
    run: int
    status: str  # completed | early_stopped | cancelled
    task: str
    model: str
    best_epoch: int
    epochs_done: int
    pretrained: bool
    weights_notice: str


class SearchResult(TypedDict, total=False):
    search: int
    dataset: int
    task: str
    metric: str  # the primary metric's key
    metric_name: str
    device: str
    max_drop: float  # the floor is the reference FP32 IR's test metric minus this
    budget_minutes: float
    variants: list[str]
    status: str  # running | completed | cancelled | failed | interrupted (killed: resume it)
    seconds: float  # spent so far, over every attempt
    candidates: list[dict]  # arch, img_size, status, run, epochs, epoch_s, seconds, error, points, probe, bound
    probe_seconds: float  # spent timing every candidate at random init before training (engine.pipeline.search_probe)
    runoff: dict  # the contenders timed again together before the pick: points, rounds, reference_ms, seconds
    runoff_error: str  # why the runoff could not run (the pick then stands on each candidate's own timing)
    floor: float | None
    reference: dict | None  # the reference's FP32 point
    points: list[dict]  # candidate, variant, run, metric, latency_ms, speedup (vs the reference beside it)...
    front: list[str]  # "arch@size/variant" of the Pareto-optimal points, fastest first
    pick: dict | None  # the fastest point at or above the floor (with speedup_vs_default_arch)
    default_arch_best: dict | None  # the fastest point of the default architecture at or above the floor


class EvaluateResult(TypedDict):
    run: int
    variant: str
    split: str
    device: str
    metrics: dict


class OptimizeResult(TypedDict):
    run: int
    primary_metric: str
    variants: dict[str, dict]  # name -> metric, drop_vs_torch_pp, agreement, size_bytes, size_ratio_vs_fp32...
    failed: dict[str, str]  # name -> why that variant could not be built (the others were)


class BenchmarkResult(TypedDict):
    run: int
    results: list[dict]  # one per variant x device x precision (latency_ms, throughput, environment...)


class BenchmarkTable(TypedDict):
    run: int
    metric: str
    metric_name: str
    rows: list[dict]
    samples: list[dict]  # {"config", "latency_ms"} per request
    contended: bool
    pick: dict | None  # the fastest variant that keeps accuracy and beats the FP32 IR here (None: none does)
    headline: dict | None  # the pick (else INT8) vs the original PyTorch model and the FP32 IR, in one line
    explanation: str  # why INT8 is (not) faster here: the ISA tier and the measured zoo table


class Int8GainsResult(TypedDict):
    task: str
    size: int  # px every architecture was measured at
    machine: dict  # cpu_model, cores, isa, openvino, default_inference_precision
    rows: list[dict]  # per architecture: latency_ms, precision, int8_vs_fp32_default, IR sizes, contended
    saved: str  # the workspace file that keeps them for this CPU


class ProfileResult(TypedDict):
    run: int
    device: str
    precision: str
    profiles: dict[str, dict]  # variant -> total_ms, by_type, by_precision, int8_share, float_compute, layers
    by_type: list[dict]  # op type -> ms per variant, side by side


class SaliencyResult(TypedDict):
    run: int
    a: str
    b: str
    image: str
    explained: str  # what the maps attribute (e.g. evidence for 'cat')
    similarity: dict  # correlation and top20_iou of the two maps
    seconds: dict  # original / optimized: time to compute each map
    masks: int
    saved: list[str]


class ReportResult(TypedDict):
    run: int
    path: str
    size_bytes: int
    sections: list[str]


class SensitivityResult(TypedDict):
    run: int
    metric: str
    metric_name: str
    split: str  # val: what every group is scored on
    images: int
    fp32: float
    int8: float
    max_drop: float
    fake_quantize: int  # FakeQuantize ops of the plain INT8 network
    calibration: dict  # split, images, coverage, overlap, warnings
    groups: list[dict]  # group, operations, types, quantizers, metric, recovered_pp, drop_pp (best first)
    path: list[dict]  # groups reverted together: groups, metric, drop_pp, ignored_scope
    suggested: dict  # ignored_scope, metric, drop_pp, reached, why


class CalibrationSweepResult(TypedDict):
    run: int
    metric: str
    metric_name: str
    split: str  # where the calibration images come from
    scored_on: str
    fp32: float
    classes: int
    rows: list[dict]  # size, requested, metric, drop_pp, quantize_s, classes_covered, coverage, overlap, warnings


class VariantTable(TypedDict):
    run: int
    metric: str
    metric_name: str
    rows: list[dict]
    warnings: list[str]  # calibration warnings of the stored INT8 variants (overlap with val/test, classes missed)


class PredictResult(TypedDict):
    run: int
    variant: str
    device: str
    predictions: list[dict]  # {"image", "task", ...the task's description..., "timing_ms", "saved"?}


class CompareResult(TypedDict):
    run: int
    a: str
    b: str
    split: str
    images: int
    label_flips: int
    rows: list[dict]


class OvmsVersion(TypedDict):
    repository: str
    name: str
    version: int
    path: str  # the version folder
    config: str  # the repository's config.json
    models: list[str]  # every model config.json names


class DeployResult(TypedDict):
    run: int
    variant: str
    path: str  # the zip, or the OVMS version folder
    size_bytes: int
    files: list[str]
    snippets: dict[str, str]
    ovms: OvmsVersion | None


class RunRow(TypedDict):
    run: int
    dataset: int
    task: str
    model: str
    status: str
    metric_name: str
    val_metric: float | None
    variants: list[str]
    metrics: dict


class RunDetail(TypedDict):
    run: int
    dataset: int
    task: str
    model: str
    status: str
    folder: str
    config: dict
    metrics: dict
    epochs: list[dict]
    variants: list[dict]
    benchmarks: list[dict]


class DemoResult(TypedDict, total=False):
    dataset: int
    run: int
    status: str
    variants: dict[str, float]
    benchmarks: int


class RepairResult(TypedDict):
    workspace: str
    datasets: int
    runs: int
    variants: int
    benchmarks: int
    damaged_copy: str | None  # the old database, kept
    skipped: list[str]  # folders that could not be read back, and why
    lost: str


class JobRow(TypedDict, total=False):
    id: int
    verb: str
    title: str
    status: str
    kwargs: dict
    run_id: int | None
    error: str
    result: Any
    backend: str  # local | ray
    backend_id: str | None  # the Ray submission id


class JobLogs(TypedDict):
    job: int
    backend: str
    status: str
    lines: list[str]


class WeightsRow(TypedDict):
    arch: str
    task: str
    weights: str  # the torchvision enum, e.g. ResNet18_Weights.IMAGENET1K_V1
    kind: str  # full model | backbone
    file: str  # torchvision's file name in the weights folder
    present: bool
    source: str  # where it was imported or fetched from
    sha256: str
    folder: str


class WeightsImport(TypedDict):
    imported: list[dict]  # file, sha256, kind, checked (how), path
    folder: str


class WeightsFetch(TypedDict):
    arch: str
    file: str
    path: str
    downloaded: bool  # False: it was already there
