"""Edge Model Studio engine: dataset -> train -> optimize -> export -> benchmark -> predict.

The verbs below are the whole public API; ``python -m engine`` exposes the same verbs as subcommands.
"""

from engine.api import (
    benchmark,
    dataset_info,
    devices,
    evaluate,
    import_dataset,
    list_datasets,
    list_runs,
    optimize,
    predict,
    sample,
    show_run,
    train,
)
from engine.errors import StudioError

__all__ = [
    "StudioError",
    "benchmark",
    "dataset_info",
    "devices",
    "evaluate",
    "import_dataset",
    "list_datasets",
    "list_runs",
    "optimize",
    "predict",
    "sample",
    "show_run",
    "train",
]
