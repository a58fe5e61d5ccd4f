"""The weights verbs: pretrained weights on an offline machine (list, import) and an online one (fetch)."""

from __future__ import annotations

from engine.results import WeightsFetch, WeightsImport, WeightsRow


def list_weights() -> list[WeightsRow]:
    """For every architecture of every task: the torchvision ImageNet weights it uses (full model or backbone),
    whether they are in the weights folder, from where, and their SHA-256.

    Python: ``engine.list_weights()``      CLI: ``python -m engine weights list``
    """
    from engine.pipeline import weights_store

    return weights_store.list_weights()


def import_weights(path: str, *, arch: str | None = None) -> WeightsImport:
    """Check and store pretrained weights from a file, a folder of them (a copied ``hub/checkpoints``) or a zip:
    the SHA-256 prefix of a torchvision file name, ``weights_only`` loading, keys and shapes (``arch`` names the
    architecture of a file with another name). A file that fails a check stores nothing.

    Python: ``engine.import_weights("/media/usb/resnet18-f37072fd.pth")``
    CLI:    ``python -m engine weights import /media/usb/checkpoints`` (``--arch resnet18`` for other names)
    """
    from engine.pipeline import weights_store

    return weights_store.import_weights(path, arch)


def fetch_weights(arch: str) -> WeightsFetch:
    """Download ``arch``'s ImageNet weights with torchvision (the only verb that uses the network); offline, one
    line says how to import them instead.

    Python: ``engine.fetch_weights("resnet18")``      CLI: ``python -m engine weights fetch resnet18``
    """
    from engine.pipeline import weights_store

    return weights_store.fetch_weights(arch)
