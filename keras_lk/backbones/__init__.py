"""Backbones: dilated ResNet v1 (10-narrow/18/50/101/152) and ResNet50-GCN, their
registry `BACKBONES` (name → builder, input normalization, ImageNet weights), and any
keras-hub backbone with pyramid outputs (`keras_lk.backbones.hub`)."""

from keras_lk._moved import moved_attributes
from keras_lk.backbones import hub
from keras_lk.backbones.registry import (
    BACKBONES,
    BackboneInfo,
    backbone_normalization,
    get_backbone,
)
from keras_lk.backbones.resnet import (
    ResNet10Local,
    ResNet10Narrow,
    ResNet18,
    ResNet50,
    ResNet50GCN,
    ResNet101,
    ResNet152,
    ResNetBackbone,
)

__all__ = [
    "BACKBONES",
    "BackboneInfo",
    "ResNet10Local",
    "ResNet10Narrow",
    "ResNet18",
    "ResNet50",
    "ResNet50GCN",
    "ResNet101",
    "ResNet152",
    "ResNetBackbone",
    "backbone_normalization",
    "get_backbone",
    "hub",
]

__getattr__ = moved_attributes(__name__)
