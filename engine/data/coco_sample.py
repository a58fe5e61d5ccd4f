"""A generated sample written in Datumaro's ``coco_instances`` layout: the loop the detection and instance
segmentation samples share (each supplies what one image holds)::

    <out>/annotations/instances_<split>.json
    <out>/images/<split>/<split>_<NNNN>.jpg
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

# one image and its annotations' own COCO fields, in file order (``category_id``, ``bbox``, ``area``, ``iscrowd``,
# and the mask's polygons or RLE)
Render = Callable[[np.random.Generator], tuple[Image.Image, list[dict]]]


def write(
    out: str | Path, splits: Sequence[tuple[str, int]], classes: Sequence[str], rng_key: tuple[int, int], render: Render
) -> dict[str, int]:
    """Images per split. Image ``i`` of split ``s`` draws from ``default_rng([*rng_key, s, i])``: the same key
    always gives the same files."""
    out = Path(out)
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    categories = [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(classes)]
    counts = {}
    for split_index, (split, n) in enumerate(splits):
        folder = out / "images" / split
        folder.mkdir(parents=True, exist_ok=True)
        images, annotations = [], []
        for i in range(n):
            image, fields = render(np.random.default_rng([*rng_key, split_index, i]))
            name = f"{split}_{i:04d}.jpg"
            image.save(folder / name, quality=95)
            images.append({"id": i + 1, "file_name": name, "width": image.width, "height": image.height})
            for f in fields:
                annotations.append({"id": len(annotations) + 1, "image_id": i + 1, **f})
        coco = {"images": images, "annotations": annotations, "categories": categories}
        (out / "annotations" / f"instances_{split}.json").write_text(json.dumps(coco))
        counts[split] = n
    return counts
