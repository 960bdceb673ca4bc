"""Segmentation models as functional builders: GCNSeg, GALDNet, FCRN."""

from keras_lk.models.fcrn import FCRN
from keras_lk.models.gald_net import AUX_LOSS_WEIGHT
from keras_lk.models.gald_net import GALDNet
from keras_lk.models.gcn_seg import GCNSeg
from keras_lk.models.fcrn import fcrn_field_of_view
from keras_lk.models.high_resolution import HighResolutionSimulation
from keras_lk.models.spatial import CropToMatch
from keras_lk.models.spatial import InterleaveShiftedPasses
from keras_lk.models.spatial import PadToMultiple
from keras_lk.models.spatial import ShiftImage

__all__ = [
    "AUX_LOSS_WEIGHT",
    "FCRN",
    "GALDNet",
    "GCNSeg",
    "CropToMatch",
    "HighResolutionSimulation",
    "InterleaveShiftedPasses",
    "PadToMultiple",
    "ShiftImage",
    "fcrn_field_of_view",
]
