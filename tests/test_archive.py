import io
import stat
import zipfile

import pytest

from engine.data.archive import safe_extract
from engine.errors import StudioError


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries:
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, b"target")
            else:
                zf.writestr(name, data)
    return path


def test_extracts_and_finds_the_dataset_root(tmp_path):
    archive = _zip(tmp_path / "d.zip", [("mydata/train/cat/1.png", b"x"), ("mydata/train/dog/2.png", b"y")])
    root = safe_extract(archive, tmp_path / "out")
    assert root == tmp_path / "out" / "mydata"
    assert (root / "train" / "dog" / "2.png").read_bytes() == b"y"


@pytest.mark.parametrize(
    ("name", "message"),
    [("../evil.txt", "escapes its folder"), ("a/../../evil.txt", "escapes its folder"), ("/etc/evil", "absolute")],
)
def test_hostile_paths_are_refused_and_nothing_is_written(tmp_path, name, message):
    archive = _zip(tmp_path / "d.zip", [("ok.txt", b"fine"), (name, b"bad")])
    with pytest.raises(StudioError, match=message):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_symlinks_are_refused(tmp_path):
    link = zipfile.ZipInfo("data/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = _zip(tmp_path / "d.zip", [("data/link", link)])
    with pytest.raises(StudioError, match="link or special file"):
        safe_extract(archive, tmp_path / "out")


def test_size_limits_count_real_bytes(tmp_path):
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.bin", b"\0" * 10_000)
    with pytest.raises(StudioError, match="expands to"):
        safe_extract(archive, tmp_path / "out", max_total_bytes=5_000)
    with pytest.raises(StudioError, match="entries"):
        safe_extract(archive, tmp_path / "out2", max_members=0)
    # a zip bomb whose headers claim 100 bytes never writes more than that, and is refused as damaged
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at : at + 4] = (100).to_bytes(4, "little")
    (tmp_path / "lying.zip").write_bytes(bytes(data))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        assert zf.infolist()[0].file_size == 100
    with pytest.raises(StudioError, match="damaged"):
        safe_extract(tmp_path / "lying.zip", tmp_path / "out3", max_total_bytes=5_000)
    assert not (tmp_path / "out3").exists() and not (tmp_path / "out3.partial").exists()


def test_not_a_zip_and_truncated_zip(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"plain text")
    with pytest.raises(StudioError, match="not a readable zip"):
        safe_extract(tmp_path / "x.zip", tmp_path / "out")
    archive = _zip(tmp_path / "d.zip", [("a.png", b"x" * 5000)])
    (tmp_path / "t.zip").write_bytes(archive.read_bytes()[:-60])
    with pytest.raises(StudioError, match=r"not a readable zip|damaged"):
        safe_extract(tmp_path / "t.zip", tmp_path / "out3")
