"""Utilities shared by the models and benchmarks."""

from keras_lk.utils.flops import count_flops

__all__ = ["count_flops"]
