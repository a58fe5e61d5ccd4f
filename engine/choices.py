"""The fixed choices and defaults the CLI and the facade's signatures need, in a module that imports nothing
heavy: ``python -m engine --help`` builds every subcommand from these without loading torch or OpenVINO.
Each is defined here once and used by the module that acts on it."""

from __future__ import annotations

SPLITS = ("train", "val", "test")
CALIBRATION_SPLITS = ("train", "val")  # test stays unseen: it is what every variant is scored on
HINTS = ("latency", "throughput", "both")  # benchmark: OpenVINO performance hints to measure
PRUNE_IMPORTANCE = {  # criterion -> how a channel's importance is estimated
    "l1": "L1 norm of the channel's weights (magnitude)",
    "l2": "L2 norm of the channel's weights (magnitude)",
    "bn": "|gamma| of the BatchNorm after the channel (Network Slimming)",
    "fpgm": "distance to the geometric median of its layer's filters (FPGM): redundant channels go first",
}
CALIBRATION_SWEEP = (16, 64, 300, 0)  # calibration sizes the sweep scores; 0 = every image of the split
SEARCH_VARIANTS = ("int8", "int8-qat", "pruned-int8")  # what a search candidate may be turned into
# The share of channels a search's pruned-int8 removes: more than optimize's 0.3, since every point is scored
# against the floor (a candidate that cannot take it keeps its INT8 and QAT points). At the classification
# sample's 64 px on an AVX-512 VNNI + BF16 EPYC (random init) 30 % buys MobileNetV2 INT8 1.48x the reference
# FP32 IR, 50 % 1.62x.
SEARCH_PRUNE_RATIO = 0.5
AUGMENT = {  # classification: training augmentation policy -> what it does
    "basic": "horizontal flip and colour jitter",
    "trivial": "torchvision's classification reference: random resized crop, flip, TrivialAugmentWide, random erasing",
}
BALANCE = {  # classification: what training does about classes of different sizes
    "none": "every image as often as any other",
    "sampler": "class-balanced sampling: every class drawn equally often",
    "loss": "class-weighted loss: a class's images weigh the inverse of its share",
    "auto": "class-balanced sampling when the largest train class has 3x the images of the smallest, else none",
}
CALIB_SIZE = 300  # INT8 calibration images by default (optimize, QAT's initialisation, the Optimize page)
