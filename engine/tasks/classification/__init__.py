"""Image classification: one task, one package (its layout: :mod:`engine.tasks`)."""

# The primary metric (its key in metric dicts, and how it is shown): plain constants, so verbs that only list runs
# read them without importing the task's modules (and torch).
PRIMARY_METRIC = "top1"
METRIC_NAME = "top-1"

# The Datumaro formats this task reads, preferred first (``data formats`` lists them without Datumaro).
FORMATS = (
    "imagenet_with_subset_dirs",
    "imagenet",
    "voc_classification",
    "datumaro",
    "cifar",
    "mnist",
)

# Each architecture's ImageNet weights (the classifier's): torchvision's enum member and its file name, plain
# strings so that `weights list` runs without torch; tests/test_tasks.py checks them against models.py.
WEIGHTS_KIND = "full model"
WEIGHTS = {
    "mobilenet_v3_small": ("MobileNet_V3_Small_Weights.IMAGENET1K_V1", "mobilenet_v3_small-047dcff4.pth"),
    "mobilenet_v3_large": ("MobileNet_V3_Large_Weights.IMAGENET1K_V2", "mobilenet_v3_large-5c1a4163.pth"),
    "efficientnet_b0": ("EfficientNet_B0_Weights.IMAGENET1K_V1", "efficientnet_b0_rwightman-7f5810bc.pth"),
    "mobilenet_v2": ("MobileNet_V2_Weights.IMAGENET1K_V2", "mobilenet_v2-7ebf99e0.pth"),
    "regnet_x_400mf": ("RegNet_X_400MF_Weights.IMAGENET1K_V2", "regnet_x_400mf-62229a5f.pth"),
    "regnet_x_800mf": ("RegNet_X_800MF_Weights.IMAGENET1K_V2", "regnet_x_800mf-94a99ebd.pth"),
    "resnet18": ("ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth"),
    "resnet50": ("ResNet50_Weights.IMAGENET1K_V2", "resnet50-11ad3fa6.pth"),
}
