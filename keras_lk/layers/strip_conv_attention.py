"""SegNeXt's multi-scale convolutional attention (MSCA), Guo et al. 2022.

"SegNeXt: Rethinking Convolutional Attention Design for Semantic Segmentation",
NeurIPS 2022, https://arxiv.org/abs/2209.08575; official code
https://github.com/Visual-Attention-Network/SegNeXt (`mmseg/models/backbones/mscan.py`,
`AttentionModule`; the same class in mmsegmentation's `mscan.py`).
"""

import keras
from keras import ops

from keras_lk.layers._validation import check_known_channels, check_odd_kernel_size


def _fan_out_normal():
    # MSCAN.init_weights: N(0, 2 / fan_out), fan_out = kh·kw·C_out / groups (kh·kw for a
    # depth-wise kernel); Keras's fan_out of a (kh, kw, C, 1) kernel is kh·kw too.
    return keras.initializers.VarianceScaling(2.0, mode="fan_out",
                                              distribution="untruncated_normal")


@keras.saving.register_keras_serializable(package="keras_lk")
class StripConvAttention(keras.layers.Layer):
    """Attention from depth-wise strip convolutions: ``x ⊙ Conv1×1(a + Σ_i s_i(a))``.

    ``a = DW_{k×k}(x)`` (5×5) aggregates local context; each branch ``s_i`` is a
    1×k_i then k_i×1 depth-wise convolution of ``a`` (k_i = 7, 11, 21), a cheap
    separable stand-in for a k_i×k_i kernel that suits strip-like objects (SegNeXt
    Sec. 3.1, Eq. 1, Fig. 2). The local term and the branches are summed, mixed across
    channels by a 1×1 convolution, and the result weighs the input element-wise
    (no sigmoid: the weights are unbounded, as in the official code). Every
    convolution has a bias and "same" padding (PyTorch's padding k//2 of an odd kernel:
    the same pixels).

    Training dynamics follow the official code: ``MSCAN.init_weights`` draws every
    convolution's kernel from N(0, 2 / fan_out) with fan_out = kh·kw·C_out / groups
    (kh·kw for the depth-wise ones, C for the 1×1) and zeroes its bias, which is
    `VarianceScaling(2, "fan_out", "untruncated_normal")` and zeros here.

    PyTorch weights load as ``depthwise_kernel = conv0.weight.permute(2, 3, 0, 1)``
    (C×1×kh×kw → kh×kw×C×1), ``strip{i}_1x{k}_kernel`` / ``strip{i}_{k}x1_kernel`` from
    ``conv{i-1}_1`` / ``conv{i-1}_2`` likewise, ``pointwise_kernel =
    conv3.weight.permute(2, 3, 1, 0)``, biases as they are.

    Args:
        kernel_size: odd int >= 1, the local depth-wise kernel (5).
        strip_kernel_sizes: odd ints >= 1, one strip branch each ((7, 11, 21));
            may be empty (local term only).
        depthwise_initializer, pointwise_initializer: of the depth-wise kernels and of
            the 1×1 kernel; None: the official N(0, 2 / fan_out).
        bias_initializer: of every bias (zeros, as the official).
        kernel_regularizer, bias_regularizer: of every kernel and bias.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor ``(batch, height, width, channels)``.

    Returns:
        Tensor of the same shape as `inputs`.

    Example:
    >>> layer = keras_lk.layers.StripConvAttention()
    >>> layer(np.zeros((1, 32, 32, 64), "float32")).shape
    (1, 32, 32, 64)

    Reference:
        Guo et al., "SegNeXt: Rethinking Convolutional Attention Design for Semantic
        Segmentation", NeurIPS 2022, Sec. 3.1, Eq. (1)-(2), Fig. 2(b); official
        ``mmseg/models/backbones/mscan.py``, ``AttentionModule`` and
        ``MSCAN.init_weights``.
    """

    def __init__(
        self,
        kernel_size=5,
        strip_kernel_sizes=(7, 11, 21),
        depthwise_initializer=None,
        pointwise_initializer=None,
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_odd_kernel_size("kernel_size", kernel_size)
        if not isinstance(strip_kernel_sizes, (list, tuple)):
            raise TypeError("`strip_kernel_sizes` must be a list of odd integers >= 1, "
                            f"received {strip_kernel_sizes!r}.")
        for size in strip_kernel_sizes:
            check_odd_kernel_size("strip_kernel_sizes", size)
        self.kernel_size = kernel_size
        self.strip_kernel_sizes = tuple(strip_kernel_sizes)
        self.depthwise_initializer = keras.initializers.get(
            depthwise_initializer or _fan_out_normal())
        self.pointwise_initializer = keras.initializers.get(
            pointwise_initializer or _fan_out_normal())
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _add_conv(self, name, kernel_shape, initializer):
        kernel = self.add_weight(name=f"{name}_kernel", shape=kernel_shape,
                                 initializer=initializer, regularizer=self.kernel_regularizer)
        # Every convolution maps C channels to C: one bias per input channel.
        bias = self.add_weight(name=f"{name}_bias", shape=(kernel_shape[2],),
                               initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer)
        return kernel, bias

    def build(self, input_shape):
        channels = check_known_channels(type(self).__name__, input_shape)
        k = self.kernel_size
        self.local = self._add_conv("depthwise", (k, k, channels, 1), self.depthwise_initializer)
        self.strips = [
            (self._add_conv(f"strip{i}_1x{size}", (1, size, channels, 1),
                            self.depthwise_initializer),
             self._add_conv(f"strip{i}_{size}x1", (size, 1, channels, 1),
                            self.depthwise_initializer))
            for i, size in enumerate(self.strip_kernel_sizes, start=1)
        ]
        self.pointwise = self._add_conv("pointwise", (1, 1, channels, channels),
                                        self.pointwise_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    @staticmethod
    def _depthwise(x, conv):
        kernel, bias = conv
        return ops.depthwise_conv(x, kernel, padding="same") + bias

    def call(self, inputs):
        local = self._depthwise(inputs, self.local)
        attention = local
        for row, column in self.strips:
            attention = attention + self._depthwise(self._depthwise(local, row), column)
        kernel, bias = self.pointwise
        attention = ops.conv(attention, kernel) + bias
        return attention * inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "kernel_size": self.kernel_size,
            "strip_kernel_sizes": list(self.strip_kernel_sizes),
            "depthwise_initializer": keras.initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": keras.initializers.serialize(self.pointwise_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        })
        return config
