"""A search's candidates: architecture x input size, the reference first, in the order the budget is spent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.errors import choice_error

SIZES = (0.5, 0.75, 1.0, 1.5)  # default input sizes: the data's, and below and above it
SIZE_STEP = 16  # default sizes are multiples of 16 (of 32, three quarters of 64 px would be 64 again)


@dataclass
class Candidate:
    arch: str
    img_size: int
    status: str = "pending"  # pending | training | optimizing | benchmarking | done | failed | skipped
    run: int | None = None
    epochs: int | None = None
    epoch_s: float | None = None  # measured before training, to fit the budget
    seconds: float = 0.0
    error: str = ""  # why it failed or was skipped
    estimate_s: float | None = None  # its whole schedule (training + fine-tunes + optimize), estimated
    failed_variants: dict[str, str] = field(default_factory=dict)  # variant -> why it could not be built
    probe: dict[str, float] = field(default_factory=dict)  # variant -> speed-up over the reference at random init
    bound: float | None = None  # the best of ``probe``: how fast it can be at most, if it keeps the accuracy
    probe_error: str = ""  # why its probe could not be built or timed
    points: list[dict] = field(default_factory=list)  # one per variant: metric, latency, speed-up, size

    @property
    def key(self) -> str:
        return f"{self.arch}@{self.img_size}"


def search_sizes(task, default_size: int, sizes: Sequence[int] | None = None) -> list[int]:
    """The input sizes a search of ``task`` tries, smallest first: those asked for, else the data's size
    (``default_size``) and below and above it, in multiples of ``SIZE_STEP``, from the smallest input every
    architecture runs at up to the task's largest default."""
    if sizes:
        return sorted(dict.fromkeys(int(s) for s in sizes))
    lo, hi = task.smallest_size, task.size_bounds[1]
    return sorted({min(max(round(default_size * f / SIZE_STEP) * SIZE_STEP, lo), hi) for f in SIZES})


def grid(
    task, archs: Sequence[str] | None, sizes: Sequence[int] | None, default_size: int, here: Sequence[dict] = ()
) -> list[Candidate]:
    """The reference first, then every other architecture x size: smaller inputs first and, within a size, the
    architectures whose INT8 IR ran fastest against the reference's FP32 IR on this CPU (``here``:
    ``measure_int8``'s rows) or a CPU like it (``benchmarks/zoo.py``'s table) first, so a tight budget spends
    itself on the promising candidates."""
    from engine.benchmark.machine import isa
    from engine.models import zoo

    chosen = list(archs) if archs else list(task.archs)
    for arch in chosen:
        if arch not in task.archs:
            raise choice_error(f"{task.name} model", arch, list(task.archs))
    same_tier = {a: g for a, g in zoo.int8_gains(task.name, isa(), here).items() if g.same_tier}
    # the search ranks by speed over the reference's FP32 IR: a network whose INT8 gains 1.8x but runs 7x slower
    # than the reference in float (ResNet-50 beside MobileNetV3-Small) goes after one that is fast in absolute terms
    promise = zoo.int8_vs_reference(same_tier, task.default_arch)
    chosen.sort(key=lambda a: (-promise.get(a, 0.0), -(same_tier[a].speedup if a in same_tier else 1.0)))
    reference = Candidate(task.default_arch, default_size)
    others = [Candidate(a, s) for s in search_sizes(task, default_size, sizes) for a in chosen]
    return [reference, *[c for c in others if c.key != reference.key]]
