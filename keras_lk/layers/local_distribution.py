"""Local Distribution (LD) module, Li et al. 2019 (GALD), Eq. (1)-(2).

"Global Aggregation then Local Distribution in Fully Convolutional Networks",
BMVC 2019; official code https://github.com/lxtGH/GALD-Net (`LocalAttenModule`).
"""

import keras
from keras import ops

from keras_lk.layers._resize import resize_bilinear, resize_bilinear_align_corners
from keras_lk.layers._validation import (
    check_choice,
    check_known_channels,
    check_odd_kernel_size,
)
from keras_lk.layers.initializers import TORCH_BATCH_NORM, TorchConvUniform
from keras_lk.layers.normalization import NORMS, norm_layer

DOWNSAMPLERS = ("depthwise", "bilinear", "average")
VARIANTS = ("paper", "official")


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

    Two variants:

    - `variant="paper"` (default, any downsampler): "same"-padded depthwise
      convolutions without bias, half-pixel bilinear upsampling
      (`tf.image.resize`). `batch_norm=True` and
      `relu=True` add a batch norm and a ReLU after each convolution, the
      *structure* of the official code but not its numbers (padding, bias and
      upsampling differ, so official weights give other outputs).
    - `variant="official"` (with `batch_norm=True, relu=True`, required): the
      official `LocalAttenModule` exactly: each stage is a depthwise k×k
      stride-2 convolution *with bias* and *no padding* (a 33×47 map becomes
      16×23, 7×11, 3×5 for d = 8, k = 3), BatchNorm and ReLU; the mask is upsampled bilinearly with
      `align_corners=True`; F' = M ⊙ F + F as in Eq. (2). Inputs must be at
      least 15×15 for d = 8, k = 3. PyTorch weights load as
      `depthwise{i}_kernel = weight.permute(2, 3, 0, 1)` (C×1×k×k → k×k×C×1),
      `depthwise{i}_bias = bias`, and `bn{i}` gamma / beta / moving mean /
      moving variance = weight / bias / running_mean / running_var.

    In the official code the last ReLU precedes the sigmoid, so its mask lives
    in [0.5, 1) instead of the paper's [0, 1].

    Training dynamics follow the official (PyTorch) code in both variants, since the
    paper is silent on them: depth-wise kernels (and the official variant's biases)
    start from PyTorch's default U(±1/√(k·k)) (`TorchConvUniform`: Keras's own
    initializers would count the fan-in as k·k·C and start the mask's input C times
    smaller in variance, so the mask would sit at 0.5 everywhere), and every
    BatchNorm has PyTorch's epsilon 1e-5 and momentum 0.1 (Keras 0.9).

    Args:
        downsample_rate: int power of two >= 2, the rate d (8 in GALD Table 1e).
        downsample: one of `"depthwise"`, `"bilinear"`, `"average"`.
        kernel_size: odd int >= 1, the depthwise kernel size (3 in the official
            code).
        batch_norm: bool, batch normalisation after each depthwise conv
            (official code; required by `variant="official"`).
        relu: bool, ReLU after each depthwise conv (official code; makes
            M >= 0.5; required by `variant="official"`).
        norm: ``"batch_norm"`` or ``"sync_batch_norm"``, the norm of `batch_norm`.
        depthwise_initializer, depthwise_regularizer: for the depthwise kernels;
            None: PyTorch's default, `TorchConvUniform(depthwise=True)` (the official
            variant's biases start from PyTorch's default too).
        variant: ``"paper"`` or ``"official"``, see above; `"official"` needs
            `downsample="depthwise"`.
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
    >>> official = keras_lk.layers.LocalDistribution(
    ...     variant="official", batch_norm=True, relu=True)
    >>> official(np.zeros((1, 33, 47, 64), "float32")).shape
    (1, 33, 47, 64)

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
        depthwise_initializer=None,
        depthwise_regularizer=None,
        variant="paper",
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
        check_choice("variant", variant, VARIANTS)
        if downsample != "depthwise" and (batch_norm or relu):
            raise ValueError(
                "`batch_norm` and `relu` apply to the depthwise downsampler only, received "
                f"downsample={downsample!r} with batch_norm={batch_norm!r}, relu={relu!r}."
            )
        if variant == "official" and downsample != "depthwise":
            raise ValueError(
                "`variant='official'` is the official code's depthwise downsampler, received "
                f"downsample={downsample!r}."
            )
        if variant == "official" and not (batch_norm and relu):
            raise ValueError(
                "`variant='official'` is the official LocalAttenModule, whose stages are "
                "conv-BN-ReLU: pass batch_norm=True and relu=True, received "
                f"batch_norm={batch_norm!r}, relu={relu!r}."
            )
        self.downsample_rate = downsample_rate
        self.downsample = downsample
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.relu = relu
        self.norm = norm
        self.depthwise_initializer = (
            TorchConvUniform(depthwise=True) if depthwise_initializer is None
            else keras.initializers.get(depthwise_initializer))
        self.depthwise_regularizer = keras.regularizers.get(depthwise_regularizer)
        self.variant = variant
        self.input_spec = keras.layers.InputSpec(ndim=4)
        self.num_stages = downsample_rate.bit_length() - 1 if downsample == "depthwise" else 0
        self.norms = [
            norm_layer(norm, f"bn{i + 1}", dtype=self.dtype_policy, **TORCH_BATCH_NORM)
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
        # The official convolutions have a bias (PyTorch's Conv2d default, and its init).
        self.depthwise_biases = [
            self.add_weight(name=f"depthwise{i + 1}_bias", shape=(channels,),
                            initializer=TorchConvUniform(fan_in=self.kernel_size ** 2))
            for i in range(self.num_stages if self.variant == "official" else 0)
        ]
        if self.variant == "official":
            self._check_official_size(input_shape)
        shape = list(input_shape)
        for norm in self.norms:
            shape[1] = self._stage_size(shape[1])
            shape[2] = self._stage_size(shape[2])
            norm.build(tuple(shape))
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def _stage_size(self, size):
        """Height or width after one stride-2 depthwise stage (None if unknown)."""
        if size is None:
            return None
        if self.variant == "official":  # no padding: floor((n - k) / 2) + 1
            return (size - self.kernel_size) // 2 + 1
        return -(-size // 2)  # "same": ceil(n / 2)

    def _check_official_size(self, input_shape):
        minimum = 1
        for _ in range(self.num_stages):
            minimum = 2 * (minimum - 1) + self.kernel_size
        for size in input_shape[1:3]:
            if size is not None and size < minimum:
                raise ValueError(
                    f"LocalDistribution(variant='official') needs height and width >= "
                    f"{minimum} for {self.num_stages} unpadded stride-2 {self.kernel_size}x"
                    f"{self.kernel_size} convolutions, received input shape "
                    f"{tuple(input_shape)}."
                )

    def _downsample(self, x, training):
        d = self.downsample_rate
        if self.downsample == "average":
            return _average_pool_same(x, d)
        if self.downsample == "bilinear":
            height, width = ops.shape(x)[1], ops.shape(x)[2]
            size = ((height + d - 1) // d, (width + d - 1) // d)
            return resize_bilinear(x, *size)
        official = self.variant == "official"
        for i, kernel in enumerate(self.depthwise_kernels):
            x = ops.depthwise_conv(x, kernel, strides=2, padding="valid" if official else "same")
            if official:
                x = x + self.depthwise_biases[i]
            if self.batch_norm:
                x = self.norms[i](x, training=training)
            if self.relu:
                x = ops.relu(x)
        return x

    def call(self, inputs, training=None):
        return self.mask(inputs, training=training) * inputs + inputs

    def mask(self, inputs, training=False):
        """The mask M of Eq. (1)-(2) for `inputs` (the GA features F): sigmoid of the
        upsampled depthwise-downsampled F, the same shape as F, in (0, 1); the layer
        returns M ⊙ F + F. For looking at where the layer opens and closes (call it on
        the built layer, e.g. on a model's intermediate output)."""
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        coarse = self._downsample(inputs, training)
        if self.variant == "official":
            mask_logits = resize_bilinear_align_corners(coarse, height, width)
        else:
            mask_logits = resize_bilinear(coarse, height, width)
        # The sigmoid runs in the compute dtype: its output is bounded, no overflow.
        return ops.sigmoid(mask_logits)

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
                "variant": self.variant,
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
