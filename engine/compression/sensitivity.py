"""Which quantized layers cost the accuracy: NNCF's own quantizer groups, each put back in float alone.

``nncf.quantize_with_accuracy_control`` answers the same question internally: it splits the quantized
network into groups (the quantizers that must go together and the operations they make float again) and
reverts them, original weights and biases included. That machinery has no public entry point, so this module
drives it directly (pinned ``nncf==3.4.0``; ``tests/test_sensitivity.py`` guards the private names): the
quantized network keeps float weights behind FakeQuantize (``compress_weights=False``), and
:meth:`QuantizerGroups.keep_float` returns it with any set of groups reverted, for the caller to score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import openvino as ov
from nncf.common.factory import build_graph
from nncf.common.quantization.quantizer_removal import revert_operations_to_floating_point_precision
from nncf.quantization.advanced_parameters import RestoreMode
from nncf.quantization.algorithms.accuracy_control.algorithm import QuantizationAccuracyRestorer
from nncf.quantization.algorithms.accuracy_control.openvino_backend import OVAccuracyControlAlgoBackend as Backend
from nncf.quantization.algorithms.accuracy_control.ranker import Ranker

from engine.compression.ptq import quantize_int8


@dataclass(frozen=True)
class Group:
    operations: tuple[str, ...]  # the layers this group makes float (names in the FP32 network)
    types: tuple[str, ...]  # their OpenVINO op types
    quantizers: int  # FakeQuantize ops removed with it


class QuantizerGroups:
    """``fp32`` quantized once with ``subset``; its groups, and the network with some of them in float."""

    def __init__(self, fp32: ov.Model, subset: list, img_size: int) -> None:
        self.quantized = quantize_int8(fp32, subset, img_size, compress_weights=False)
        self._graph = build_graph(self.quantized)
        # what NNCF's accuracy restorer records first: the weights and biases before quantization and bias
        # correction, so a reverted layer computes exactly as in the FP32 network
        QuantizationAccuracyRestorer._collect_original_biases_and_weights(
            build_graph(fp32), self._graph, fp32, Backend()
        )
        ranker = Ranker(ranking_subset_size=1, dataset=None, algo_backend=Backend(), evaluator=None)
        self._groups = ranker.find_groups_of_quantizers_to_rank(self._graph)
        self.groups = [
            Group(
                operations=tuple(node.node_name for node in group.operations),
                types=tuple(node.node_type for node in group.operations),
                quantizers=len(group.quantizers),
            )
            for group in self._groups
        ]

    def keep_float(self, indices: Iterable[int]) -> ov.Model:
        """The quantized network with the groups ``indices`` reverted to float (a new model)."""
        chosen = [self._groups[i] for i in indices]
        return revert_operations_to_floating_point_precision(
            [op for group in chosen for op in group.operations],
            [q for group in chosen for q in group.quantizers],
            self.quantized,
            self._graph,
            RestoreMode.ACTIVATIONS_AND_WEIGHTS,
            Backend.get_op_with_weights_metatypes(),
            Backend.is_node_with_weight,
            Backend.get_weight_tensor_port_ids,
        )


def fake_quantize_count(model: ov.Model) -> int:
    return sum(op.get_type_name() == "FakeQuantize" for op in model.get_ops())
