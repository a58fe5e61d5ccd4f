"""Where a job is: its stage, the training epoch and ETA, and a fraction for a progress bar.

Read from what the job has already written (the job row, the run's ``events.jsonl``, its variants and
benchmarks), so it costs one small read per poll and needs nothing from the job's process.
"""

from __future__ import annotations

from engine.export.variants import DEFAULT_OPTIMIZE
from engine.pipeline.context import Context
from engine.status import JOB_ACTIVE, JobStatus, RunStatus
from engine.store.atomic import read_jsonl

# The sample project's stages and the share of its time each takes (measured on the default samples: training
# dominates); the bar moves within a stage by epochs.
DEMO_STAGES = (("import", 0.05), ("train", 0.70), ("optimize", 0.15), ("benchmark", 0.10))
STAGE_TEXT = {
    "import": "Writing and importing the sample dataset",
    "train": "Training",
    "optimize": "Optimizing (FP32, FP16, INT8 IRs with NNCF)",
    "benchmark": "Benchmarking every variant",
    JobStatus.QUEUED: "Waiting for a free job slot",
    JobStatus.RUNNING: "Running",
}


def job_progress(ctx: Context, job: dict) -> dict:
    """``{"stage", "text", "epoch", "epochs", "eta_s", "fraction"}`` for a job row (``fraction`` in 0..1)."""
    out = {"stage": job["status"], "text": STAGE_TEXT.get(job["status"], job["status"])}
    out |= {"epoch": None, "epochs": None, "eta_s": None, "fraction": None}
    if job["status"] in ("completed",):
        return out | {"fraction": 1.0}
    if job["status"] not in JOB_ACTIVE:
        return out
    run = ctx.db.get_run(job["run_id"]) if job.get("run_id") else None
    training = _training(ctx, run) if run else None
    if job["verb"] == "train" and training:
        return out | {"stage": "train", "text": STAGE_TEXT["train"], **training}
    if job["verb"] != "demo":
        return out
    if run is None:
        stage = "import"
    elif run["status"] == RunStatus.RUNNING:
        stage = "train"
    else:
        built = {v["name"] for v in ctx.db.list_variants(run["id"])}
        stage = "benchmark" if set(DEFAULT_OPTIMIZE) <= built else "optimize"
    before = sum(share for name, share in DEMO_STAGES[: [s for s, _ in DEMO_STAGES].index(stage)])
    share = dict(DEMO_STAGES)[stage]
    within = training["fraction"] if stage == "train" and training else 0.0
    fraction = before + share * within
    out |= {"stage": stage, "text": STAGE_TEXT[stage], "fraction": fraction}
    if stage == "train" and training:
        out |= {k: training[k] for k in ("epoch", "epochs")}
    out["eta_s"] = _whole_job_eta(training, stage)
    return out


def _whole_job_eta(training: dict | None, stage: str) -> float | None:
    """Seconds left for the whole sample project, not just its training: the stages after training take
    their measured share of the time relative to training's (``DEMO_STAGES``), scaled by how long this
    machine's training takes (its epochs so far)."""
    if not training or not training.get("epoch_s"):
        return None
    shares = dict(DEMO_STAGES)
    train_total = training["epoch_s"] * training["epochs"]
    after_training = train_total * (shares["optimize"] + shares["benchmark"]) / shares["train"]
    if stage == "train":
        return (training["eta_s"] or 0.0) + after_training
    done_after = train_total * (shares["optimize"] if stage == "benchmark" else 0.0) / shares["train"]
    return max(after_training - done_after, 0.0)


def _training(ctx: Context, run: dict) -> dict | None:
    events = read_jsonl(ctx.run_dir(run) / "events.jsonl") if (ctx.run_dir(run) / "events.jsonl").is_file() else []
    epochs = next((e["epochs"] for e in events if e.get("type") == "start"), run["config"].get("epochs"))
    done = [e for e in events if e.get("type") == "epoch"]
    if not epochs:
        return None
    epoch = done[-1]["epoch"] if done else 0
    return {
        "epoch": epoch,
        "epochs": epochs,
        "eta_s": done[-1].get("eta_s") if done else None,
        "epoch_s": sum(e.get("epoch_s", 0.0) for e in done) / len(done) if done else None,
        "fraction": min(epoch / epochs, 1.0),
    }
