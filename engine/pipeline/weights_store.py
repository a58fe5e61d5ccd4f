"""The ``weights`` verbs: which pretrained weights each architecture can use, importing them on an offline machine,
and fetching them where the machine is online.

Every architecture uses one torchvision ImageNet checkpoint: the full classifier (classification) or the
classifier its backbone comes from (detection, segmentation). ``weights import`` accepts a checkpoint file, a
folder of them (a copied ``hub/checkpoints``) or a zip, and stores a file only after it passed every check:

1. a name with a hash (``<name>-<hex>.pth``, torch.hub's convention) must match the file's SHA-256 prefix;
2. it loads with ``weights_only=True`` (a pickle that runs code is refused) as a mapping of tensors;
3. its keys and shapes are those of the architecture's ImageNet model (named by torchvision's file name, or by
   ``--arch``). A backbone-only file (everything but the classifier head) is accepted where the task uses a
   backbone: the unused head is filled from a fresh initialisation so torchvision's strict loading works.

It is then written atomically under torchvision's file name into the weights folder, where the builders read
it, and recorded in ``index.json`` beside it (source, SHA-256, how it was checked). A file that fails a check is
one line saying which check, exit 2, and nothing is stored.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engine.data.archive import safe_extract
from engine.errors import StudioError, choice_error
from engine.models import weights as store
from engine.store.atomic import atomic_write, read_json, write_json
from engine.tasks import TASK_NAMES, pretrained_weights, tasks

if TYPE_CHECKING:
    import torch

INDEX = "index.json"
HASHED = re.compile(r"-([a-f0-9]{6,64})\.(pth|pt)$")  # torch.hub's name convention: <name>-<sha256 prefix>.pth
SUFFIXES = (".pth", ".pt")
FETCH_TIMEOUT_S = 10.0


def catalogue() -> dict[str, dict]:
    """Architecture -> {task, weights (torchvision's enum), kind ("full model" | "backbone")}: from the task's
    model builders (imports torch and torchvision; :func:`listed` is the same without them)."""
    out = {}
    for task in tasks().values():
        for arch, spec in task.archs.items():
            full = getattr(spec, "weights", None)
            enum = full or getattr(spec, "backbone_weights", None)
            if enum is not None:
                out[arch] = {"task": task.name, "weights": enum, "kind": "full model" if full else "backbone"}
    return out


def listed() -> dict[str, dict]:
    """Architecture -> {task, weights (the enum member's name), kind, file (torchvision's file name)}, from the
    task packages' plain constants: no torch (``tests/test_tasks.py`` checks it equals :func:`catalogue`)."""
    out = {}
    for task in TASK_NAMES:
        kind, weights = pretrained_weights(task)
        for arch, (enum, file) in weights.items():
            out[arch] = {"task": task, "weights": enum, "kind": kind, "file": file}
    return out


def list_weights() -> list[dict]:
    """One row per architecture: the weights it can use, whether they are present, from where, their SHA-256."""
    index = _index()
    folder = store.weights_dir()
    rows = []
    for arch, entry in listed().items():
        name = entry["file"]
        path = folder / name if (folder / name).is_file() else None
        known = index.get(name, {})
        rows.append(
            {
                "arch": arch,
                "task": entry["task"],
                "weights": entry["weights"],
                "kind": entry["kind"],
                "file": name,
                "present": path is not None,
                "source": known.get("source", "torch cache" if path else ""),
                "sha256": known.get("sha256") or (store.sha256(path) if path else ""),
                "folder": str(folder),
            }
        )
    return rows


def import_weights(path: str | Path, arch: str | None = None) -> dict:
    """Check and store the checkpoint(s) at ``path`` (a file, a folder of them, or a zip)."""
    source = Path(path).expanduser()
    if not source.exists():
        msg = f"{source} does not exist; give a checkpoint file (.pth), a folder of them or a zip"
        raise StudioError(msg)
    if arch is not None and arch not in listed():
        raise choice_error("--arch", arch, list(listed()))
    with tempfile.TemporaryDirectory(prefix="studio-weights-") as tmp:
        if source.is_file() and source.suffix.lower() == ".zip":
            files = _checkpoints(safe_extract(source, Path(tmp) / "zip"))
        elif source.is_dir():
            files = _checkpoints(source)
        else:
            files = [source]
        if not files:
            msg = f"{source} holds no checkpoint files ({', '.join(SUFFIXES)})"
            raise StudioError(msg)
        checked = [_checked(f, arch) for f in files]  # every file passes before any is stored
        stored = [_store(f, entry, source) for f, entry in checked]
    return {"imported": stored, "folder": str(store.weights_dir())}


def fetch_weights(arch: str) -> dict:
    """torchvision's own download of ``arch``'s ImageNet weights into the weights folder (online only)."""
    if arch not in listed():
        raise choice_error("architecture", arch, list(listed()))
    entries = catalogue()
    enum = entries[arch]["weights"]
    name = store.file_name(enum)
    if store.cached_file(enum) is not None:
        return {"arch": arch, "file": name, "path": str(store.cached_file(enum)), "downloaded": False}
    store.hub_dir()
    offline = (
        f"this machine looks offline. On a machine that is online run `python -m engine weights fetch {arch}`"
        f" (or download {enum.url}), copy {name} over and run `python -m engine weights import {name}`"
    )
    host = urlsplit(enum.url).hostname
    try:  # a few seconds to learn the machine is offline, before torch prints a download line
        socket.create_connection((host, 443), timeout=FETCH_TIMEOUT_S).close()
    except OSError as exc:
        msg = f"cannot reach {host} ({exc.strerror or exc}): {offline}"
        raise StudioError(msg) from None
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(FETCH_TIMEOUT_S)
    try:
        enum.get_state_dict(progress=True, check_hash=True)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError; torch.hub's hash check a RuntimeError
        msg = f"cannot download {enum.url} ({getattr(exc, 'reason', exc)}): {offline}"
        raise StudioError(msg) from None
    finally:
        socket.setdefaulttimeout(previous)
    path = store.cached_file(enum)
    _record(name, {"source": enum.url, "sha256": store.sha256(path), "checked": "torch.hub's hash check"})
    return {"arch": arch, "file": name, "path": str(path), "downloaded": True}


# --- checks --------------------------------------------------------------------------------------------------
def _checkpoints(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _checked(path: Path, arch: str | None) -> tuple[Path, dict]:
    """``(path, catalogue entry)`` once ``path`` passed every check; else one line saying which failed."""
    by_name = {store.file_name(e["weights"]): e for e in catalogue().values()}
    entry = catalogue()[arch] if arch else by_name.get(path.name)
    if entry is None:
        msg = (
            f"{path.name} is not a torchvision checkpoint name this product uses; give --arch ARCH to check it"
            f" against that architecture's ImageNet model (`python -m engine weights list` names them)"
        )
        raise StudioError(msg)
    digest = store.sha256(path)
    hashed = HASHED.search(path.name)
    if hashed and not digest.startswith(hashed.group(1)):
        msg = (
            f"{path.name}: SHA-256 check failed (the name says {hashed.group(1)}..., the file is {digest[:12]}...):"
            " the file is damaged or not the one its name claims"
        )
        raise StudioError(msg)
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses code in a pickle; a truncated file does not unzip
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        msg = f"{path.name}: cannot be loaded as plain weights (weights_only=True: {first}); nothing was stored"
        raise StudioError(msg) from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        msg = f"{path.name}: not a state dict (a mapping of parameter names to tensors); nothing was stored"
        raise StudioError(msg)
    return path, {**entry, "state": _matched(path.name, state, entry), "sha256": digest, "hashed": bool(hashed)}


def _matched(name: str, state: dict, entry: dict) -> dict:
    """``state`` checked against the ImageNet model's keys and shapes; a backbone-only state completed."""
    reference = _reference_model(entry["weights"]).state_dict()
    wrong = [k for k, v in state.items() if k in reference and tuple(v.shape) != tuple(reference[k].shape)]
    unknown = [k for k in state if k not in reference]
    missing = [k for k in reference if k not in state]
    what = f"{type(entry['weights']).__name__}"
    if wrong or unknown:
        bad = wrong[0] if wrong else unknown[0]
        detail = (
            f"{bad} has shape {tuple(state[bad].shape)}, the model {tuple(reference[bad].shape)}"
            if wrong
            else f"the model has no {bad!r}"
        )
        msg = f"{name}: keys or shapes do not match {what} ({detail}); it is weights of another architecture"
        raise StudioError(msg)
    if missing:
        head = _head_keys(reference)
        if set(missing) - head:
            msg = f"{name}: {len(missing)} of {what}'s weights are missing (e.g. {missing[0]}); nothing was stored"
            raise StudioError(msg)
        state = {**{k: reference[k] for k in missing}, **state}  # backbone-only: the unused head from a fresh init
    return state


def _head_keys(reference: dict) -> set[str]:
    """The classifier head's keys: the last layer's (``fc.*`` or ``classifier.N.*``)."""
    last = next(reversed(reference)).rsplit(".", 1)[0]
    return {k for k in reference if k.rsplit(".", 1)[0] == last}


def _reference_model(enum: object) -> torch.nn.Module:
    """The ImageNet classifier these weights belong to (a backbone's weights are a classifier's), random init."""
    from torchvision import models

    name = next(n for n in models.list_models(module=models) if models.get_model_weights(n) is type(enum))
    return models.get_model(name, weights=None)


def _store(path: Path, entry: dict, source: Path) -> dict:
    name = store.file_name(entry["weights"])
    target = store.weights_dir() / name
    if entry["hashed"] and name == path.name:  # torchvision's own file: stored as it is
        atomic_write(target, lambda tmp: shutil.copyfile(path, tmp))
    else:
        import torch

        atomic_write(target, lambda tmp: torch.save(entry["state"], tmp))
    digest = store.sha256(target)
    checked = "SHA-256 prefix of its name" if entry["hashed"] else "keys and shapes"
    _record(name, {"source": str(source.resolve()), "sha256": digest, "checked": checked})
    return {"file": name, "sha256": digest, "kind": entry["kind"], "checked": checked, "path": str(target)}


def _index() -> dict:
    path = store.weights_dir() / INDEX
    return read_json(path) if path.is_file() else {}


def _record(name: str, facts: dict) -> None:
    write_json(store.weights_dir() / INDEX, {**_index(), name: {**facts, "time": time.time()}})
