"""Image classification: everything this task owns, in one package.

- ``task.py``: the :class:`~engine.tasks.base.Task` subclass the registry names (reading Datumaro annotations,
  metrics, post-processing, drawing, the Deploy snippet's lines, the defaults that train the sample).
- ``data.py``: the torch dataset and its v2 augmentation.
- ``models.py``: the torchvision architectures, their heads and their ImageNet weights.
- ``sample.py``: the built-in sample's offline generator.

Nothing outside this package imports it except through the registry (``engine.tasks.get_task``); the package
itself imports nothing heavy, so naming a task stays cheap.
"""
