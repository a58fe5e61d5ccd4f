"""Image classification: one task, one package (its layout: :mod:`engine.tasks`)."""

# The primary metric (its key in metric dicts, and how it is shown): plain constants, so verbs that only list runs
# read them without importing the task's modules (and torch).
PRIMARY_METRIC = "top1"
METRIC_NAME = "top-1"
