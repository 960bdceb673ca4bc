"""SegNeXt's spatial-attention block: MSCA inside its residual unit, Guo et al. 2022.

"SegNeXt: Rethinking Convolutional Attention Design for Semantic Segmentation",
NeurIPS 2022, https://arxiv.org/abs/2209.08575; official code
https://github.com/Visual-Attention-Network/SegNeXt (`mmseg/models/backbones/mscan.py`,
the first half of `Block`, with `SpatialAttention`).
"""

import keras

from keras_lk.layers._validation import check_known_channels
from keras_lk.layers.activations import erf_gelu
from keras_lk.layers.initializers import TORCH_BATCH_NORM
from keras_lk.layers.layer_scale import LayerScale
from keras_lk.layers.strip_conv_attention import StripConvAttention, _fan_out_normal


@keras.saving.register_keras_serializable(package="keras_lk")
class MSCABlock(keras.layers.Layer):
    """``x + γ ⊙ SA(BN(x))``, ``SA(u) = u + 1×1(MSCA(GELU(1×1(u))))``.

    MSCA (`StripConvAttention`) is how SegNeXt sees far; in MSCAN it never stands alone
    but sits in this unit, the attention half of every block: BatchNorm, a 1×1
    projection, GELU, MSCA, a 1×1 projection and a shortcut around them (SegNeXt's
    ``SpatialAttention``), scaled per channel by a LayerScale γ started at 1e-2 and added
    to the input, so the unit starts near the identity (the official ``Block`` without
    its MLP half). The MLP half mixes channels only; a head's 1×1 classifier does that.

    As the official code: every convolution has a bias; kernels start from N(0, 2 /
    fan_out) and biases from zero (``MSCAN.init_weights``); GELU is the exact (erf)
    one; BatchNorm has PyTorch's epsilon 1e-5 and momentum 0.1.

    Args:
        kernel_size: odd int >= 1, MSCA's local depth-wise kernel (5).
        strip_kernel_sizes: odd ints >= 1, MSCA's strip branches ((7, 11, 21)).
        layer_scale_init: γ's starting value (1e-2, the official ``layer_scale_init_value``).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor ``(batch, height, width, channels)``.
        training: whether the BatchNorm uses batch statistics.

    Returns:
        Tensor of the same shape as `inputs`.

    Example:
    >>> block = keras_lk.layers.MSCABlock(strip_kernel_sizes=(5, 7, 15))
    >>> block(np.zeros((1, 16, 16, 32), "float32")).shape
    (1, 16, 16, 32)

    Reference:
        Guo et al., "SegNeXt", NeurIPS 2022, Sec. 3.1, Fig. 2(a); official
        ``mmseg/models/backbones/mscan.py``, ``Block`` and ``SpatialAttention``.
    """

    def __init__(self, kernel_size=5, strip_kernel_sizes=(7, 11, 21), layer_scale_init=1e-2,
                 **kwargs):
        super().__init__(**kwargs)
        dtype = self.dtype_policy
        self.norm = keras.layers.BatchNormalization(**TORCH_BATCH_NORM, dtype=dtype,
                                                    name="norm")
        self.attention = StripConvAttention(kernel_size, strip_kernel_sizes, dtype=dtype,
                                            name="msca")
        self.scale = LayerScale(layer_scale_init, dtype=dtype, name="scale")
        self.kernel_size = self.attention.kernel_size
        self.strip_kernel_sizes = self.attention.strip_kernel_sizes
        self.layer_scale_init = self.scale.init_value

    def build(self, input_shape):
        channels = check_known_channels(type(self).__name__, input_shape)
        self.proj1, self.proj2 = (
            keras.layers.Conv2D(channels, 1, kernel_initializer=_fan_out_normal(),
                                dtype=self.dtype_policy, name=name)
            for name in ("proj1", "proj2"))
        for layer in (self.norm, self.proj1, self.attention, self.proj2, self.scale):
            layer.build(input_shape)
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs, training=None):
        u = self.norm(inputs, training=training)
        a = self.proj2(self.attention(erf_gelu(self.proj1(u))))
        return inputs + self.scale(a + u)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"kernel_size": self.kernel_size,
                       "strip_kernel_sizes": list(self.strip_kernel_sizes),
                       "layer_scale_init": self.layer_scale_init})
        return config
