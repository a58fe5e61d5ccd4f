"""What every task's model builders share: the ImageNet weights folder and the INT8 zoo table. The builders
themselves live with their task (``engine/tasks/<task>/models.py``)."""
