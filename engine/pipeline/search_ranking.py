"""A search's outcome from its candidates' points: the accuracy floor, the Pareto front and the pick."""

from __future__ import annotations

import math

from engine.pipeline.search_grid import Candidate


def summary(state: dict, candidates: list[Candidate]) -> dict:
    """The floor, every point with a latency on the reference's scale, the Pareto front and the pick (after
    the runoff, ``search_runoff``, the pick is one of the points it timed, or the reference)."""
    reference = next((p for p in candidates[0].points if p["variant"] == "fp32"), None)
    points = [p for c in candidates for p in c.points]
    if reference is None:
        return {"floor": None, "reference": None, "points": points, "front": [], "pick": None}
    floor = reference["metric"] - state["max_drop"]
    scale = reference["latency_ms"]  # the reference's own latency; others are placed by their measured ratio
    for p in points:
        p["latency_on_reference_scale_ms"] = scale / p["speedup"]
        p["keeps_accuracy"] = p["metric"] is not None and p["metric"] >= floor - 1e-9
    front = pareto_front(points)
    eligible = [p for p in points if p["keeps_accuracy"]]
    if "runoff" in state:  # the contenders were timed again together: the pick comes from those ratios alone
        eligible = [p for p in eligible if p.get("runoff") or p is reference]
    best = max(eligible, key=lambda p: p["speedup"], default=None)
    # the fastest model of the default architecture (any size, any variant) that keeps the accuracy: what
    # the user would get without the search choosing an architecture
    default_best = max(
        (p for p in eligible if p["arch"] == candidates[0].arch), key=lambda p: p["speedup"], default=None
    )
    if best is not None and default_best is not None:
        best = {**best, "speedup_vs_default_arch": best["speedup"] / default_best["speedup"]}
    return {
        "floor": floor,
        "reference": reference,
        "points": points,
        "front": [point_key(p) for p in front],
        "pick": best,
        "default_arch_best": default_best,
    }


def point_key(point: dict) -> str:
    """How a search names a point (``front``, the runoff's list): ``arch@size/variant``."""
    return f"{point['candidate']}/{point['variant']}"


def runoff_summary(result: dict) -> str:
    """One sentence on the runoff (``search_runoff``): which points were timed again and how their ratios moved;
    "" when the search has not run one."""
    runoff = result.get("runoff")
    if not runoff:
        why = result.get("runoff_error")
        return f"The contenders could not be timed again ({why}): the pick stands on their own timings." if why else ""
    moved = ", ".join(
        f"{p['candidate']} {p['variant']} {p['first_speedup']:.2f}x → {p['speedup']:.2f}x"
        for p in result.get("points", [])
        if p.get("runoff")
    )
    return (
        f"Before picking, the contenders were timed again together beside the reference ({runoff['rounds']} rounds,"
        f" each in a new process): {moved}. The pick comes from these ratios."
    )


def pareto_front(points: list[dict]) -> list[dict]:
    """The points no other point beats on both latency (lower) and metric (higher), fastest first."""
    ranked = sorted(
        (p for p in points if p["metric"] is not None),
        key=lambda p: (p["latency_on_reference_scale_ms"], -p["metric"]),
    )
    front, best = [], -math.inf
    for p in ranked:
        if p["metric"] > best:
            front.append(p)
            best = p["metric"]
    return front
