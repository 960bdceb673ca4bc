"""Stack of 3×3 convolutions head: the GCN paper's ablation of Fig. 4D (Tables 3-4)."""

import keras

from keras_lk.layers._conv_base import ConvWeightsLayer
from keras_lk.layers._validation import check_odd_kernel_size, check_positive_int


@keras.saving.register_keras_serializable(package="keras_lk")
class ConvStack3x3(ConvWeightsLayer):
    """(k - 1) / 2 stacked 3×3 convolutions with no nonlinearity in between.

    The stack has the receptive field of one k×k convolution. The first layer
    maps C_in → `intermediate_filters`, the middle ones keep that width and the
    last maps to `filters`; with k = 3 it is a single 3×3 convolution C_in →
    `filters`. As in the paper, no nonlinearity is applied inside the stack, to
    stay comparable with `GlobalConv`.

    Kernel weights: `9 * (C_in*m + (n - 2)*m*m + m*filters)` for n = (k-1)/2 >= 2
    layers of width m (GCN Table 4: k = 7, C_in = 2048, 21 classes, m = 2048,
    1024, 210 → 75,885K, 28,505K, 4,307K).

    Args:
        filters: int, number of output channels.
        kernel_size: odd int >= 3, the equivalent kernel size k.
        intermediate_filters: int, width m of the layers inside the stack
            (GCN Table 4: 2048, 1024 or 210).
        use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in `keras.layers.Conv2D`, for every layer.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`.

    Returns:
        Tensor `(batch, height, width, filters)`.

    Example:
    >>> layer = keras_lk.layers.ConvStack3x3(21, kernel_size=7, intermediate_filters=32)
    >>> layer(np.zeros((1, 16, 16, 64), "float32")).shape
    (1, 16, 16, 21)

    Reference:
        Peng et al., "Large Kernel Matters", CVPR 2017, Fig. 4D, Tables 3 and 4.
    """

    def __init__(self, filters, kernel_size=7, intermediate_filters=2048, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("filters", filters)
        check_odd_kernel_size("kernel_size", kernel_size)
        if kernel_size < 3:
            raise ValueError(
                f"`kernel_size` of a 3×3 stack must be an odd integer >= 3, received {kernel_size!r}."
            )
        check_positive_int("intermediate_filters", intermediate_filters)
        self.filters = filters
        self.kernel_size = kernel_size
        self.intermediate_filters = intermediate_filters

    @property
    def num_layers(self):
        return (self.kernel_size - 1) // 2

    def build(self, input_shape):
        channels = self._channels(input_shape)
        widths = [channels] + [self.intermediate_filters] * (self.num_layers - 1) + [self.filters]
        for i in range(self.num_layers):
            self._add_conv(f"conv{i + 1}", (3, 3, widths[i], widths[i + 1]))
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        x = inputs
        for i in range(self.num_layers):
            x = self._conv(x, f"conv{i + 1}")
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "intermediate_filters": self.intermediate_filters,
            }
        )
        return config
