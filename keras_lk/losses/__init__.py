"""Segmentation losses: cross-entropy with an ignore label, and OHEM (FCRN, GALD)."""

from keras_lk.losses.cross_entropy import LOSSES, SegmentationCrossEntropy, make_loss
from keras_lk.losses.ohem_loss import OHEMLoss

__all__ = ["LOSSES", "OHEMLoss", "SegmentationCrossEntropy", "make_loss"]
