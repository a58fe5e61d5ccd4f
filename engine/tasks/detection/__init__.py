"""Object detection: one task, one package (its layout: :mod:`engine.tasks`; here also ``metrics.py``:
COCO mAP and box matching)."""

# The primary metric (its key in metric dicts, and how it is shown): plain constants, so verbs that only list runs
# read them without importing the task's modules (and torch).
PRIMARY_METRIC = "map_50"
METRIC_NAME = "mAP@0.5"
