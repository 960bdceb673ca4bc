"""Trivial k×k convolution head: the GCN paper's ablation of Fig. 4C (Table 2)."""

import keras

from keras_lk.layers._conv_base import ConvWeightsLayer
from keras_lk.layers._validation import check_odd_kernel_size, check_positive_int


@keras.saving.register_keras_serializable(package="keras_lk")
class LargeKernelConv(ConvWeightsLayer):
    """A single dense k×k convolution with "same" padding.

    The baseline that GCN Table 2 compares `GlobalConv` against: the same
    receptive field with `k * k * C_in * filters` kernel weights instead of
    `2 * k * filters * (C_in + filters)`.

    Args:
        filters: int, number of output channels.
        kernel_size: odd int >= 1.
        use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in `keras.layers.Conv2D`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`.

    Returns:
        Tensor `(batch, height, width, filters)`.

    Example:
    >>> layer = keras_lk.layers.LargeKernelConv(filters=21, kernel_size=7)
    >>> layer(np.zeros((1, 16, 16, 64), "float32")).shape
    (1, 16, 16, 21)

    Reference:
        Peng et al., "Large Kernel Matters", CVPR 2017, Fig. 4C and Table 2.
    """

    def __init__(self, filters, kernel_size=15, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("filters", filters)
        check_odd_kernel_size("kernel_size", kernel_size)
        self.filters = filters
        self.kernel_size = kernel_size

    def build(self, input_shape):
        channels = self._channels(input_shape)
        k = self.kernel_size
        self._add_conv("conv", (k, k, channels, self.filters))
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        return self._conv(inputs, "conv")

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size})
        return config
