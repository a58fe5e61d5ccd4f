"""Edge Model Studio engine: dataset -> train -> optimize -> export -> benchmark -> predict.

``VERBS`` are the public API; ``python -m engine`` exposes exactly these as subcommands (same parameters,
same defaults). The rest of ``__all__`` serves the dashboard: the task and variant tables and a few helpers.

Every name is imported on first use (PEP 562), so ``python -m engine --help`` and the light verbs (lists, jobs,
show) start without torch, NNCF, OpenVINO or Datumaro; a verb imports what it needs when it runs.
"""

from __future__ import annotations

import importlib
from typing import Any

# ``engine.benchmark`` is both a subpackage and a verb: importing the subpackage binds its name on this module,
# so it is imported first and the verb bound over it (both are light: the verb imports the pipeline when it runs)
import engine.benchmark  # noqa: F401 -- imported for its side effect, see above
from engine.api_benchmark import benchmark

_WHERE = {  # name -> (module, attribute)
    "PRUNE_IMPORTANCE": ("engine.choices", "PRUNE_IMPORTANCE"),
    "RateMeter": ("engine.inference.live", "RateMeter"),
    "StudioError": ("engine.errors", "StudioError"),
    "VERBS": ("engine.api", "VERBS"),
    "benchmark_table": ("engine.api", "benchmark_table"),
    "benchmark_verdict": ("engine.plain_text", "verdict"),
    "calibration_sweep": ("engine.api", "calibration_sweep"),
    "cancel_job": ("engine.api", "cancel_job"),
    "compare": ("engine.api", "compare"),
    "dataset_info": ("engine.api", "dataset_info"),
    "dataset_samples": ("engine.api", "dataset_samples"),
    "demo": ("engine.api", "demo"),
    "deploy": ("engine.api", "deploy"),
    "devices": ("engine.api", "devices"),
    "evaluate": ("engine.api", "evaluate"),
    "explain": ("engine.dashboard", "explain"),
    "explain_failure": ("engine.dashboard", "explain_failure"),
    "fetch_weights": ("engine.api", "fetch_weights"),
    "gallery": ("engine.dashboard", "gallery"),
    "headline_text": ("engine.plain_text", "headline"),
    "import_dataset": ("engine.api", "import_dataset"),
    "import_weights": ("engine.api", "import_weights"),
    "job_log_tail": ("engine.dashboard", "job_log_tail"),
    "job_logs": ("engine.api", "job_logs"),
    "job_progress": ("engine.dashboard", "job_progress"),
    "list_datasets": ("engine.api", "list_datasets"),
    "list_formats": ("engine.api", "list_formats"),
    "list_jobs": ("engine.api", "list_jobs"),
    "list_runs": ("engine.api", "list_runs"),
    "list_searches": ("engine.api", "list_searches"),
    "list_weights": ("engine.api", "list_weights"),
    "live_feed": ("engine.dashboard", "live_feed"),
    "load_model": ("engine.dashboard", "load_model"),
    "optimize": ("engine.api", "optimize"),
    "predict": ("engine.api", "predict"),
    "profile": ("engine.api", "profile"),
    "qat_progress": ("engine.dashboard", "qat_progress"),
    "read_image": ("engine.dashboard", "read_image"),
    "repair_workspace": ("engine.api", "repair_workspace"),
    "report": ("engine.api", "report"),
    "run_settings": ("engine.dashboard", "run_settings"),
    "saliency": ("engine.api", "saliency"),
    "sample": ("engine.api", "sample"),
    "save_upload": ("engine.dashboard", "save_upload"),
    "saved_analysis": ("engine.dashboard", "saved_analysis"),
    "search": ("engine.api", "search"),
    "sensitivity": ("engine.api", "sensitivity"),
    "show_run": ("engine.api", "show_run"),
    "show_search": ("engine.api", "show_search"),
    "submit_job": ("engine.api", "submit_job"),
    "train": ("engine.api", "train"),
    "training_defaults": ("engine.dashboard", "training_defaults"),
    "variant_file": ("engine.dashboard", "variant_file"),
    "variant_table": ("engine.api", "variant_table"),
    "workspace_root": ("engine.dashboard", "workspace_root"),
    "DEFAULT_OPTIMIZE": ("engine.export.variants", "DEFAULT_OPTIMIZE"),
    "DEFAULT_TASK": ("engine.tasks", "DEFAULT_TASK"),
    "HINTS": ("engine.choices", "HINTS"),
    "PRECISIONS": ("engine.benchmark.runner", "PRECISIONS"),
    "TASKS": ("engine.tasks", "TASKS"),
    "VARIANTS": ("engine.export.variants", "VARIANTS"),
    "get_task": ("engine.tasks", "get_task"),
    "charts": ("engine.charts", None),
    "confusions": ("engine.dashboard", "confusions"),
    "format_number": ("engine.plain_text", "number"),
    "precision_label": ("engine.plain_text", "precision_label"),
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        msg = f"module 'engine' has no attribute {name!r}"
        raise AttributeError(msg)
    module, attribute = _WHERE[name]
    value = importlib.import_module(module)
    value = value if attribute is None else getattr(value, attribute)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(_WHERE)


__all__ = [
    "DEFAULT_OPTIMIZE",
    "DEFAULT_TASK",
    "HINTS",
    "PRECISIONS",
    "PRUNE_IMPORTANCE",
    "TASKS",
    "VARIANTS",
    "VERBS",
    "RateMeter",
    "StudioError",
    "benchmark",
    "benchmark_table",
    "benchmark_verdict",
    "calibration_sweep",
    "cancel_job",
    "charts",
    "compare",
    "confusions",
    "dataset_info",
    "dataset_samples",
    "demo",
    "deploy",
    "devices",
    "evaluate",
    "explain",
    "explain_failure",
    "fetch_weights",
    "format_number",
    "gallery",
    "get_task",
    "headline_text",
    "import_dataset",
    "import_weights",
    "job_log_tail",
    "job_logs",
    "job_progress",
    "list_datasets",
    "list_formats",
    "list_jobs",
    "list_runs",
    "list_searches",
    "list_weights",
    "live_feed",
    "load_model",
    "optimize",
    "precision_label",
    "predict",
    "profile",
    "qat_progress",
    "read_image",
    "repair_workspace",
    "report",
    "run_settings",
    "saliency",
    "sample",
    "save_upload",
    "saved_analysis",
    "search",
    "sensitivity",
    "show_run",
    "show_search",
    "submit_job",
    "train",
    "training_defaults",
    "variant_file",
    "variant_table",
    "workspace_root",
]
