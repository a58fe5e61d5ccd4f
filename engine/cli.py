"""``python -m engine``: every facade verb (``engine.VERBS``) as a subcommand, generated from its signature.

``COMMANDS`` names the subcommand of each verb; parameters, types and defaults come from the verb itself,
so the CLI cannot drift from the Python API (``tests/test_cli_parity.py`` checks it). Positional parameters
become arguments, keyword-only ones ``--flags``; sequences are comma lists; bools are ``--x/--no-x``.

Every failure goes through one error boundary (``engine.failures``): one line on stderr saying what is wrong
and how to fix it, exit status 2 for bad input or a workspace fault, 1 for a bug (its traceback goes to
``<workspace>/logs/errors.log``), 130/143 for Ctrl-C/SIGTERM (what finished is saved; the same command
resumes). ``--json`` prints the verb's result as one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import logging
import sys
import types
import typing
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine.choices import AUGMENT, BALANCE
from engine.errors import Cancelled
from engine.failures import report
from engine.status import RunStatus


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
        ("sensitivity",),
        "sensitivity",
        "which INT8 layer groups cost the accuracy; the ignored scope that wins it back (int8-custom)",
    ),
    Command(
        ("calibration",),
        "calibration_sweep",
        "INT8 accuracy per calibration size, class coverage, overlap of calibration images with val/test",
    ),
    Command(("search",), "search", "find the fastest model that keeps the accuracy", options=("dataset",)),
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
    "sizes": "search: input sizes (default: the task's and 3/4 of it); calibration: images per size, 0 = all",
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


def _choices() -> dict[str, list[str]]:
    from engine.api import JOB_VERBS
    from engine.choices import CALIBRATION_SPLITS, HINTS, SPLITS
    from engine.export.variants import SETTINGS, VARIANTS
    from engine.tasks import TASK_NAMES

    return {
        "task": list(TASK_NAMES),
        "variant": list(VARIANTS),
        "a": list(VARIANTS),
        "b": list(VARIANTS),
        "hint": list(HINTS),
        "split": list(SPLITS),
        "verb": list(JOB_VERBS),
        **{o.parameter: list(o.choices) for kind in SETTINGS for o in kind.options() if o.choices},
        "calib_split": list(CALIBRATION_SPLITS),
    }


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _typed_list(element: type) -> Callable[[str], list]:
    """A comma list whose items are converted to the sequence's declared element type (int, float, str)."""
    if element not in (int, float):
        return comma_list

    def parse(text: str) -> list:
        try:
            return [element(part) for part in comma_list(text)]
        except ValueError:
            msg = f"expected comma-separated {element.__name__} values, e.g. 16,64,300; got {text!r}"
            raise argparse.ArgumentTypeError(msg) from None

    parse.__name__ = f"{element.__name__} list"
    return parse


def json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"expected a JSON object, e.g. '{{\"dataset\": 1}}' ({exc})"
        raise argparse.ArgumentTypeError(msg) from None
    if not isinstance(value, dict):
        msg = f"expected a JSON object, e.g. '{{\"dataset\": 1}}', not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _base(annotation) -> object:
    """``int | None`` -> int; ``str | Path | None`` -> str."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def parameters(fn: Callable) -> list[inspect.Parameter]:
    """The verb's parameters the CLI exposes, with annotations resolved."""
    hints = typing.get_type_hints(fn)
    return [
        p.replace(annotation=hints.get(p.name))
        for p in inspect.signature(fn).parameters.values()
        if p.name not in PYTHON_ONLY
    ]


def _option_help(name: str) -> str:
    """A variant option's help, from the variant's module (engine/export/variants/)."""
    from engine.export.variants import SETTINGS

    return next((o.help for kind in SETTINGS for o in kind.options() if o.parameter == name), "")


def _add(parser: argparse.ArgumentParser, p: inspect.Parameter, command: Command, choices: dict) -> None:
    kind = _base(p.annotation)
    kwargs: dict = {"help": command.helps.get(p.name, HELP.get(p.name, "")) or _option_help(p.name)}
    sequence = typing.get_origin(kind) in (Sequence, list, tuple)
    choices = {**choices, **command.choices}
    if p.name in choices and not sequence:
        kwargs["choices"] = list(choices[p.name])
    if kind is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    elif sequence:
        kwargs["type"] = _typed_list(typing.get_args(kind)[0] if typing.get_args(kind) else str)
    elif kind is dict:
        kwargs["type"] = json_object
    elif kind in (int, float):
        kwargs["type"] = kind
    has_default = p.default is not inspect.Parameter.empty
    default = list(p.default) if isinstance(p.default, tuple) else p.default
    positional = p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.name not in command.options
    if positional:
        if sequence:  # a positional list: space-separated, one or more
            kwargs.update(type=str, nargs="+")
        elif has_default:
            kwargs.update(nargs="?", default=default)
        parser.add_argument(p.name, metavar=p.name.upper(), **kwargs)
        return
    flags = [f"--{p.name.replace('_', '-')}", *command.aliases.get(p.name, ())]
    if has_default:
        kwargs["default"] = default
    else:
        kwargs["required"] = True
    parser.add_argument(*flags, dest=p.name, **kwargs)


