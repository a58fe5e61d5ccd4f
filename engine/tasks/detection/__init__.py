"""Object detection: one task, one package (its layout: :mod:`engine.tasks`; here also ``metrics.py``:
COCO mAP and box matching)."""

# The primary metric (its key in metric dicts, and how it is shown): plain constants, so verbs that only list runs
# read them without importing the task's modules (and torch).
PRIMARY_METRIC = "map_50"
METRIC_NAME = "mAP@0.5"

# The Datumaro formats this task reads, preferred first (``data formats`` lists them without Datumaro).
FORMATS = (
    "coco_instances",
    "coco",
    "voc_detection",
    "yolo",
    "datumaro",
)

# Each architecture's ImageNet weights (the backbone's): torchvision's enum member and its file name, plain
# strings so that `weights list` runs without torch; tests/test_tasks.py checks them against models.py.
WEIGHTS_KIND = "backbone"
WEIGHTS = {
    "ssdlite320_mobilenet_v3_large": ("MobileNet_V3_Large_Weights.IMAGENET1K_V1", "mobilenet_v3_large-8738ca79.pth"),
    "retinanet_mobilenet_v3_large_fpn": ("MobileNet_V3_Large_Weights.IMAGENET1K_V1", "mobilenet_v3_large-8738ca79.pth"),
    "retinanet_resnet18_fpn": ("ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth"),
}
