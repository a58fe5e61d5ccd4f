"""Data-parallel training in several processes: ``torch.distributed``, launched by ``torchrun``.

``python -m engine train ... --nproc N`` runs the fit in N processes on this machine through
``python -m torch.distributed.run --standalone`` (what the ``torchrun`` script runs). Each process trains on
its own 1/N of every epoch's shuffled images (``DistributedSampler``, seeded with the run's seed) with a batch
of ``batch_size / N``, so the global batch, the learning-rate schedule and the step count are those of the
1-process run; ``DistributedDataParallel`` averages the gradients (gloo on CPU, NCCL on CUDA).

Rank 0 alone evaluates, writes ``events.jsonl``, ``log.txt`` and the checkpoints, and leaves the outcome in
``fit_result.json``; the job's own process (the launcher) alone writes the database. Every decision that ends
a loop (a stop signal, early stopping) is taken collectively, so no rank waits forever on one that left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from engine.errors import StudioError
from engine.training.threads import cores_share

log = logging.getLogger(__name__)

RESULT_FILE = "fit_result.json"


@dataclass(frozen=True)
class Group:
    """This process's place in the training: rank ``rank`` of ``world`` (1 of 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on one (a stop signal reaches processes at different steps)."""
        if not self.active:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def mean(self, value: float) -> float:
        if not self.active:
            return value
        t = torch.tensor([float(value)], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item()) / self.world

    def from_main(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (e.g. the validation metrics only rank 0 computes)."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0, device=self.device if self.device.type == "cuda" else None)
        return box[0]

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order (e.g. each process's random-number states for ``last.pt``)."""
        if not self.active:
            return [obj]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out


SINGLE = Group()


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a CUDA GPU, else ``cpu``; ``cuda`` without one is an input error."""
    if requested not in ("auto", "cpu", "cuda"):
        msg = f"--device {requested!r}: use cpu, cuda or auto"
        raise StudioError(msg)
    has_cuda = torch.cuda.is_available()
    if requested == "cuda" and not has_cuda:
        msg = (
            "--device cuda: torch sees no CUDA GPU on this machine (torch.cuda.is_available() is False);"
            " use --device cpu or auto"
        )
        raise StudioError(msg)
    return "cuda" if requested == "cuda" or (requested == "auto" and has_cuda) else "cpu"


def join(device: str) -> Group:
    """Join the process group torchrun set up (``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` in the environment);
    without torchrun, the 1-process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Group(device=torch.device(device))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "cuda":
        torch.cuda.set_device(local_rank)
        where = torch.device("cuda", local_rank)
    else:
        where = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    group = Group(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_WORLD_SIZE", world)), where)
    if not group.main:
        logging.getLogger("engine").setLevel(logging.WARNING)  # one voice in the log: rank 0's
    return group


def leave(group: Group) -> None:
    if group.active and dist.is_initialized():
        dist.destroy_process_group()


def to_device(obj: Any, device: torch.device | str) -> Any:
    """Tensors inside ``obj`` (lists, tuples, dicts of them: detection targets) moved to ``device``."""
    device = torch.device(device)
    if device.type == "cpu" and not _has_cuda_tensor(obj):
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def _has_cuda_tensor(obj: Any) -> bool:
    if isinstance(obj, torch.Tensor):
        return obj.is_cuda
    if isinstance(obj, dict):
        return any(_has_cuda_tensor(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_has_cuda_tensor(v) for v in obj)
    return False


def write_result(run_dir: Path, result: dict) -> None:
    from engine.store.atomic import write_text

    write_text(run_dir / RESULT_FILE, json.dumps(result))


def launch(workspace: Path, run_id: int, run_dir: Path, nproc: int, *, resume: bool) -> dict:
    """Fit run ``run_id`` in ``nproc`` processes (``torchrun --standalone``) and return rank 0's outcome.

    A SIGTERM/SIGINT to this process (a cancelled job) is passed to torchrun, which passes it to the workers:
    they stop after the current step like a 1-process fit, and rank 0 still writes the outcome."""
    result_path = run_dir / RESULT_FILE
    result_path.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
        "-m", "engine.training.worker", str(workspace), str(run_id), "resume" if resume else "new",
    ]  # fmt: skip
    log.info("training in %d processes: %s", nproc, " ".join(command[1:]))
    env = {**os.environ, "OMP_NUM_THREADS": str(cores_share(nproc))}  # torchrun would set 1
    proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    received: list[int] = []

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if result_path.is_file():
        outcome = json.loads(result_path.read_text())
        if received and not outcome.get("signal"):
            outcome["signal"] = received[0]
        return outcome
    msg = (
        f"distributed training of run {run_id} ended (torchrun exit status {code}) before rank 0 wrote its"
        f" result; the workers' errors are above and in {run_dir / 'log.txt'}"
    )
    raise StudioError(msg)
