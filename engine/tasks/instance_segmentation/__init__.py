"""Instance segmentation: one task, one package (its layout: :mod:`engine.tasks`). It builds on detection's
package (boxes, their statistics, matching and drawing) and adds per-instance masks."""

# The primary metric (its key in metric dicts, and how it is shown): plain constants, so verbs that only list runs
# read them without importing the task's modules (and torch).
PRIMARY_METRIC = "map_50"
METRIC_NAME = "mask mAP@0.5"
