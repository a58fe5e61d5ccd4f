"""Box decoding and NMS appended to a detection IR with OpenVINO opset operations, in float.

The converted (and possibly INT8-quantized) network outputs per-anchor class logits ``[1, A, K+1]``
and box deltas ``[1, A, 4]``. This module adds what torchvision does after the head, the same way:
scores (softmax or sigmoid, background column dropped), ``BoxCoder.decode`` against the anchors of
the static input size, clipping to the image, and per-class NMS (``MulticlassNms``). The outputs are
what Model API's SSD wrapper reads (``BoxesLabelsParser``): ``boxes`` ``[1, N, 5]`` as
``x1 y1 x2 y2 score`` in input pixels, and ``labels`` ``[1, N]`` class indices (0-based, no background).
"""

from __future__ import annotations

import math

import numpy as np
import openvino as ov
import openvino.opset13 as ops
from openvino import opset9

BBOX_XFORM_CLIP = math.log(1000.0 / 16)  # torchvision's clamp on dw/dh before exp


def append(
    network: ov.Model,
    anchors: np.ndarray,
    *,
    scores: str,
    box_weights: tuple[float, float, float, float],
    img_size: int,
    score_threshold: float,
    iou_threshold: float,
    topk_per_class: int,
    max_detections: int,
) -> ov.Model:
    logits, deltas = (result.input_value(0) for result in network.get_results())  # the producers, not the Results
    if scores == "softmax":
        probs = ops.softmax(logits, axis=2, name="postprocess/softmax")
    else:
        probs = ops.sigmoid(logits, name="postprocess/sigmoid")
    num_columns = int(logits.get_partial_shape()[2].get_length())  # K classes + background
    classes = _slice_last(probs, 1, num_columns, "postprocess/drop_background")
    class_first = ops.transpose(classes, _i64([0, 2, 1]), name="postprocess/class_first")  # [1, K, A]

    anchors = anchors.astype(np.float32)
    widths = anchors[:, 2] - anchors[:, 0]
    heights = anchors[:, 3] - anchors[:, 1]
    centres = np.stack([anchors[:, 0] + 0.5 * widths, anchors[:, 1] + 0.5 * heights], axis=1)[None]  # [1, A, 2]
    sizes = np.stack([widths, heights], axis=1)[None]
    wx, wy, ww, wh = box_weights
    d_xy = ops.divide(_slice_last(deltas, 0, 2, "postprocess/dxy"), _f32([wx, wy]))
    d_wh = ops.divide(_slice_last(deltas, 2, 4, "postprocess/dwh"), _f32([ww, wh]))
    d_wh = ops.minimum(d_wh, _f32(BBOX_XFORM_CLIP))
    centre = ops.add(ops.multiply(d_xy, _f32(sizes)), _f32(centres))
    half = ops.multiply(ops.exp(d_wh), _f32(sizes * 0.5))
    boxes = ops.concat([ops.subtract(centre, half), ops.add(centre, half)], axis=2)  # [1, A, 4] x1 y1 x2 y2
    boxes = ops.clamp(boxes, 0.0, float(img_size), name="postprocess/clip")

    nms = opset9.multiclass_nms(
        boxes,
        class_first,
        sort_result_type="score",
        sort_result_across_batch=False,
        output_type="i64",
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        nms_top_k=topk_per_class,
        keep_top_k=max_detections,
        background_class=-1,
        normalized=True,  # torchvision's box area has no +1
        name="postprocess/nms",
    )
    selected = nms.output(0)  # [N, 6]: class, score, x1, y1, x2, y2
    box_score = ops.concat(
        [_slice_last(selected, 2, 6, "postprocess/xyxy"), _slice_last(selected, 1, 2, "postprocess/score")], axis=1
    )
    boxes_out = ops.unsqueeze(box_score, _i64([0]), name="boxes")
    label = ops.convert(ops.squeeze(_slice_last(selected, 0, 1, "postprocess/class"), _i64([1])), "i64")
    labels_out = ops.unsqueeze(label, _i64([0]), name="labels")
    return ov.Model([boxes_out.output(0), labels_out.output(0)], network.get_parameters(), "detector")


def _slice_last(node, start: int, stop: int, name: str):
    output = node if isinstance(node, ov.Output) else node.output(0)
    rank = output.get_partial_shape().rank.get_length()
    return ops.slice(node, _i64([start]), _i64([stop]), _i64([1]), _i64([rank - 1]), name=name)


def _i64(values) -> ov.Node:
    return ops.constant(np.asarray(values, dtype=np.int64))


def _f32(values) -> ov.Node:
    return ops.constant(np.asarray(values, dtype=np.float32))
