"""Keras layers from the GCN and GALD papers."""

from keras_lk.layers.boundary_refine import BoundaryRefine
from keras_lk.layers.conv_stack import ConvStack3x3
from keras_lk.layers.global_aggregation import ASPP, CGNL, NonLocal, PyramidPooling
from keras_lk.layers.global_conv import GlobalConv
from keras_lk.layers.large_kernel_conv import LargeKernelConv
from keras_lk.layers.local_distribution import LocalDistribution
from keras_lk.layers.normalization import NORMS, conv_norm_act, norm_activation, norm_layer

__all__ = [
    "ASPP",
    "CGNL",
    "NORMS",
    "BoundaryRefine",
    "ConvStack3x3",
    "GlobalConv",
    "LargeKernelConv",
    "LocalDistribution",
    "NonLocal",
    "PyramidPooling",
    "conv_norm_act",
    "norm_activation",
    "norm_layer",
]
