"""What a dataset's statistics mean for training, said on import: class imbalance, too few images in a class,
tiny or huge images — each with what the product does about it. Computed from the stored ``data info``."""

from __future__ import annotations

IMBALANCE = 3.0  # largest : smallest class (train split) from which the imbalance is said
FEW_IMAGES = 20  # a class with fewer training images than this is hard to learn
TINY_PX, HUGE_PX = 32, 1024  # median shorter image side


def data_notes(info: dict, size_bounds: tuple[int, int], balances: tuple[str, ...] = ("none",)) -> list[dict]:
    """``{"kind", "message", "action"}`` for each condition found in ``info`` (the import's summary); ``balances``:
    what the task's training can do about class sizes (``Task.balances``)."""
    notes = []
    counts = (info.get("splits", {}).get("train") or {}).get("per_class", {})
    present = {name: n for name, n in counts.items() if n > 0}
    unit = info.get("count_unit", "images")
    if len(present) >= 2:
        big, small = max(present, key=present.get), min(present, key=present.get)
        ratio = present[big] / present[small]
        if ratio >= IMBALANCE:
            notes.append(
                {
                    "kind": "class imbalance",
                    "message": f"{ratio:.0f}:1 in the train split ({big!r} {present[big]} {unit},"
                    f" {small!r} {present[small]})",
                    "action": (
                        "training draws every class equally often (--balance auto: class-balanced sampling); "
                        if "sampler" in balances
                        else ""
                    )
                    + "top-1 alone would hide the small class: balanced accuracy, macro F1 and every class's recall"
                    " are reported, and a variant that loses a class's recall does not keep accuracy",
                }
            )
    for name, n in sorted(present.items(), key=lambda item: item[1]):
        if n < FEW_IMAGES:
            notes.append(
                {
                    "kind": "few images",
                    "message": f"class {name!r} has {n} training {unit}",
                    "action": f"it may not be learned: add images (at least {FEW_IMAGES}); its recall is shown alone",
                }
            )
    spread = info.get("image_size") or {}
    side = min(float((spread.get(k) or {}).get("median") or 0) for k in ("width", "height"))
    lo, hi = size_bounds
    if 0 < side < TINY_PX:
        notes.append(
            {
                "kind": "tiny images",
                "message": f"the median image is {side:.0f} px on its shorter side",
                "action": f"images are upscaled to the network's input ({lo} px at least): no detail is gained",
            }
        )
    elif side > HUGE_PX:
        notes.append(
            {
                "kind": "huge images",
                "message": f"the median image is {side:.0f} px on its shorter side",
                "action": f"images are downscaled to the network's input ({hi} px at most): small details can be"
                " lost; crop them to the region of interest if they matter",
            }
        )
    return notes
