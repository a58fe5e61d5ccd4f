"""Semantic segmentation: one task, one package (its layout: :mod:`engine.tasks`)."""
