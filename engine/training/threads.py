"""How many threads training may use: the cores other processes leave free, re-read every few seconds.

``torch.set_num_threads(cpu_count)`` is the fastest choice on an idle machine and the slowest on a busy one:
when another process holds one of two cores, every parallel region waits for the thread that shares that
core, and epochs get 10x+ slower. So the trainer asks :class:`ThreadBudget` after each step; every
``interval`` seconds it measures the CPU time the *other* processes used (the system's busy time minus this
process's) and sets torch's intra-op threads to the cores that are left, at least one.

``STUDIO_TRAIN_THREADS=N`` pins the count (bit-for-bit repeatable runs across machines with different
neighbours: float sums depend on how the work is split between threads).
"""

from __future__ import annotations

import logging
import math
import os
import time

import psutil
import torch

log = logging.getLogger(__name__)

PIN_ENV = "STUDIO_TRAIN_THREADS"


def _system_busy() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _own_busy(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def cores_share(processes: int = 1) -> int:
    """This machine's cores split between ``processes`` (those of one distributed fit), at least one each."""
    return max(1, (psutil.cpu_count() or os.cpu_count() or 1) // max(processes, 1))


def threads_for(cores: int, others_busy: float) -> int:
    """Threads to use when other processes keep ``others_busy`` cores busy (a core counts as taken from 0.5)."""
    return max(1, min(cores, cores - math.floor(others_busy + 0.5)))


class ThreadBudget:
    """Keeps ``torch.get_num_threads()`` at the number of cores other processes leave free."""

    def __init__(self, interval: float = 3.0) -> None:
        self.interval = interval
        self.cores = cores_share()
        self._proc = psutil.Process()
        self._mark: tuple[float, float, float] | None = None

    @property
    def pinned(self) -> int:
        """``$STUDIO_TRAIN_THREADS``, read when asked (not when the module was imported), else 0."""
        value = os.environ.get(PIN_ENV, "").strip()
        return int(value) if value.isdigit() else 0

    def start(self, share: int = 1) -> int:
        """Set the first count from a short look at the machine; returns it. ``share``: processes of one
        distributed fit on this machine, which split its cores between them."""
        self.cores = cores_share(share)
        if self.pinned:
            torch.set_num_threads(self.pinned)
            return self.pinned
        self._reset()
        time.sleep(0.2)
        return self.adjust(force=True)

    def adjust(self, *, force: bool = False) -> int:
        """Re-read the neighbours' load if ``interval`` passed since the last look; returns the thread count.

        Torch work outside a training fit calls only this, per step or per image: fine-tuning, QAT, scoring a
        model (``TorchPredictor``), NNCF's calibration passes. Its first call in a process looks at the machine
        at once (:meth:`start`): scoring at batch 1 on two threads beside a process that holds the other core is
        several times slower than on one — every parallel region waits for the thread that shares the busy core,
        and a job, in a session of its own, gets no more of that core than the neighbour (a one-epoch QAT
        optimize there took 243 s on two threads, 53 s on the free core)."""
        if pinned := self.pinned:
            if torch.get_num_threads() != pinned:  # fine-tuning and QAT call only this: pin them too
                torch.set_num_threads(pinned)
            return pinned
        if self._mark is None:
            return self.start()
        wall0, busy0, own0 = self._mark
        wall = time.perf_counter() - wall0
        if wall < self.interval and not force:
            return torch.get_num_threads()
        others = max(0.0, (_system_busy() - busy0) - (_own_busy(self._proc) - own0)) / max(wall, 1e-6)
        self._reset()
        wanted = threads_for(self.cores, others)
        if wanted != torch.get_num_threads():
            log.info("other processes use %.1f of %d cores: training with %d thread(s)", others, self.cores, wanted)
            torch.set_num_threads(wanted)
        return wanted

    def _reset(self) -> None:
        self._mark = (time.perf_counter(), _system_busy(), _own_busy(self._proc))


BUDGET = ThreadBudget()  # one per process: the trainer, fine-tuning, QAT and scoring share it
