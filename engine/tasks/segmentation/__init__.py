"""Semantic segmentation: one task, one package (its layout: :mod:`engine.tasks`)."""

# The primary metric (its key in metric dicts, and how it is shown): plain constants, so verbs that only list runs
# read them without importing the task's modules (and torch).
PRIMARY_METRIC = "miou"
METRIC_NAME = "mIoU"
