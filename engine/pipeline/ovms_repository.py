"""An OpenVINO Model Server model repository: ``<repo>/<name>/<version>/model.xml|bin`` and one ``config.json``.

A new export is always a new version (the highest version + 1); a version folder is never written into once
it exists: the files are staged in a hidden folder beside the versions and renamed into place, and a rename
onto a version that appeared meanwhile (another export) fails and takes the next number. ``config.json``
names every model in the repository with a ``base_path`` relative to itself (OVMS resolves relative paths
from the config file's folder), so the repository can be mounted anywhere, e.g. ``/models`` in compose.
Settings someone added to a model's entry by hand are kept.
"""

from __future__ import annotations

import errno
import json
import re
import shutil
import tempfile
from pathlib import Path

from engine.errors import StudioError
from engine.store.atomic import write_bytes

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
CONFIG = "config.json"


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        msg = f"model name {name!r} cannot name an OVMS model folder; use letters, digits, '.', '_' or '-'"
        raise StudioError(msg)
    return name


def versions(model_dir: Path) -> list[int]:
    """The model's version numbers, ascending (folders named by a positive integer)."""
    if not model_dir.is_dir():
        return []
    return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit() and int(p.name) > 0)


def publish(xml: Path, repo: Path, name: str) -> dict:
    """Copy the IR ``xml`` (+ ``.bin``) into ``repo`` as the next version of ``name``; rewrite config.json.
    A repository that cannot be written is the user's --ovms folder, said so (not the workspace's)."""
    check_name(name)
    if repo.exists() and not repo.is_dir():
        msg = f"--ovms {repo} is a file; give the folder of the model repository (it is created if missing)"
        raise StudioError(msg)
    try:
        return _publish(xml, repo, name)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise  # a full disk is said as such, with its fix, by the error boundary
        where = exc.filename or repo
        msg = (
            f"cannot write the OVMS model repository at {where} ({exc.strerror or exc}); give --ovms a folder"
            " this user can write (the workspace is not affected)"
        )
        raise StudioError(msg) from None


def _publish(xml: Path, repo: Path, name: str) -> dict:
    model_dir = repo / name
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
    try:
        shutil.copyfile(xml, staging / "model.xml")
        shutil.copyfile(xml.with_suffix(".bin"), staging / "model.bin")
        for _ in range(100):  # another export may take a number between the look and the rename
            version = (versions(model_dir) or [0])[-1] + 1
            try:
                staging.rename(model_dir / str(version))  # fails if that version exists and holds files
                break
            except OSError:
                if not (model_dir / str(version)).exists():
                    raise
        else:
            msg = f"could not add a version to {model_dir}: other exports kept taking the next number"
            raise StudioError(msg)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    config = write_config(repo)
    folder = model_dir / str(version)
    return {
        "repository": str(repo),
        "name": name,
        "version": version,
        "path": str(folder),
        "config": str(config),
        "models": [m["config"]["name"] for m in json.loads(config.read_text())["model_config_list"]],
    }


def write_config(repo: Path) -> Path:
    """``config.json`` with one entry per model folder that holds a version (kept entries keep their settings)."""
    path = repo / CONFIG
    kept: dict[str, dict] = {}
    if path.is_file():
        try:
            entries = json.loads(path.read_text()).get("model_config_list", [])
            kept = {e["config"]["name"]: e for e in entries if isinstance(e, dict) and "name" in e.get("config", {})}
        except (ValueError, AttributeError, TypeError):
            msg = f"{path} is not an OVMS config (JSON with a model_config_list); move it away and export again"
            raise StudioError(msg) from None
    names = sorted(p.name for p in repo.iterdir() if p.is_dir() and NAME.fullmatch(p.name) and versions(p))
    entries = []
    for name in names:
        entry = kept.get(name, {"config": {"name": name}})
        entry["config"]["base_path"] = name  # relative to config.json
        entries.append(entry)
    elsewhere = [e for n, e in kept.items() if n not in names and _remote(e["config"].get("base_path", ""))]
    entries += elsewhere  # models served from another path or a bucket stay listed; deleted folders do not
    write_bytes(path, (json.dumps({"model_config_list": entries}, indent=2) + "\n").encode())
    return path


def _remote(base_path: str) -> bool:
    return "://" in base_path or Path(base_path).is_absolute()
