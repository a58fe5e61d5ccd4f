"""``torch-fp32``: the trained PyTorch model itself, the baseline every ratio is measured against."""

from engine.export.variants.base import Variant
from engine.status import Backend

VARIANT = Variant("torch-fp32", "FP32", Backend.PYTORCH, "the trained PyTorch model (best.pt), eager mode")
