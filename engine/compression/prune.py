"""Structured channel pruning with Torch-Pruning (DepGraph).

Whole channels are removed together with everything that depends on them (the next layer's inputs, BatchNorm,
squeeze-excite, residual partners), so the network really gets smaller and does less arithmetic on any CPU,
unlike unstructured sparsity, which leaves the shapes as they are. Pruning is iterative: each step removes a
share of the channels, then a short fine-tune recovers the accuracy before the next step. The task's output
layers (the classes, per-anchor boxes) are never touched.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from engine.choices import PRUNE_IMPORTANCE
from engine.errors import StudioError, choice_error

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger(__name__)

IMPORTANCE = PRUNE_IMPORTANCE
ROUND_TO = 8  # channel counts stay multiples of 8, which CPU kernels (AVX2/AVX-512 blocks) run at full width


@dataclass(frozen=True)
class PruneReport:
    ratio: float
    importance: str
    steps: int
    macs_before: int
    macs_after: int
    params_before: int
    params_after: int

    @property
    def macs_ratio(self) -> float:
        return self.macs_after / max(self.macs_before, 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "macs_ratio": self.macs_ratio}


def _importance(name: str):
    import torch_pruning as tp

    if name not in IMPORTANCE:
        raise choice_error("pruning importance", name, list(IMPORTANCE))
    return {
        "l1": lambda: tp.importance.MagnitudeImportance(p=1),
        "l2": lambda: tp.importance.MagnitudeImportance(p=2),
        "bn": tp.importance.BNScaleImportance,
        "fpgm": tp.importance.FPGMImportance,
    }[name]()


def count(network: nn.Module, example: torch.Tensor) -> tuple[int, int]:
    """(MACs, parameters) of one forward pass on ``example``."""
    import torch
    import torch_pruning as tp

    with torch.no_grad():
        macs, params = tp.utils.count_ops_and_params(network.eval(), example)
    return int(macs), int(params)


def prune(
    network: nn.Module,
    example: torch.Tensor,
    *,
    ratio: float,
    importance: str = "l1",
    steps: int = 3,
    keep: list[nn.Module],
    fine_tune: Callable[[int], None] | None = None,
) -> PruneReport:
    """Remove ``ratio`` of the prunable channels of ``network`` in ``steps`` steps, calling ``fine_tune(step)``
    after each one; the modules in ``keep`` (output layers) keep their output channels. In place."""
    import torch

    if not 0 < ratio < 1:
        msg = f"--prune-ratio must be between 0 and 1 (the share of channels removed), got {ratio}"
        raise StudioError(msg)
    if steps < 1:
        msg = f"--prune-steps must be at least 1, got {steps}"
        raise StudioError(msg)
    macs_before, params_before = count(network, example)
    try:
        pruner = _group_aware_pruner()(
            network,
            example,
            importance=_importance(importance),
            pruning_ratio=ratio,
            iterative_steps=steps,
            ignored_layers=keep,
            round_to=ROUND_TO,
        )
    except Exception as exc:  # DepGraph could not trace the network
        msg = f"Torch-Pruning cannot trace this network ({type(exc).__name__}: {exc}); pick another architecture"
        raise StudioError(msg) from exc
    for step in range(steps):
        network.eval()
        with torch.no_grad():
            pruner.step()
        macs, params = count(network, example)
        log.info("pruning step %d/%d: %.1f%% of the MACs, %.1f%% of the parameters left", step + 1, steps,
                 100 * macs / macs_before, 100 * params / params_before)  # fmt: skip
        if fine_tune is not None:
            fine_tune(step)
    macs_after, params_after = count(network, example)
    return PruneReport(ratio, importance, steps, macs_before, macs_after, params_before, params_after)


@functools.cache
def _group_aware_pruner() -> type:
    """Torch-Pruning's ``MetaPruner``, rounding the channels of grouped layers (GroupNorm) as whole layers.

    Torch-Pruning 1.6.1 rounds the number of channels it removes so that ``round_to`` divides what is left, but
    for channels tied in groups the number it rounds counts channels *per group* while the layer's count is the
    whole layer's: RetinaNet-ResNet18's head (128 channels, GroupNorm of 32 groups of 4) asked to lose 2 of 4
    per group had that rounded to 8, more than a group holds, and kept every channel, silently. Its eight
    3x3 convolutions then made most of a pruned detector's arithmetic (at half the channels: MACs 0.51x of the
    network, not 0.27x). Here a grouped layer loses the smallest count per group, at least the one asked for,
    that leaves a multiple of ``round_to`` channels in all (``groups x kept``; with 32 groups, any). A group of 4
    loses whole quarters: Torch-Pruning keeps ``floor(4 x (1 - ratio))`` per group, so ``--prune-ratio 0.3``
    halves that head (2 of 4 kept) while the rest of the network keeps 70 % of its channels."""
    import torch_pruning as tp

    class GroupAwarePruner(tp.pruner.MetaPruner):
        def __init__(self, *args, **kwargs) -> None:
            self._groups_of: dict = {}  # a pruning group's root module -> its channel groups
            self._asked = None  # the module whose channels the pruner read last (right before it rounds)
            super().__init__(*args, **kwargs)
            for name in ("get_out_channels", "get_in_channels"):
                setattr(self.DG, name, self._remembering(getattr(self.DG, name)))

        def _remembering(self, read: Callable) -> Callable:
            def channels(module):
                self._asked = module
                return read(module)

            return channels

        def _get_channel_groups(self, group) -> int:
            groups = super()._get_channel_groups(group)
            self._groups_of[group[0].dep.target.module] = groups
            return groups

        def _round_to(self, n_pruned: int, current_channels: int, round_to: int) -> int:
            groups = self._groups_of.get(self._asked, 1)
            if groups == 1:
                return super()._round_to(n_pruned, current_channels, round_to)
            size = current_channels // groups  # channels per group; n_pruned counts per group too
            return next((n for n in range(n_pruned, size) if groups * (size - n) % round_to == 0), 0)

    return GroupAwarePruner
