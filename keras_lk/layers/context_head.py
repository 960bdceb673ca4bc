"""A large depth-wise context block followed by a 1×1 classifier: the heads of the
large-kernel line after GCN, in the place GCN's heads take.

GCN's head (Fig. 2B) sees a k×k region of its stage with separable k×1 / 1×k kernels.
The models after it see a large region with depth-wise kernels instead and leave the
channel mixing to a 1×1 convolution: SegNeXt's strip-convolution attention (MSCA, alone
or in its residual unit),
RepLKNet's re-parameterised large kernel, UniRepLKNet's dilated re-parameterisation.
`ContextHead` is one of those blocks on the stage's channels followed by a 1×1
convolution to the classes, so that GCNSeg's ablation (`keras_lk.models.GCNSeg`,
``head=...``) compares them with GCN's head and the 1×1 baseline on one network.
"""

import keras

from keras_lk.layers._validation import check_choice, check_positive_int
from keras_lk.layers.dilated_reparam_conv import DilatedReparamConv
from keras_lk.layers.msca_block import MSCABlock
from keras_lk.layers.reparam_large_kernel_conv import ReparamLargeKernelConv
from keras_lk.layers.strip_conv_attention import StripConvAttention

CONTEXTS = ("msca", "msca_block", "replk", "dilated_reparam")
# RepLKNet's parallel small kernel (its 31×31 stages train beside a 5×5).
REPLK_SMALL_KERNEL = 5


def msca_strips(kernel_size):
    """SegNeXt's strips 7, 11 and 21 scaled so that the longest is `kernel_size`: each
    the odd size nearest to s · k / 21, at least 3."""
    return tuple(max(3, 2 * round((s * kernel_size / 21 - 1) / 2) + 1) for s in (7, 11, 21))


def context_block(context, kernel_size, merged, name):
    """The depth-wise context block `context` of kernel size `kernel_size`; `merged`
    builds a re-parameterised one in its merged form."""
    if context in ("msca", "msca_block"):
        if merged:
            raise ValueError("`merged=True` applies to the re-parameterised contexts "
                             f"('replk', 'dilated_reparam'), received context={context!r}.")
        block = StripConvAttention if context == "msca" else MSCABlock
        return block(strip_kernel_sizes=msca_strips(kernel_size), name=name)
    if context == "replk":
        small = REPLK_SMALL_KERNEL if kernel_size > REPLK_SMALL_KERNEL else None
        return ReparamLargeKernelConv(kernel_size, small_kernel_size=small, merged=merged,
                                      name=name)
    return DilatedReparamConv(kernel_size, merged=merged, name=name)


@keras.saving.register_keras_serializable(package="keras_lk")
class ContextHead(keras.layers.Layer):
    """A depth-wise large-kernel context block on the input's channels, then a 1×1
    convolution (with bias) to `filters`.

    Contexts (`kernel_size` k):
    - ``"msca"``: `StripConvAttention`, its 5×5 depth-wise kernel and strips 7, 11, 21
      scaled so that the longest is k (SegNeXt's own sizes at k = 21), alone;
    - ``"msca_block"``: `MSCABlock`, the same MSCA inside SegNeXt's residual unit
      (BatchNorm, 1×1, GELU, MSCA, 1×1, shortcut, LayerScale, added to the input);
    - ``"replk"``: `ReparamLargeKernelConv`, a k×k depth-wise kernel beside a 5×5 one,
      each with BatchNorm (RepLKNet; no small kernel for k ≤ 5);
    - ``"dilated_reparam"``: `DilatedReparamConv`, a k×k depth-wise kernel beside
      UniRepLKNet's dilated small kernels for k (`DILATED_BRANCHES`: k in 5, 7, ..., 17).

    The re-parameterised contexts merge into one k×k depth-wise convolution with bias
    (`merge()`), as `keras_lk.export` does before conversion.

    Args:
        filters: int ≥ 1, the output channels (the classes).
        context: one of `CONTEXTS`.
        kernel_size: odd int, k above.
        merged: a re-parameterised context in its merged form (as after `merge()`; a
            saved merged head reloads so).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`.
        training: whether the BatchNorms of a re-parameterised context use batch
            statistics.

    Returns:
        Tensor `(batch, height, width, filters)`.

    Example:
    >>> head = keras_lk.layers.ContextHead(21, context="replk", kernel_size=15)
    >>> head(np.zeros((1, 16, 16, 64), "float32")).shape
    (1, 16, 16, 21)

    Reference:
        Guo et al., "SegNeXt", NeurIPS 2022; Ding et al., "Scaling Up Your Kernels to
        31x31" (RepLKNet), CVPR 2022; Ding et al., "UniRepLKNet", CVPR 2024.
    """

    def __init__(self, filters, context="msca", kernel_size=21, merged=False, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("filters", filters)
        check_choice("context", context, CONTEXTS)
        self.filters = filters
        self.context = context
        self.kernel_size = kernel_size
        self.block = context_block(context, kernel_size, bool(merged), "context")
        self.classifier = keras.layers.Conv2D(filters, 1, name="classifier")

    def build(self, input_shape):
        self.block.build(input_shape)
        self.classifier.build(self.block.compute_output_shape(input_shape))

    def call(self, inputs, training=None):
        return self.classifier(self.block(inputs, training=training))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.filters)

    @property
    def merged(self):
        return getattr(self.block, "merged", False)

    def merge(self):
        """Merges a re-parameterised context in place (its `merge()`)."""
        if not hasattr(self.block, "merge"):
            raise ValueError(f"a {self.context!r} context has nothing to merge.")
        self.block.merge()

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "context": self.context,
                       "kernel_size": self.kernel_size, "merged": self.merged})
        return config
