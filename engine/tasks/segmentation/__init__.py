"""Semantic segmentation: one task, one package (its layout: :mod:`engine.tasks`)."""

# The primary metric (its key in metric dicts, and how it is shown): plain constants, so verbs that only list runs
# read them without importing the task's modules (and torch).
PRIMARY_METRIC = "miou"
METRIC_NAME = "mIoU"

# The Datumaro formats this task reads, preferred first (``data formats`` lists them without Datumaro).
FORMATS = (
    "common_semantic_segmentation_with_subset_dirs",
    "common_semantic_segmentation",
    "voc_segmentation",
    "cityscapes",
    "datumaro",
)

# Each architecture's ImageNet weights (the backbone's): torchvision's enum member and its file name, plain
# strings so that `weights list` runs without torch; tests/test_tasks.py checks them against models.py.
WEIGHTS_KIND = "backbone"
WEIGHTS = {
    "lraspp_mobilenet_v3_large": ("MobileNet_V3_Large_Weights.IMAGENET1K_V1", "mobilenet_v3_large-8738ca79.pth"),
    "deeplabv3_mobilenet_v3_large": ("MobileNet_V3_Large_Weights.IMAGENET1K_V1", "mobilenet_v3_large-8738ca79.pth"),
    "lraspp_mobilenet_v2": ("MobileNet_V2_Weights.IMAGENET1K_V2", "mobilenet_v2-7ebf99e0.pth"),
    "lraspp_resnet18": ("ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth"),
}
