"""Segmentation models as functional builders: GCNSeg, GALDNet, FCRN."""

from keras_lk.models.fcrn import FCRN
from keras_lk.models.fcrn import fcrn_field_of_view
from keras_lk.models.high_resolution import HighResolutionSimulation
from keras_lk.models.spatial import CropToMatch
from keras_lk.models.spatial import InterleaveShiftedPasses
from keras_lk.models.spatial import PadToMultiple
from keras_lk.models.spatial import ShiftImage

__all__ = [
    "FCRN",
    "CropToMatch",
    "HighResolutionSimulation",
    "InterleaveShiftedPasses",
    "PadToMultiple",
    "ShiftImage",
    "fcrn_field_of_view",
]
