"""Kernel initializers of keras_lk's layers and heads."""

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="keras_lk")
class BilinearUpsampleInitializer(keras.initializers.Initializer):
    """Initialises a ``Conv2DTranspose`` kernel ``(k, k, C, C)`` as per-channel bilinear
    upsampling (FCN practice), so the deconvolutions start as plain ×2 upsampling.

    Example:
    >>> init = keras_lk.layers.BilinearUpsampleInitializer()
    >>> init((4, 4, 21, 21)).shape
    TensorShape([4, 4, 21, 21])

    Reference:
        Long et al., "Fully Convolutional Networks for Semantic Segmentation", 2015.
    """

    def __call__(self, shape, dtype=None):
        kh, kw, out_channels, in_channels = shape
        if out_channels != in_channels or kh != kw:
            raise ValueError(f"Bilinear initialisation needs a (k, k, C, C) kernel, got {shape}.")
        factor = (kh + 1) // 2
        center = factor - 1 if kh % 2 == 1 else factor - 0.5
        grid = np.arange(kh, dtype="float64")
        profile = 1 - np.abs(grid - center) / factor
        kernel = np.zeros(shape, dtype="float32")
        for c in range(out_channels):
            kernel[:, :, c, c] = np.outer(profile, profile)
        return keras.ops.convert_to_tensor(kernel, dtype=dtype or "float32")

    def get_config(self):
        return {}
