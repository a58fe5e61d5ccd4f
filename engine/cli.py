"""``python -m engine``: every verb of the engine as a subcommand.

Bad input exits with status 2 and one line on stderr saying what is wrong and how to fix it.
``--json`` prints the verb's result as one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings

from engine.errors import StudioError

TASK_CHOICES = ("classification", "detection", "segmentation")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", help="workspace folder (default: $STUDIO_WORKSPACE or ./workspace)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")


def build_parser() -> argparse.ArgumentParser:
    from engine.export.variants import VARIANTS, help_text

    parser = argparse.ArgumentParser(prog="python -m engine", description="Edge Model Studio engine")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = sub.add_parser("sample", help="write a built-in sample dataset")
    p.add_argument("task", choices=TASK_CHOICES)
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--seed", type=int, default=0)
    _common(p)

    data = sub.add_parser("data", help="import and inspect datasets").add_subparsers(dest="data_verb", required=True)
    p = data.add_parser("import", help="import a dataset folder (format auto-detected by Datumaro)")
    p.add_argument("path")
    p.add_argument("--format", help="Datumaro format name, when auto-detection is not wanted")
    p.add_argument("--task", choices=TASK_CHOICES)
    p.add_argument("--name")
    p.add_argument("--seed", type=int, default=0, help="seed of the split when the dataset has none")
    _common(p)
    p = data.add_parser("info", help="counts per split/class, image sizes, problems found")
    p.add_argument("dataset")
    _common(p)
    p = data.add_parser("list", help="list imported datasets")
    _common(p)

    p = sub.add_parser("train", help="train a model on an imported dataset (or resume a run)")
    p.add_argument("--dataset")
    p.add_argument("--resume", metavar="RUN", help="resume a cancelled or killed run from its last.pt")
    p.add_argument("--task", choices=TASK_CHOICES)
    p.add_argument("--model", help="architecture (default: the task's default, e.g. mobilenet_v3_small)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--img-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--patience", type=int, help="early stopping: epochs without improvement")
    p.add_argument("--max-steps", type=int, help="stop after this many optimiser steps (smoke tests)")
    p.add_argument(
        "--no-pretrained",
        dest="pretrained",
        action="store_false",
        default=None,
        help="start from random init even when ImageNet weights are cached",
    )
    _common(p)

    p = sub.add_parser("evaluate", help="score one variant on a split")
    p.add_argument("run")
    p.add_argument("--variant", default="torch-fp32", choices=list(VARIANTS))
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--device", default="CPU")
    _common(p)

    p = sub.add_parser("optimize", help="export OpenVINO IR variants and score them", description=help_text())
    p.add_argument("run")
    p.add_argument("--variants", help="comma-separated, default fp32,fp16,int8")
    p.add_argument("--calib-size", type=int, default=300, help="INT8 calibration images from train (default 300)")
    _common(p)

    p = sub.add_parser("benchmark", help="latency and throughput per variant and device")
    p.add_argument("run")
    p.add_argument("--variants", help="comma-separated (default: every variant of the run)")
    p.add_argument("--device", default="CPU", help="comma-separated OpenVINO devices, e.g. CPU,AUTO")
    p.add_argument("--hint", default="both", choices=("latency", "throughput", "both"))
    p.add_argument(
        "--precision", default="default", help="comma-separated INFERENCE_PRECISION_HINT values: default,f32,bf16,f16"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--iterations", type=int, default=200)
    group.add_argument("--time", type=float, default=0.0, help="measure for this many seconds instead")
    p.add_argument("--warmup", type=int, default=10)
    _common(p)

    p = sub.add_parser("predict", help="predict image files with one variant")
    p.add_argument("run")
    p.add_argument("images", nargs="+")
    p.add_argument("--variant", default="int8", choices=list(VARIANTS))
    p.add_argument("--device", default="CPU")
    p.add_argument("--save", help="folder for annotated images")
    _common(p)

    runs = sub.add_parser("runs", help="list and show runs").add_subparsers(dest="runs_verb", required=True)
    p = runs.add_parser("list")
    _common(p)
    p = runs.add_parser("show")
    p.add_argument("run")
    _common(p)

    p = sub.add_parser("devices", help="OpenVINO devices and their key properties")
    _common(p)

    p = sub.add_parser("demo", help="write the sample into the workspace, import it and train it")
    p.add_argument("--task", default="classification", choices=TASK_CHOICES)
    _common(p)

    jobs = sub.add_parser("jobs", help="background jobs").add_subparsers(dest="jobs_verb", required=True)
    p = jobs.add_parser("list", help="jobs and their status")
    p.add_argument("--active", action="store_true", help="only queued and running jobs")
    _common(p)
    p = jobs.add_parser("submit", help="run a verb in the background")
    p.add_argument("verb", help="demo, import_dataset, train, optimize or benchmark")
    p.add_argument("kwargs", nargs="?", default="{}", help="keyword arguments as JSON, e.g. '{\"dataset\": 1}'")
    p.add_argument("--title", default="")
    _common(p)
    p = jobs.add_parser("cancel", help="cancel a queued or running job (training saves last.pt)")
    p.add_argument("job")
    _common(p)
    p = jobs.add_parser("run", help="(internal) run a queued job in this process")
    p.add_argument("job")
    _common(p)
    return parser


def dispatch(args: argparse.Namespace):
    import engine

    ws = {"workspace": args.workspace}
    match args.verb:
        case "sample":
            return engine.sample(args.task, args.out, seed=args.seed)
        case "data":
            return _data(args, ws)
        case "train":
            settings = {
                k: getattr(args, k)
                for k in (
                    "task",
                    "model",
                    "epochs",
                    "batch_size",
                    "img_size",
                    "lr",
                    "seed",
                    "patience",
                    "max_steps",
                    "pretrained",
                )
            }
            return engine.train(args.dataset, resume=args.resume, **settings, **ws)
        case "evaluate":
            return engine.evaluate(args.run, variant=args.variant, split=args.split, device=args.device, **ws)
        case "optimize":
            return engine.optimize(args.run, variants=args.variants, calib_size=args.calib_size, **ws)
        case "benchmark":
            return engine.benchmark(
                args.run,
                variants=args.variants,
                devices=args.device,
                hint=args.hint,
                precisions=args.precision,
                iterations=args.iterations,
                seconds=args.time,
                warmup=args.warmup,
                **ws,
            )
        case "predict":
            return engine.predict(args.run, args.images, variant=args.variant, device=args.device, save=args.save, **ws)
        case "runs":
            return engine.list_runs(**ws) if args.runs_verb == "list" else engine.show_run(args.run, **ws)
        case "devices":
            return engine.devices()
        case "demo":
            return engine.demo(args.task, **ws)
        case "jobs":
            return _jobs(args, ws)
    msg = f"unknown verb {args.verb}"
    raise StudioError(msg)


def _data(args: argparse.Namespace, ws: dict):
    import engine

    if args.data_verb == "import":
        return engine.import_dataset(
            args.path, format=args.format, task=args.task, name=args.name, seed=args.seed, **ws
        )
    if args.data_verb == "info":
        return engine.dataset_info(args.dataset, **ws)
    return engine.list_datasets(**ws)


def _jobs(args: argparse.Namespace, ws: dict):
    import engine

    if args.jobs_verb == "list":
        return engine.list_jobs(active_only=args.active, **ws)
    if args.jobs_verb == "cancel":
        return engine.cancel_job(args.job, **ws)
    if args.jobs_verb == "submit":
        try:
            kwargs = json.loads(args.kwargs)
        except json.JSONDecodeError as exc:
            msg = f"job arguments must be a JSON object, e.g. '{{\"dataset\": 1}}' ({exc})"
            raise StudioError(msg) from None
        return engine.submit_job(args.verb, kwargs, args.title or args.verb, **ws)
    from engine.jobs.runner import run_job
    from engine.pipeline.context import Context

    return run_job(Context.open(args.workspace), int(args.job))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    for noisy in ("nncf", "datumaro"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        result = dispatch(args)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from engine.report import render

    print(render(result))
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
