"""Backbones: dilated ResNet v1 (10-narrow/18/50/101/152), ResNet50-GCN and MSCAN-T
(SegNeXt's encoder), their
registry `BACKBONES` (name → builder, input normalization, ImageNet weights, weights that
ship with keras_lk: ``weights="scenes"``), and any
keras-hub backbone with pyramid outputs (`keras_lk.backbones.hub`)."""

from keras_lk._moved import moved_attributes
from keras_lk.backbones import hub
from keras_lk.backbones.mscan import MSCANT, MSCANBackbone
from keras_lk.backbones.registry import (
    BACKBONES,
    PACKAGED_WEIGHT_NAMES,
    PACKAGED_WEIGHTS_DIR,
    BackboneInfo,
    backbone_normalization,
    get_backbone,
    weights_file_sha256,
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
    "MSCANT",
    "PACKAGED_WEIGHTS_DIR",
    "PACKAGED_WEIGHT_NAMES",
    "BackboneInfo",
    "MSCANBackbone",
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
    "weights_file_sha256",
]

__getattr__ = moved_attributes(__name__)
