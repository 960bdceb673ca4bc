"""Backbones: dilated ResNet v1 (18/50/101/152) and ResNet50-GCN."""

from keras_lk.backbones.resnet import BACKBONES
from keras_lk.backbones.resnet import CaffePreprocessing
from keras_lk.backbones.resnet import ResNet18
from keras_lk.backbones.resnet import ResNet50
from keras_lk.backbones.resnet import ResNet50GCN
from keras_lk.backbones.resnet import ResNet101
from keras_lk.backbones.resnet import ResNet152
from keras_lk.backbones.resnet import get_backbone
from keras_lk.backbones.resnet import preprocess_input

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
