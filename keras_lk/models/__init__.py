"""Segmentation models as functional-model classes (GCNSeg, GALDNet, FCRN, SegNeXt) and
their registry `MODELS` (family name → class; its constructor arguments are its
options)."""

from keras_lk._moved import moved_attributes
from keras_lk.models.fcrn import FCRN, fcrn_field_of_view
from keras_lk.models.gald_net import AUX_LOSS_WEIGHT, GALDNet
from keras_lk.models.gcn_seg import GCNSeg
from keras_lk.models.high_resolution import HighResolutionSimulation
from keras_lk.models.loading import load_model
from keras_lk.models.registry import MODELS, ModelInfo
from keras_lk.models.segmentation_model import LOGITS, SegmentationModel
from keras_lk.models.segnext import SegNeXt

__all__ = [
    "AUX_LOSS_WEIGHT",
    "FCRN",
    "LOGITS",
    "MODELS",
    "GALDNet",
    "GCNSeg",
    "HighResolutionSimulation",
    "ModelInfo",
    "SegNeXt",
    "SegmentationModel",
    "fcrn_field_of_view",
    "load_model",
]

__getattr__ = moved_attributes(__name__)
