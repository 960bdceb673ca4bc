"""Utilities shared by the models and benchmarks."""

from keras_lk.utils.flops import count_flops
from keras_lk.utils.sublayers import all_layers

__all__ = ["all_layers", "count_flops"]
