"""Latency statistics and a record of what else used the CPU while a benchmark ran."""

from __future__ import annotations

import os
import time

import numpy as np
import psutil


def latency_stats(samples_ms: list[float]) -> dict[str, float]:
    arr = np.asarray(samples_ms, dtype=np.float64)
    if arr.size == 0:
        return {"count": 0}
    return {
        "count": int(arr.size),
        "median": float(np.median(arr)),
        "mean": float(arr.mean()),
        "std": float(arr.std()),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "p90": float(np.percentile(arr, 90)),
        "p99": float(np.percentile(arr, 99)),
    }


class CpuWatch:
    """Measures the share of the machine's CPU used by *other* processes during a benchmark.

    More than 15 % means the numbers were taken on a contended machine, and the result says so.
    """

    THRESHOLD = 0.15

    def __enter__(self) -> CpuWatch:
        self._proc = psutil.Process()
        self._wall = time.perf_counter()
        self._own = self._own_cpu()
        self._busy = self._system_busy()
        self.loadavg_start = os.getloadavg()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._wall
        cpus = psutil.cpu_count() or 1
        own = self._own_cpu() - self._own
        busy = self._system_busy() - self._busy
        self.other_cpu_fraction = max(0.0, (busy - own) / max(wall * cpus, 1e-9))
        self.contended = self.other_cpu_fraction > self.THRESHOLD

    def report(self) -> dict:
        return {
            "cpu_count": psutil.cpu_count(),
            "loadavg_1m_at_start": round(self.loadavg_start, 2),
            "other_processes_cpu_fraction": round(self.other_cpu_fraction, 3),
            "contended": self.contended,
            "note": (
                f"other processes used {self.other_cpu_fraction:.0%} of the CPU during this run: "
                "timings are pessimistic"
                if self.contended
                else "machine otherwise idle"
            ),
        }

    def _own_cpu(self) -> float:
        t = self._proc.cpu_times()
        return t.user + t.system + t.children_user + t.children_system

    @staticmethod
    def _system_busy() -> float:
        t = psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)
