"""A warning before training a layer that TensorFlow's oneDNN kernels mis-compute.

TensorFlow 2.21 on x86 CPUs computes a convolution's kernel gradient with oneDNN. For a
1×1 convolution with a stride > 1 whose input has fewer channels than oneDNN's channel
block (16 with AVX-512, 8 with AVX2), that kernel writes past its buffer
(uxlfoundation/oneDNN#6035): the heap is corrupted and the process aborts or segfaults
later, in unrelated code, with nothing pointing back to the layer. Measured here
(AVX-512): 300 gradients of such a layer on a 1×48×48×4 float32 input crashed 3
processes in 3; none in 3 with 16 input channels or with ``TF_ENABLE_ONEDNN_OPTS=0``,
none in 2 in bfloat16. No keras_lk backbone has such a layer; a user's own can.

`check_onednn_pointwise_gradients` warns, naming the layers and the two ways out, when
a model about to train has one and nothing rules the bug out.
"""

from __future__ import annotations

import os
import warnings

from keras_lk.utils.sublayers import all_layers

# oneDNN's widest channel block on x86 (AVX-512): fewer input channels than this can hit
# the bug. AVX2's block is 8, so 8-15 channels are safe there, but not on AVX-512.
MIN_SAFE_CHANNELS = 16


def strided_pointwise_convolutions(model, min_channels=MIN_SAFE_CHANNELS):
    """The trainable float32 ``Conv2D`` layers of `model` (at any depth) with a 1×1
    kernel, a stride > 1 and fewer than `min_channels` input channels.

    Args:
        model: a built `keras.Model`.
        min_channels: input channels from which such a layer is safe.

    Returns:
        A list of the layers.

    Example:
    >>> keras_lk.training.onednn.strided_pointwise_convolutions(model)
    []
    """
    import keras

    return [
        layer for layer in all_layers(model)
        if isinstance(layer, keras.layers.Conv2D) and layer.trainable
        and tuple(layer.kernel_size) == (1, 1) and max(layer.strides) > 1
        and layer.compute_dtype == "float32" and layer.kernel.shape[2] < min_channels
    ]


def check_onednn_pointwise_gradients(model):
    """Warns if training `model` can corrupt the heap through oneDNN (module docstring):
    it has a layer of `strided_pointwise_convolutions`, TensorFlow sees no GPU (where
    cuDNN computes the gradients instead), and ``TF_ENABLE_ONEDNN_OPTS`` is not ``0``.

    Returns:
        The names of the layers warned about (empty when there is no warning).
    """
    import tensorflow as tf

    if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0" or tf.config.list_logical_devices("GPU"):
        return []
    names = [layer.name for layer in strided_pointwise_convolutions(model)]
    if names:
        warnings.warn(
            f"{len(names)} layer(s) of '{model.name}' are 1x1 convolutions with a stride "
            f"and fewer than {MIN_SAFE_CHANNELS} input channels ({', '.join(names[:5])}"
            f"{', ...' if len(names) > 5 else ''}): TensorFlow's oneDNN kernel for their "
            "gradient can corrupt the heap on this CPU (uxlfoundation/oneDNN#6035), and the "
            "run then crashes later. Give them at least 16 input channels, train in "
            "mixed_bfloat16, or set TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow is imported.",
            RuntimeWarning, stacklevel=2)
    return names