class Parser(argparse.ArgumentParser):
    """argparse, with its refusals as one line (what is wrong, where the help is) instead of usage + error."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    import engine
    from engine.export.variants import help_text

    choices = _choices()
    parser = Parser(prog="python -m engine", description="Edge Model Studio engine")
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {
        (): parser.add_subparsers(dest="_command", required=True, metavar="COMMAND")
    }
    for command in (*COMMANDS, *(Command(w, "", "") for w in INTERNAL)):
        *head, last = command.words
        for depth in range(1, len(head) + 1):
            key = tuple(head[:depth])
            if key not in groups:
                group = groups[key[:-1]].add_parser(key[-1], help=f"{key[-1]} commands")
                groups[key] = group.add_subparsers(dest=f"_{'_'.join(key)}", required=True, metavar="COMMAND")
        description = help_text() if command.verb == "optimize" else None
        sub = groups[tuple(head)].add_parser(last, help=command.help or argparse.SUPPRESS, description=description)
        if command.verb:
            for p in parameters(engine.VERBS[command.verb]):
                _add(sub, p, command, choices)
        else:
            sub.add_argument("job", type=int)
        sub.add_argument("--workspace", help="workspace folder (default: $STUDIO_WORKSPACE or ./workspace)")
        sub.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
        sub.set_defaults(_words=command.words, _verb=command.verb)
    return parser


def dispatch(args: argparse.Namespace):
    """Call the verb with the parsed arguments; return (result, the verb's declared result type)."""
    import engine

    if args._words in INTERNAL:
        from engine.jobs.runner import run_job
        from engine.pipeline.context import Context

        return run_job(Context.open(args.workspace), args.job), dict
    fn = engine.VERBS[args._verb]
    kwargs = {p.name: getattr(args, p.name) for p in parameters(fn)}
    if "workspace" in inspect.signature(fn).parameters:
        kwargs["workspace"] = args.workspace
    return fn(**kwargs), typing.get_type_hints(fn).get("return")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    for noisy in ("nncf", "datumaro"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with _progress_log():
        try:
            result, kind = dispatch(args)
        except Cancelled as stop:  # SIGTERM in a job, or Ctrl-C: what was saved is kept
            print("cancelled: what finished is saved; run the same command again to resume", file=sys.stderr)
            return stop.exit_code
        except Exception as exc:  # the boundary: one line, and the traceback in the log when it is a bug
            explained = report(exc, _workspace_root(args), " ".join(args._words))
            print(f"error: {explained.message}", file=sys.stderr)
            return explained.exit_code
    from engine.plain_text import render

    print(render(result, kind))
    if args.json:
        print(json.dumps(result, default=str))
    if isinstance(result, dict) and result.get("status") == RunStatus.CANCELLED:  # training stopped by a signal
        print("cancelled: the last finished epoch is saved; resume with `train --resume RUN`", file=sys.stderr)
        return Cancelled(result.get("signal") or 15).exit_code
    return 0


@contextlib.contextmanager
def _progress_log():
    """The engine's INFO records on this call's stderr (progress of long verbs), removed afterwards so a
    process that calls ``main`` repeatedly (tests, the job runner) never writes into a stale stream."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    engine_log = logging.getLogger("engine")
    level, propagate = engine_log.level, engine_log.propagate
    engine_log.setLevel(logging.INFO)
    engine_log.addHandler(handler)
    engine_log.propagate = False  # a library's basicConfig on the root logger would print every line twice
    try:
        yield
    finally:
        engine_log.removeHandler(handler)
        engine_log.setLevel(level)
        engine_log.propagate = propagate


def _workspace_root(args: argparse.Namespace):
    from engine.store.workspace import resolve_root

    try:
        root = resolve_root(args.workspace)
    except Exception:
        return None
    return root if root.is_dir() else None


if __name__ == "__main__":
    sys.exit(main())
