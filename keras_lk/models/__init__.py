"""Segmentation models as functional-model classes (GCNSeg, GALDNet, FCRN) and their
registry `MODELS` (family name → class; its constructor arguments are its options)."""

from keras_lk.models.fcrn import FCRN, fcrn_field_of_view
from keras_lk.models.gald_net import AUX_LOSS_WEIGHT, GALDNet
from keras_lk.models.gcn_seg import GCNSeg
from keras_lk.models.high_resolution import HighResolutionSimulation
from keras_lk.models.registry import MODELS, ModelInfo
from keras_lk.models.segmentation_model import LOGITS, SegmentationModel
from keras_lk.models.spatial import CropToMatch, InterleaveShiftedPasses, PadToMultiple, ShiftImage

__all__ = [
    "AUX_LOSS_WEIGHT",
    "FCRN",
    "LOGITS",
    "MODELS",
    "CropToMatch",
    "GALDNet",
    "GCNSeg",
    "HighResolutionSimulation",
    "InterleaveShiftedPasses",
    "ModelInfo",
    "PadToMultiple",
    "SegmentationModel",
    "ShiftImage",
    "fcrn_field_of_view",
]
