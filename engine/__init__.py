"""Edge Model Studio engine: dataset -> train -> optimize -> export -> benchmark -> predict.

``VERBS`` are the public API; ``python -m engine`` exposes exactly these as subcommands (same parameters,
same defaults). The rest of ``__all__`` serves the dashboard: the task and variant tables and a few helpers.
"""

from engine.api import (
    VERBS,
    benchmark,
    benchmark_table,
    cancel_job,
    compare,
    dataset_info,
    dataset_samples,
    demo,
    deploy,
    devices,
    evaluate,
    import_dataset,
    list_datasets,
    list_formats,
    list_jobs,
    list_runs,
    optimize,
    predict,
    sample,
    show_run,
    submit_job,
    train,
    variant_table,
)
from engine.benchmark.runner import HINTS, PRECISIONS
from engine.compression.prune import IMPORTANCE as PRUNE_IMPORTANCE
from engine.dashboard import (
    gallery,
    job_log_tail,
    load_model,
    qat_progress,
    read_image,
    save_upload,
    training_defaults,
    variant_file,
    workspace_root,
)
from engine.errors import StudioError
from engine.export.variants import DEFAULT_OPTIMIZE, VARIANTS
from engine.report import verdict as benchmark_verdict
from engine.tasks import DEFAULT_TASK, TASKS, get_task

__all__ = [
    "DEFAULT_OPTIMIZE",
    "DEFAULT_TASK",
    "HINTS",
    "PRECISIONS",
    "PRUNE_IMPORTANCE",
    "TASKS",
    "VARIANTS",
    "VERBS",
    "StudioError",
    "benchmark",
    "benchmark_table",
    "benchmark_verdict",
    "cancel_job",
    "compare",
    "dataset_info",
    "dataset_samples",
    "demo",
    "deploy",
    "devices",
    "evaluate",
    "gallery",
    "get_task",
    "import_dataset",
    "job_log_tail",
    "list_datasets",
    "list_formats",
    "list_jobs",
    "list_runs",
    "load_model",
    "optimize",
    "predict",
    "qat_progress",
    "read_image",
    "sample",
    "save_upload",
    "show_run",
    "submit_job",
    "train",
    "training_defaults",
    "variant_file",
    "variant_table",
    "workspace_root",
]
