"""Edge Model Studio engine: dataset -> train -> optimize -> export -> benchmark -> predict.

The verbs below are the whole public API; ``python -m engine`` exposes the same verbs as subcommands.
"""

from engine.api import (
    benchmark,
    benchmark_results,
    cancel_job,
    compare,
    dataset_info,
    dataset_samples,
    demo,
    deploy_package,
    devices,
    evaluate,
    import_dataset,
    list_datasets,
    list_jobs,
    list_runs,
    optimize,
    predict,
    sample,
    show_run,
    submit_job,
    train,
)
from engine.errors import StudioError

__all__ = [
    "StudioError",
    "benchmark",
    "benchmark_results",
    "cancel_job",
    "compare",
    "dataset_info",
    "dataset_samples",
    "demo",
    "deploy_package",
    "devices",
    "evaluate",
    "import_dataset",
    "list_datasets",
    "list_jobs",
    "list_runs",
    "optimize",
    "predict",
    "sample",
    "show_run",
    "submit_job",
    "train",
]
