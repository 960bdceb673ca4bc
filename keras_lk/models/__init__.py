"""Segmentation models as functional builders: GCNSeg, GALDNet, FCRN."""

from keras_lk.models.fcrn import FCRN, fcrn_field_of_view
from keras_lk.models.gald_net import AUX_LOSS_WEIGHT, GALDNet
from keras_lk.models.gcn_seg import GCNSeg
from keras_lk.models.high_resolution import HighResolutionSimulation
from keras_lk.models.spatial import CropToMatch, InterleaveShiftedPasses, PadToMultiple, ShiftImage

__all__ = [
    "AUX_LOSS_WEIGHT",
    "FCRN",
    "CropToMatch",
    "GALDNet",
    "GCNSeg",
    "HighResolutionSimulation",
    "InterleaveShiftedPasses",
    "PadToMultiple",
    "ShiftImage",
    "fcrn_field_of_view",
]
