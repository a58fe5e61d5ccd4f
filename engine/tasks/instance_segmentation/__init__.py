"""Instance segmentation: one task, one package (its layout: :mod:`engine.tasks`). It builds on detection's
package (boxes, their statistics, matching and drawing) and adds per-instance masks."""
