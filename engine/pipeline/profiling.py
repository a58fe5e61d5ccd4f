"""The profile verb: per-layer time, kernel and precision of a run's variants, side by side.

Answers "why isn't INT8 faster?": the share of the time spent in INT8 kernels, the slowest layers, and the
compute layers that stayed in float with the reason (``engine.benchmark.profile``).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.benchmark import runner
from engine.benchmark.profile import profile_ir
from engine.errors import StudioError, choice_error
from engine.export.variants import VARIANTS, parse
from engine.pipeline.context import Context
from engine.status import Backend
from engine.store.atomic import write_json

SLOWEST = 15  # layers kept per variant in the returned summary (the saved file keeps them all)


def profile(
    ctx: Context,
    run_id: int | str,
    *,
    variants: Sequence[str] = ("fp32", "int8"),
    device: str = "CPU",
    precision: str = "default",
    iterations: int = 50,
) -> dict:
    run = ctx.run(run_id)
    names = parse(variants, default=("fp32", "int8"))
    if any(VARIANTS[n].backend != Backend.OPENVINO for n in names):
        msg = "profile reads OpenVINO's per-layer counters: give IR variants (e.g. fp32,int8), not torch-fp32"
        raise StudioError(msg)
    if precision not in runner.PRECISIONS:
        raise choice_error("precision", precision, runner.PRECISIONS)
    if iterations < 1:
        msg = f"--iterations must be at least 1, got {iterations}"
        raise StudioError(msg)
    paths = {name: ctx.variant_path(run, name) for name in names}  # every file checked before any work
    profiles = {}
    for name, xml in paths.items():
        full = profile_ir(xml, device, precision=precision, iterations=iterations)
        stem = f"{name}_{device.replace(':', '-')}_{precision}"
        write_json(ctx.run_dir(run) / "profiles" / f"{stem}.json", full)
        profiles[name] = {**full, "layers": full["layers"][:SLOWEST], "layer_count": len(full["layers"])}
    return {
        "run": run["id"],
        "device": device,
        "precision": precision,
        "profiles": profiles,
        "by_type": _side_by_side(profiles),
    }


def _side_by_side(profiles: dict[str, dict]) -> list[dict]:
    """Milliseconds per op type, one column per variant (the Profile view's comparison table)."""
    types: dict[str, dict] = {}
    for name, prof in profiles.items():
        for row in prof["by_type"]:
            types.setdefault(row["type"], {"type": row["type"]})[f"{name} ms"] = row["ms"]
    return sorted(types.values(), key=lambda row: -max(v for k, v in row.items() if k != "type"))
