"""Object detection: one task, one package (its layout: :mod:`engine.tasks`; here also ``metrics.py``:
COCO mAP and box matching)."""
