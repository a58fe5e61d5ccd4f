"""Safe extraction of an uploaded dataset zip.

Every member is checked before anything is written: no absolute paths, no ``..``, no symlinks or
special files, a bounded number of members, and a bounded total size counted on the bytes actually
decompressed. (A header that understates a size is also caught: zipfile stops at the declared size and
the CRC check then fails, which is reported as a damaged zip.) On any problem nothing is left behind.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from engine.errors import StudioError

MAX_TOTAL_BYTES = 2 * 1024**3
MAX_MEMBERS = 200_000
MAX_NAME_BYTES = 255  # one path component, as ext4/xfs/apfs allow
_CHUNK = 1 << 20


def _check_member(info: zipfile.ZipInfo) -> PurePosixPath | None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        msg = f"the zip contains an absolute path {info.filename!r}; re-create it with relative paths"
        raise StudioError(msg)
    if ".." in path.parts:
        msg = f"the zip contains a path that escapes its folder ({info.filename!r}); re-create it without '..'"
        raise StudioError(msg)
    if info.flag_bits & 0x1:
        msg = f"the zip is password-protected ({info.filename!r} is encrypted); upload a zip made without a password"
        raise StudioError(msg)
    long = next((part for part in path.parts if len(part.encode()) > MAX_NAME_BYTES), None)
    if long:
        msg = (
            f"the zip holds a name of {len(long.encode())} bytes ({long[:40]}...), longer than file systems allow"
            f" ({MAX_NAME_BYTES}); rename it and zip again"
        )
        raise StudioError(msg)
    file_type = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip tool stored permissions only
    if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
        msg = f"the zip contains a link or special file {info.filename!r}; only regular files and folders are allowed"
        raise StudioError(msg)
    if info.is_dir() or path.name.startswith("._") or "__MACOSX" in path.parts:
        return None
    return path


def safe_extract(
    archive: str | Path, dest: str | Path, *, max_total_bytes: int = MAX_TOTAL_BYTES, max_members: int = MAX_MEMBERS
) -> Path:
    """Extract ``archive`` into ``dest`` (which must not exist yet); return the dataset root inside it."""
    dest = Path(dest)
    if dest.exists():
        msg = f"{dest} already exists; extract into a new folder"
        raise StudioError(msg)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"{Path(archive).name} is not a readable zip file ({exc}); upload a .zip of the dataset folder"
        raise StudioError(msg) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            msg = f"the zip has {len(infos)} entries, more than the {max_members} allowed"
            raise StudioError(msg)
        members = [(info, _check_member(info)) for info in infos]
        _check_layout(members)
        declared = sum(info.file_size for info, path in members if path)
        if declared > max_total_bytes:
            msg = f"the zip expands to {declared / 1e9:.2f} GB, more than the {max_total_bytes / 1e9:.2f} GB allowed"
            raise StudioError(msg)
        tmp = dest.with_name(dest.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            tmp.mkdir(parents=True)
            _extract(zf, members, tmp, max_total_bytes)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    tmp.rename(dest)
    return dataset_root(dest)


def _check_layout(members: list) -> None:
    """A path that is a file in one entry and a folder in another cannot be extracted."""
    files = {str(path) for _, path in members if path is not None}
    folders = {str(parent) for _, path in members if path is not None for parent in path.parents}
    folders |= {info.filename.replace("\\", "/").rstrip("/") for info, path in members if info.is_dir()}
    clash = sorted(files & folders)
    if clash:
        msg = f"the zip holds {clash[0]!r} both as a file and as a folder; re-create it from the dataset folder"
        raise StudioError(msg)


def _extract(zf: zipfile.ZipFile, members: list, tmp: Path, max_total_bytes: int) -> None:
    written = 0
    for info, path in members:
        if path is None:
            continue
        target = tmp.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with zf.open(info) as src, target.open("wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > max_total_bytes:
                        msg = (
                            f"the zip expands past the {max_total_bytes / 1e9:.2f} GB limit (its headers understate it)"
                        )
                        raise StudioError(msg)
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            msg = f"the zip is damaged at {info.filename!r} ({exc}); upload it again"
            raise StudioError(msg) from None


def dataset_root(folder: Path) -> Path:
    """A zip made from a folder holds just that folder: the dataset is inside it."""
    children = [c for c in folder.iterdir() if not c.name.startswith(".")]
    return children[0] if len(children) == 1 and children[0].is_dir() else folder
