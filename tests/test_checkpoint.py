import pytest
import torch

from engine.errors import StudioError
from engine.training import checkpoint


def test_roundtrip(tmp_path):
    checkpoint.save(tmp_path / "c.pt", {"model": {"w": torch.ones(2)}, "epoch": 3})
    data = checkpoint.load(tmp_path / "c.pt")
    assert data["epoch"] == 3 and torch.equal(data["model"]["w"], torch.ones(2))


def test_foreign_checkpoint_is_refused_with_a_reason(tmp_path):
    torch.save({"state_dict": {"w": torch.ones(2)}}, tmp_path / "other.pt")
    with pytest.raises(StudioError, match="not an Edge Model Studio checkpoint"):
        checkpoint.load(tmp_path / "other.pt")


def test_pickled_objects_are_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": checkpoint.FORMAT, "x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(StudioError, match="corrupt or was not saved"):
        checkpoint.load(tmp_path / "evil.pt")


def test_corrupt_and_missing(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"\x00garbage")
    with pytest.raises(StudioError, match="corrupt"):
        checkpoint.load(tmp_path / "bad.pt")
    with pytest.raises(StudioError, match="does not exist"):
        checkpoint.load(tmp_path / "none.pt")
