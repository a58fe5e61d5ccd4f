"""Model builders per task (torchvision architectures)."""
