"""Keras layers: the blocks of the GCN, GALD and FCRN papers, the large-kernel blocks of
SegNeXt (MSCA, LayerScale, the Hamburger's NMF), RepLKNet and UniRepLKNet, the shape
layers the model builders use, input normalization and initializers."""

from keras_lk.layers.boundary_refine import BoundaryRefine
from keras_lk.layers.context_head import CONTEXTS, ContextHead
from keras_lk.layers.conv_stack import ConvStack3x3
from keras_lk.layers.dilated_reparam_conv import DILATED_BRANCHES, DilatedReparamConv
from keras_lk.layers.global_aggregation import ASPP, CGNL, NonLocal, PyramidPooling
from keras_lk.layers.global_conv import GlobalConv
from keras_lk.layers.global_conv_tuning import tune_global_conv
from keras_lk.layers.initializers import (
    TORCH_BATCH_NORM,
    BilinearUpsampleInitializer,
    TorchConvUniform,
)
from keras_lk.layers.large_kernel_conv import LargeKernelConv
from keras_lk.layers.layer_scale import LayerScale
from keras_lk.layers.local_distribution import LocalDistribution
from keras_lk.layers.msca_block import MSCABlock
from keras_lk.layers.nmf2d import NMF2D
from keras_lk.layers.normalization import NORMS, conv_norm_act, norm_activation, norm_layer
from keras_lk.layers.preprocessing import (
    NORMALIZATIONS,
    CaffePreprocessing,
    normalize_image,
    preprocess_input,
)
from keras_lk.layers.reparam_large_kernel_conv import ReparamLargeKernelConv
from keras_lk.layers.spatial import (
    CropToMatch,
    InterleaveShiftedPasses,
    PadToMultiple,
    ResizeToMatch,
    ShiftImage,
)
from keras_lk.layers.strip_conv_attention import StripConvAttention

__all__ = [
    "ASPP",
    "CGNL",
    "CONTEXTS",
    "DILATED_BRANCHES",
    "NMF2D",
    "NORMALIZATIONS",
    "NORMS",
    "TORCH_BATCH_NORM",
    "BilinearUpsampleInitializer",
    "BoundaryRefine",
    "CaffePreprocessing",
    "ContextHead",
    "ConvStack3x3",
    "CropToMatch",
    "DilatedReparamConv",
    "GlobalConv",
    "InterleaveShiftedPasses",
    "LargeKernelConv",
    "LayerScale",
    "LocalDistribution",
    "MSCABlock",
    "NonLocal",
    "PadToMultiple",
    "PyramidPooling",
    "ReparamLargeKernelConv",
    "ResizeToMatch",
    "ShiftImage",
    "StripConvAttention",
    "TorchConvUniform",
    "conv_norm_act",
    "norm_activation",
    "norm_layer",
    "normalize_image",
    "preprocess_input",
    "tune_global_conv",
]
