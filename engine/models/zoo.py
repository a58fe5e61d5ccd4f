"""What INT8 buys each architecture, from the measured zoo table (``python -m benchmarks.zoo``).

The file holds one table per ISA tier, each recording the CPU it was measured on (model name and ISA flags):
``{"tables": [{"machine": ..., "rows": [...]}, ...]}``. INT8's speed-up over the FP32 IR depends on the CPU's ISA
tier far more than on anything else: AMX, AVX-512 VNNI (+BF16: OpenVINO's default precision is then bf16, a
stronger baseline), AVX-VNNI, or AVX2 alone. The product reads the table of this CPU's tier; a row is said to hold
"here" only then. With no table of its tier it shows the first one and says where it was measured, not claiming it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "zoo.json"
TIERS = (  # strongest first: the first tier whose flags a CPU has is its tier
    ("AMX", ("amx_int8",)),
    ("AVX-512 VNNI + BF16", ("avx512_vnni", "avx512_bf16")),
    ("AVX-512 VNNI", ("avx512_vnni",)),
    ("AVX-VNNI", ("avx_vnni",)),
    ("AVX2", ("avx2",)),
)
PAYS_OFF = 1.3  # an INT8 speed-up below this is within what timings drift between runs on 2 cores


def tier(isa: list[str] | tuple[str, ...]) -> str:
    """The ISA tier that decides INT8 speed on a CPU with these flags."""
    flags = set(isa)
    return next((name for name, needs in TIERS if flags.issuperset(needs)), "no AVX2")


@dataclass(frozen=True)
class Int8Gain:
    speedup: float  # INT8 IR vs the FP32 IR at the CPU's default precision, batch 1
    size: int  # input px it was measured at
    cpu: str  # where
    same_tier: bool  # measured on a CPU of this machine's tier
    here: bool = False  # measured on this very CPU (``python -m engine measure-int8``)
    fp32_ms: float | None = None  # the FP32 IR at the default precision, batch 1, in that measurement
    int8_ms: float | None = None  # the INT8 IR, same rounds

    @property
    def where(self) -> str:
        if self.here:
            return "measured on this CPU"
        return "on a CPU like this one" if self.same_tier else f"on {self.cpu}, not a CPU like this one"

    def text(self) -> str:
        verdict = "INT8 pays off" if self.speedup >= PAYS_OFF else "INT8 barely faster"
        return f"{verdict}: {self.speedup:.2f}x the FP32 IR at {self.size} px ({self.where})"


@lru_cache(maxsize=1)
def tables() -> list[dict]:
    """The tables on file, one per ISA tier (none when the file is missing or unreadable)."""
    try:
        return json.loads(TABLE.read_text(encoding="utf-8")).get("tables", [])
    except (OSError, ValueError, AttributeError):
        return []


def table_for(isa: list[str] | tuple[str, ...]) -> dict:
    """The table measured on a CPU of this tier, else the first one on file (empty when there is none)."""
    on_file = tables()
    same = [t for t in on_file if tier(t.get("machine", {}).get("isa", [])) == tier(isa)]
    return (same or on_file or [{}])[0]


def int8_gains(
    task: str, here_isa: list[str] | tuple[str, ...], measured_here: Sequence[dict] = ()
) -> dict[str, Int8Gain]:
    """Architecture -> its measured INT8 gain for ``task`` (absent: not measured): a row ``measured_here`` (this
    CPU's, from the workspace) wins over the committed table's (largest size measured here, when several)."""
    table = table_for(here_isa)
    machine = table.get("machine", {})
    same = tier(machine.get("isa", [])) == tier(here_isa)
    cpu = f"{machine.get('cpu_model', 'another CPU')} ({tier(machine.get('isa', []))})"
    gains = {
        row["arch"]: Int8Gain(row["int8_vs_fp32_default"], row["size"], cpu, same, **_latencies(row))
        for row in table.get("rows", [])
        if row["task"] == task
    }
    for row in sorted((r for r in measured_here if r["task"] == task), key=lambda r: r["size"]):
        gains[row["arch"]] = Int8Gain(
            row["int8_vs_fp32_default"], row["size"], "this CPU", same_tier=True, here=True, **_latencies(row)
        )
    return gains


def _latencies(row: dict) -> dict[str, float | None]:
    ms = row.get("latency_ms") or {}
    return {"fp32_ms": ms.get("fp32 (default hint)"), "int8_ms": ms.get("int8 (default hint)")}


def int8_vs_reference(gains: dict[str, Int8Gain], reference: str) -> dict[str, float]:
    """Architecture -> how much faster its INT8 IR ran than ``reference``'s FP32 IR (the search's yardstick), for
    the architectures timed in the same measurement as the reference (same size, same CPU or table)."""
    ref = gains.get(reference)
    if ref is None or not ref.fp32_ms:
        return {}
    return {
        arch: ref.fp32_ms / gain.int8_ms
        for arch, gain in gains.items()
        if gain.int8_ms and (gain.size, gain.here, gain.cpu) == (ref.size, ref.here, ref.cpu)
    }


def explain(task: str, arch: str, isa: list[str] | tuple[str, ...], measured_here: Sequence[dict] = ()) -> str:
    """Why INT8 is (not) faster for ``arch`` on a CPU with these flags, from the measured table, in one sentence."""
    here = tier(isa)
    gains = int8_gains(task, isa, measured_here)
    own = gains.get(arch)
    parts = []
    if here in ("AVX2", "no AVX2"):
        parts.append(
            f"this CPU has {here} without VNNI or AMX, so INT8 convolutions run through 16-bit multiply-adds and gain"
            " little over f32"
        )
    elif "BF16" in here or here == "AMX":
        parts.append(f"this CPU ({here}) runs FP32 IRs in bf16 by default, a strong baseline for INT8 to beat")
    if own is not None:
        where = own.where if own.same_tier else f"on {own.cpu}"
        parts.append(f"{arch} measured {own.speedup:.2f}x in INT8 at {own.size} px {where.removeprefix('measured ')}")
    better = [(name, g) for name, g in gains.items() if g.same_tier and name != arch and g.speedup >= PAYS_OFF]
    if better:
        name, gain = max(better, key=lambda item: item[1].speedup)
        parts.append(f"{name} gains {gain.speedup:.2f}x here: train it, or let `search` compare")
    return "; ".join(parts)
