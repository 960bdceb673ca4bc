"""Losses from the FCRN and GALD papers."""

from keras_lk.losses.ohem_loss import OHEMLoss

__all__ = ["OHEMLoss"]
