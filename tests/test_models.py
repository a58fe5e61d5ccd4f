import pytest
import torch
from torchvision import models as tvm

from engine.errors import StudioError
from engine.tasks.classification.models import ARCHS, build_model


@pytest.mark.parametrize("arch", list(ARCHS))
def test_every_architecture_builds_with_the_right_head(arch, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # empty cache: random init, never a download
    model, status = build_model(arch, num_classes=3)
    assert not status.pretrained and "not in the weights folder" in status.notice
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, 3, 64, 64)).shape == (2, 3)


def test_cached_imagenet_weights_are_used(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = tvm.resnet18()
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(reference.state_dict(), cache / tvm.ResNet18_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1])
    model, status = build_model("resnet18", num_classes=5)
    assert status.pretrained
    assert torch.equal(model.conv1.weight, reference.conv1.weight)  # backbone from the cache
    assert model.fc.out_features == 5  # head replaced for the user's classes


def test_unknown_architecture_lists_the_valid_ones():
    with pytest.raises(StudioError, match="valid: mobilenet_v3_small, mobilenet_v3_large"):
        build_model("vgg99", 3)
