"""One process of a distributed fit: ``python -m engine.training.worker``, started by torchrun.

``engine.training.distributed.launch`` starts it (``train --nproc N``); each process reads the run's
settings and samples from the workspace (read-only), joins the process group and fits; rank 0 writes the
run's files and ``fit_result.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from engine.pipeline.context import Context, run_log
from engine.training import distributed
from engine.training.config import TrainConfig
from engine.training.trainer import fit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.training.worker", description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("run", type=int)
    parser.add_argument("mode", choices=("new", "resume"))  # positional: torchrun would take --flags for its own
    args = parser.parse_args(argv)
    resume = args.mode == "resume"
    ctx = Context.open(args.workspace)
    run = ctx.run(args.run)
    config = TrainConfig.from_dict(run["config"])
    dataset = ctx.db.get_dataset(run["dataset_id"])
    run_dir = ctx.run_dir(run)
    group = distributed.join(distributed.resolve_device(config.device))
    try:
        labels = dataset["info"]["labels"]
        inputs = (ctx.task(dataset), labels, ctx.samples(dataset, "train"), ctx.samples(dataset, "val"))
        if group.main:
            with run_log(run_dir):
                result = fit(run_dir, config, *inputs, resume=resume, group=group)
            distributed.write_result(run_dir, dataclasses.asdict(result))
        else:
            fit(run_dir, config, *inputs, resume=resume, group=group)
    finally:
        distributed.leave(group)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
