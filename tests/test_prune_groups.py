"""Pruning channels tied in groups (GroupNorm): each group loses the same channels, and the layer keeps a multiple
of 8 in all (Torch-Pruning 1.6.1 on its own rounds a per-group count against the whole layer and prunes nothing)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.compression.prune import prune


def _net(groups: int, channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, channels, 3, padding=1),
        nn.GroupNorm(groups, channels),
        nn.ReLU(),
        nn.Conv2d(channels, 4, 1),  # the output layer: kept
    )


@pytest.mark.parametrize(
    ("groups", "channels", "ratio", "kept"),
    [
        (32, 128, 0.5, 64),  # RetinaNet-ResNet18's head: 2 of 4 per group
        (32, 128, 0.3, 64),  # floor(4 x 0.7) = 2 kept per group: whole quarters
        (2, 32, 0.3, 16),  # 11 of 16 per group asked -> 22 in all, not a multiple of 8: 8 per group (16)
        (4, 32, 0.5, 16),  # 4 of 8 per group: 16 in all, already a multiple of 8
    ],
)
def test_grouped_channels_are_pruned_to_multiples_of_8(groups, channels, ratio, kept):
    torch.manual_seed(0)
    net = _net(groups, channels).eval()
    example = torch.randn(1, 3, 16, 16)
    prune(net, example, ratio=ratio, steps=1, keep=[net[3]])
    conv, norm, head = net[0], net[1], net[3]
    assert (conv.out_channels, norm.num_channels, head.in_channels) == (kept, kept, kept)
    assert norm.num_groups == groups and norm.weight.shape == (kept,)
    assert net(example).shape == (1, 4, 16, 16)
