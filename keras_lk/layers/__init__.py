"""Keras layers from the GCN and GALD papers."""

from keras_lk.layers.boundary_refine import BoundaryRefine
from keras_lk.layers.conv_stack import ConvStack3x3
from keras_lk.layers.global_conv import GlobalConv
from keras_lk.layers.large_kernel_conv import LargeKernelConv
from keras_lk.layers.local_distribution import LocalDistribution

__all__ = [
    "BoundaryRefine",
    "ConvStack3x3",
    "GlobalConv",
    "LargeKernelConv",
    "LocalDistribution",
]
