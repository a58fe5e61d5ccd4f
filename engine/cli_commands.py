"""What ``python -m engine`` offers: the subcommand of each facade verb (``COMMANDS``) and the help of every
parameter (``HELP``). engine/cli.py builds the parser from these and the verbs' own signatures; a variant's
options take their help from the variant's module (engine/export/variants/)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.choices import AUGMENT, BALANCE


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # the subcommand, e.g. ("data", "import")
    verb: str  # the facade function it calls
    help: str
    options: tuple[str, ...] = ()  # positional parameters given as --flags instead
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # extra flag spellings
    helps: dict[str, str] = field(default_factory=dict)  # this command's meaning of a shared parameter name
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)


COMMANDS = (
    Command(("sample",), "sample", "write a built-in sample dataset", options=("out",)),
    Command(("data", "import"), "import_dataset", "import a dataset folder or zip (format detected by Datumaro)"),
    Command(("data", "info"), "dataset_info", "counts per split/class, image sizes, problems found"),
    Command(("data", "list"), "list_datasets", "list imported datasets"),
    Command(("data", "formats"), "list_formats", "the dataset formats that can be imported"),
    Command(("data", "samples"), "dataset_samples", "a split's images with their annotations"),
    Command(
        ("train",),
        "train",
        "train a model on an imported dataset (or resume a run)",
        options=("dataset",),
        helps={"device": "where torch trains: cpu, cuda, or auto (cuda when torch sees a GPU; the default)"},
        choices={"device": ("auto", "cpu", "cuda"), "augment": tuple(AUGMENT), "balance": tuple(BALANCE)},
    ),
    Command(("evaluate",), "evaluate", "score one variant on a split"),
    Command(("optimize",), "optimize", "export OpenVINO IR variants and score them"),
    Command(
        ("benchmark",),
        "benchmark",
        "latency and throughput per variant, device and precision",
        aliases={"devices": ("--device",), "precisions": ("--precision",), "seconds": ("--time",)},
    ),
    Command(
        ("profile",),
        "profile",
        "per-layer time, kernel and precision of IR variants; why a layer stayed in float",
        aliases={"variants": ("--variant",)},
    ),
    Command(
        ("measure-int8",),
        "measure_int8",
        "what INT8 buys each architecture of a task on this CPU (kept for the Train page, search and verdict)",
        options=("task",),
        helps={
            "size": "input px (default: the task's realistic size: 224 classification, 320 detection, ...)",
            "archs": "comma-separated architectures (default: all of the task's)",
            "rounds": "interleaved rounds (every architecture's FP32 and INT8 IR once per round; medians)",
            "seconds": "timing window of each IR per round",
        },
    ),
    Command(
        ("sensitivity",),
        "sensitivity",
        "which INT8 layer groups cost the accuracy; the ignored scope that wins it back (int8-custom)",
    ),
    Command(
        ("calibration",),
        "calibration_sweep",
        "INT8 accuracy per calibration size, class coverage, overlap of calibration images with val/test",
    ),
    Command(
        ("search",),
        "search",
        "find the fastest model that keeps the accuracy",
        options=("dataset",),
        helps={
            "prune_ratio": "share of the channels pruned-int8 removes (0-1; more than optimize's 0.3: each point is"
            " checked against the floor)"
        },
    ),
    Command(("searches", "list"), "list_searches", "every search and its pick"),
    Command(("searches", "show"), "show_search", "a search's candidates, Pareto front and pick"),
    Command(("predict",), "predict", "predict image files with one variant"),
    Command(("compare",), "compare", "two variants on a split, most-disagreeing images first"),
    Command(("saliency",), "saliency", "where the original and the optimized model look (RISE maps), and how alike"),
    Command(("report",), "report", "write the run's report card: one HTML file that opens offline"),
    Command(
        ("deploy",),
        "deploy",
        "zip a variant's IR with labels, Model API metadata and run instructions (or the FP32 network as ONNX)",
        helps={
            "format": "openvino (the variant's IR; the default) or onnx (the trained FP32 network, opset 17)",
            "ovms": "an OpenVINO Model Server repository folder: publish the IR as the model's next version",
            "name": "the OVMS model name (default: <architecture>-<variant>)",
        },
        choices={"format": ("openvino", "onnx")},
    ),
    Command(("runs", "list"), "list_runs", "every run"),
    Command(("runs", "show"), "show_run", "a run's configuration, epochs, variants and benchmarks"),
    Command(("runs", "variants"), "variant_table", "a run's variants: metric, drop, agreement, size"),
    Command(("runs", "benchmarks"), "benchmark_table", "a run's newest benchmark results"),
    Command(("devices",), "devices", "OpenVINO devices and their key properties"),
    Command(("weights", "list"), "list_weights", "the ImageNet weights each architecture uses, present or not"),
    Command(
        ("weights", "import"),
        "import_weights",
        "check and store pretrained weights from a file, folder or zip (offline machines)",
        helps={"arch": "the architecture a file with another name is for (checked by keys and shapes)"},
    ),
    Command(("weights", "fetch"), "fetch_weights", "download an architecture's ImageNet weights (online only)"),
    Command(("demo",), "demo", "the sample project: sample, import, train, optimize, benchmark", options=("task",)),
    Command(("jobs", "submit"), "submit_job", "run a verb in the background"),
    Command(("jobs", "list"), "list_jobs", "jobs and their status", aliases={"active_only": ("--active",)}),
    Command(("jobs", "cancel"), "cancel_job", "cancel a queued or running job (training saves last.pt)"),
    Command(
        ("jobs", "logs"),
        "job_logs",
        "what a job printed (from the Ray cluster for a Ray job)",
        helps={"lines": "how many of the last lines to show"},
    ),
    Command(("workspace", "repair"), "repair_workspace", "rebuild a damaged workspace database from the folders"),
)
INTERNAL = (("jobs", "run"),)  # CLI-only: the job runner the queue starts
PYTHON_ONLY = ("on_run", "workspace")  # callbacks, and the workspace every command takes as a common flag

HELP = {  # parameter help shared by every command that has the parameter
    "task": "the task",
    "out": "where to write",
    "seed": "random seed",
    "path": "dataset folder or .zip",
    "format": "Datumaro format name, when auto-detection is not wanted",
    "name": "a name for the dataset",
    "dataset": "dataset id (see `data list`)",
    "split": "train, val or test",
    "count": "this many evenly spaced images (0 = all)",
    "resume": "train: resume this cancelled or killed run from its last.pt; search: continue this search",
    "model": "architecture (default: the task's default, e.g. mobilenet_v3_small)",
    "epochs": "passes over the training split (default: the task's)",
    "lr": "peak learning rate of the one-cycle schedule",
    "weight_decay": "AdamW weight decay",
    "warmup": "train: fraction of the steps spent warming up; benchmark: untimed requests first",
    "patience": "early stopping: epochs without improvement",
    "augment": "classification: training augmentation, " + "; ".join(f"{k}: {v}" for k, v in AUGMENT.items()),
    "balance": "classification: unequal class sizes, " + "; ".join(f"{k}: {v}" for k, v in BALANCE.items()),
    "pretrained": "ImageNet weights when they are in the local torch cache (nothing is downloaded)",
    "max_steps": "stop after this many optimiser steps (smoke tests)",
    "nproc": "data-parallel training processes on this machine (torchrun; the batch is split between them)",
    "run": "run id (see `runs list`)",
    "variant": "model variant (see `optimize --help`)",
    "variants": "comma-separated variants",
    "device": "OpenVINO device",
    "devices": "comma-separated OpenVINO devices, e.g. CPU,AUTO",
    "hint": "latency: sync requests; throughput: async with the optimal number of requests",
    "precisions": "comma-separated INFERENCE_PRECISION_HINT values: default,f32,bf16,f16",
    "iterations": "timed requests",
    "seconds": "measure for this many seconds instead of --iterations",
    "precision": "INFERENCE_PRECISION_HINT: default,f32,bf16,f16",
    "calib_size": "INT8 calibration images (0 in calibration sweeps: the whole split)",
    "calib_split": "where INT8 calibration images come from: train, or val (test stays unseen)",
    "ignored_scope": "int8-custom: layers kept in float, comma-separated, or a file of them (e.g. sensitivity.json)",
    "max_drop": "the largest metric drop vs FP32 to aim for, as a fraction (0.005 = 0.5 pp)",
    "budget_minutes": "search: time for all candidates (the reference and one more always run)",
    "archs": "search: comma-separated architectures (default: all of the task's)",
    "sizes": "search: input sizes (default: the data's, 1/2, 3/4 and 3/2 of it); calibration: images per size, 0 = all",
    "search": "search id (see `searches list`)",
    "images": "image files",
    "save": "folder for annotated copies (saliency: for the two overlays)",
    "image": "saliency: an image file (default: the test split's --index-th image)",
    "index": "saliency: which test image, from 0",
    "a": "the original variant",
    "b": "the optimized variant",
    "masks": "saliency: random masks per map (more = smoother, slower)",
    "verb": "the verb to run",
    "kwargs": "its keyword arguments as JSON, e.g. '{\"dataset\": 1}'",
    "job": "job id",
    "force": "rebuild the database even when it is healthy (the job history is lost)",
}
