"""Backbones: dilated ResNet v1 (18/50/101/152) and ResNet50-GCN."""

from keras_lk.backbones.resnet import (
    BACKBONES,
    CaffePreprocessing,
    ResNet18,
    ResNet50,
    ResNet50GCN,
    ResNet101,
    ResNet152,
    get_backbone,
    preprocess_input,
)

__all__ = [
    "BACKBONES",
    "CaffePreprocessing",
    "ResNet18",
    "ResNet50",
    "ResNet50GCN",
    "ResNet101",
    "ResNet152",
    "get_backbone",
    "preprocess_input",
]
