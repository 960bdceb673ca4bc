"""Boundary Refinement block (BR), Peng et al. 2017, Fig. 2C."""

import keras
from keras import ops

from keras_lk.layers._conv_base import ConvWeightsLayer


@keras.saving.register_keras_serializable(package="keras_lk")
class BoundaryRefine(ConvWeightsLayer):
    """Residual refinement of a score map: S + conv3×3(ReLU(conv3×3(S))).

    Both convolutions keep the number of channels of the input (the classes of
    the score map); there is no normalisation, as in the paper's figure.

    Args:
        use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in `keras.layers.Conv2D`, for both convolutions.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`, a score map S.

    Returns:
        The refined score map, same shape as `inputs`.

    Example:
    >>> layer = keras_lk.layers.BoundaryRefine()
    >>> layer(np.zeros((2, 33, 17, 21), "float32")).shape
    (2, 33, 17, 21)

    Reference:
        Peng et al., "Large Kernel Matters", CVPR 2017, Sec. 3.2 and Fig. 2C.
    """

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_conv("conv1", (3, 3, channels, channels))
        self._add_conv("conv2", (3, 3, channels, channels))
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        residual = self._conv(ops.relu(self._conv(inputs, "conv1")), "conv2")
        return inputs + residual

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
