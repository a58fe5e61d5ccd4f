"""Content hashes of the files a variant is made of, recorded when it is saved and checked before use.

A truncated ``model.bin`` or an edited ``model.xml`` would otherwise reach OpenVINO and fail with a parser
error (or, worse, load and give wrong numbers). Checks are cached per process by (size, mtime), so a page
that renders the same variant every second hashes it once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.errors import StudioError

_VERIFIED: dict[tuple[str, int, int], str] = {}


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def digests(folder: Path, names: tuple[str, ...]) -> dict[str, str]:
    return {name: digest(Path(folder) / name) for name in names}


def verify(folder: Path, recorded: dict[str, str], what: str, fix: str) -> None:
    """Refuse ``folder`` when a recorded file is missing or its content changed since it was saved."""
    for name, expected in recorded.items():
        path = Path(folder) / name
        try:
            stat = path.stat()
        except OSError:
            msg = f"{what} is incomplete: {path} is missing; {fix}"
            raise StudioError(msg) from None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if _VERIFIED.get(key) == expected:
            continue
        if digest(path) != expected:
            msg = f"{what} is damaged: {path} is not the file that was saved (truncated or changed); {fix}"
            raise StudioError(msg)
        _VERIFIED[key] = expected
