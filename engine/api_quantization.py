"""The quantization tools: which layers cost the accuracy (sensitivity) and how many calibration images INT8
needs (calibration sweep)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine import lazy
from engine.choices import CALIB_SIZE, CALIBRATION_SWEEP
from engine.pipeline.context import Context
from engine.results import CalibrationSweepResult, SensitivityResult

calibrating = lazy.module("engine.pipeline.calibrating")
sensitivity_analysis = lazy.module("engine.pipeline.sensitivity")

Workspace = str | Path | None


def sensitivity(
    run: int,
    *,
    max_drop: float = 0.005,
    calib_size: int = CALIB_SIZE,
    calib_split: str = "train",
    workspace: Workspace = None,
) -> SensitivityResult:
    """Rank the INT8 quantizer groups by the val metric each recovers when it alone stays in float, and
    suggest the ignored scope that brings INT8 within ``max_drop`` of FP32 (``optimize --variants int8-custom``
    then uses it).

    Python: ``engine.sensitivity(3, max_drop=0.005)["suggested"]["ignored_scope"]``
    CLI:    ``python -m engine sensitivity 3 --max-drop 0.005``
    """
    return sensitivity_analysis.sensitivity(
        Context.open(workspace), run, max_drop=max_drop, calib_size=calib_size, calib_split=calib_split
    )


def calibration_sweep(
    run: int,
    *,
    sizes: Sequence[int] = CALIBRATION_SWEEP,
    split: str = "train",
    workspace: Workspace = None,
) -> CalibrationSweepResult:
    """INT8 quantized with each calibration size (0 = the whole split), scored on the val split, with each
    subset's per-class coverage and its overlap with the val and test splits (same image content).

    Python: ``engine.calibration_sweep(3, sizes=[16, 64, 300, 0])["rows"]``
    CLI:    ``python -m engine calibration 3 --sizes 16,64,300,0``
    """
    return calibrating.calibration_sweep(Context.open(workspace), run, sizes=sizes, split=split)
