"""Local Distribution (LD) module, Li et al. 2019 (GALD), Eq. (1)-(2).

"Global Aggregation then Local Distribution in Fully Convolutional Networks",
BMVC 2019.
"""

import keras
from keras import ops

from keras_lk.layers._resize import resize_bilinear
from keras_lk.layers._validation import (
    check_choice,
    check_known_channels,
    check_odd_kernel_size,
)
from keras_lk.layers.normalization import NORMS, norm_layer

DOWNSAMPLERS = ("depthwise", "bilinear", "average")


@keras.saving.register_keras_serializable(package="keras_lk")
class LocalDistribution(keras.layers.Layer):
    """Per-channel spatial mask that redistributes features: F' = M ⊙ F + F.

    M = sigmoid(upsample(W_d F)) (GALD Eq. 1), where W_d downsamples F by the
    rate d and `upsample` is bilinear interpolation back to F's exact size (any
    size, odd included). The output is M ⊙ F + F (Eq. 2). The three
    downsamplers are the rows of GALD Table 1(e):

    - `"depthwise"` (default, the paper's choice): log2(d) depthwise k×k
      convolutions of stride 2 ("same" padding), learnable per channel.
    - `"bilinear"`: bilinear resize to ceil(size / d); no weights.
    - `"average"`: d×d average pooling of stride d ("same" padding); no weights.

    The official GALD code follows each depthwise convolution with batch
    normalisation and ReLU. Because the last ReLU precedes the sigmoid, its mask
    lives in [0.5, 1) instead of the paper's [0, 1]. `batch_norm=True` and
    `relu=True` reproduce that code; the defaults follow the paper's equation
    (a purely linear W_d).

    Args:
        downsample_rate: int power of two >= 2, the rate d (8 in GALD Table 1e).
        downsample: one of `"depthwise"`, `"bilinear"`, `"average"`.
        kernel_size: odd int >= 1, the depthwise kernel size (3 in the official
            code).
        batch_norm: bool, batch normalisation after each depthwise conv
            (official code).
        relu: bool, ReLU after each depthwise conv (official code; makes
            M >= 0.5).
        norm: ``"batch_norm"`` or ``"sync_batch_norm"``, the norm of `batch_norm`.
        depthwise_initializer, depthwise_regularizer: for the depthwise kernels.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`, F_GA.
        training: bool, for batch normalisation.

    Returns:
        Tensor of the same shape as `inputs`, F_GALD.

    Example:
    >>> layer = keras_lk.layers.LocalDistribution(downsample_rate=8)
    >>> layer(np.zeros((1, 97, 65, 64), "float32")).shape
    (1, 97, 65, 64)

    Reference:
        Li et al., "Global Aggregation then Local Distribution in Fully
        Convolutional Networks", BMVC 2019, Sec. 3.2, Eq. (1)-(2), Table 1(e).
    """

    def __init__(
        self,
        downsample_rate=8,
        downsample="depthwise",
        kernel_size=3,
        batch_norm=False,
        relu=False,
        norm="batch_norm",
        depthwise_initializer="glorot_uniform",
        depthwise_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            isinstance(downsample_rate, bool)
            or not isinstance(downsample_rate, int)
            or downsample_rate < 2
            or downsample_rate & (downsample_rate - 1)
        ):
            raise ValueError(
                f"`downsample_rate` must be a power of two >= 2, received {downsample_rate!r}."
            )
        check_choice("downsample", downsample, DOWNSAMPLERS)
        check_choice("norm", norm, NORMS)
        check_odd_kernel_size("kernel_size", kernel_size)
        if downsample != "depthwise" and (batch_norm or relu):
            raise ValueError(
                "`batch_norm` and `relu` apply to the depthwise downsampler only, received "
                f"downsample={downsample!r} with batch_norm={batch_norm!r}, relu={relu!r}."
            )
        self.downsample_rate = downsample_rate
        self.downsample = downsample
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.relu = relu
        self.norm = norm
        self.depthwise_initializer = keras.initializers.get(depthwise_initializer)
        self.depthwise_regularizer = keras.regularizers.get(depthwise_regularizer)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        self.num_stages = downsample_rate.bit_length() - 1 if downsample == "depthwise" else 0
        self.norms = [
            norm_layer(norm, f"bn{i + 1}", dtype=self.dtype_policy)
            for i in range(self.num_stages if batch_norm else 0)
        ]

    def build(self, input_shape):
        channels = check_known_channels(type(self).__name__, input_shape)
        self.depthwise_kernels = [
            self.add_weight(
                name=f"depthwise{i + 1}_kernel",
                shape=(self.kernel_size, self.kernel_size, channels, 1),
                initializer=self.depthwise_initializer,
                regularizer=self.depthwise_regularizer,
            )
            for i in range(self.num_stages)
        ]
        shape = list(input_shape)
        for norm in self.norms:
            shape[1] = None if shape[1] is None else -(-shape[1] // 2)
            shape[2] = None if shape[2] is None else -(-shape[2] // 2)
            norm.build(tuple(shape))
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def _downsample(self, x, training):
        d = self.downsample_rate
        if self.downsample == "average":
            return _average_pool_same(x, d)
        if self.downsample == "bilinear":
            height, width = ops.shape(x)[1], ops.shape(x)[2]
            size = ((height + d - 1) // d, (width + d - 1) // d)
            return resize_bilinear(x, *size)
        for i, kernel in enumerate(self.depthwise_kernels):
            x = ops.depthwise_conv(x, kernel, strides=2, padding="same")
            if self.batch_norm:
                x = self.norms[i](x, training=training)
            if self.relu:
                x = ops.relu(x)
        return x

    def call(self, inputs, training=None):
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        coarse = self._downsample(inputs, training)
        mask_logits = resize_bilinear(coarse, height, width)
        # The sigmoid runs in the compute dtype: its output is bounded, no overflow.
        mask = ops.sigmoid(mask_logits)
        return mask * inputs + inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "downsample_rate": self.downsample_rate,
                "downsample": self.downsample,
                "kernel_size": self.kernel_size,
                "batch_norm": self.batch_norm,
                "relu": self.relu,
                "norm": self.norm,
                "depthwise_initializer": keras.initializers.serialize(self.depthwise_initializer),
                "depthwise_regularizer": keras.regularizers.serialize(self.depthwise_regularizer),
            }
        )
        return config


def _average_pool_same(x, d):
    """d×d average pooling with stride d over the real pixels only ('same' padding).

    Backends disagree on whether padded zeros count in a 'same' average pool
    (TensorFlow's kernel excludes them, XLA includes them), so pad explicitly
    and divide by the pooled count of real pixels.
    """
    height, width = ops.shape(x)[1], ops.shape(x)[2]
    pad_h = (-height) % d
    pad_w = (-width) % d
    paddings = [(0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)]
    ones = ops.ones_like(x[..., :1])
    total = ops.average_pool(ops.pad(x, paddings), pool_size=d, strides=d, padding="valid")
    count = ops.average_pool(ops.pad(ones, paddings), pool_size=d, strides=d, padding="valid")
    return total / count
