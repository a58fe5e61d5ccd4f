"""Image classification: one task, one package (its layout: :mod:`engine.tasks`)."""
