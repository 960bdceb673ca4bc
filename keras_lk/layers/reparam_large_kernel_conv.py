"""RepLKNet's re-parameterised large depth-wise kernel, Ding et al. 2022.

"Scaling Up Your Kernels to 31x31: Revisiting Large Kernel Design in CNNs", CVPR 2022,
https://arxiv.org/abs/2203.06717; official code https://github.com/DingXiaoH/RepLKNet-pytorch
(`replknet.py`, `ReparamLargeKernelConv`).
"""

import keras

from keras_lk.layers._reparam import ReparamDepthwiseConv
from keras_lk.layers._validation import check_choice, check_odd_kernel_size, check_positive_int
from keras_lk.layers.initializers import TorchConvUniform
from keras_lk.layers.normalization import NORMS


@keras.saving.register_keras_serializable(package="keras_lk")
class ReparamLargeKernelConv(ReparamDepthwiseConv):
    """Large depth-wise kernel + BN, plus a small depth-wise kernel + BN; mergeable.

    Training: ``BN(DW_K(x)) + BN'(DW_k(x))``, a K×K (31 in RepLKNet-31B) and a k×k (5)
    depth-wise convolution without bias, each followed by its own BatchNorm, over the
    same input, with the same stride and PyTorch's padding K//2 and k//2, so both
    windows share their centre. The small kernel helps the large one train (RepLKNet
    Sec. 3, guideline 3). Inference: `merge()` folds each BatchNorm into its kernel and
    adds the small kernel to the centre of the large one: one K×K depth-wise
    convolution with bias, equal to the two branches to float32 rounding
    (`equivalent_kernel_bias`).

    Training dynamics follow the official code, which relies on PyTorch's defaults:
    kernels start from U(±1/√(K·K)) (`TorchConvUniform(depthwise=True)`: the depth-wise
    fan-in is K·K), every BatchNorm has epsilon 1e-5 and momentum 0.1 (Keras 0.9), γ = 1
    and β = 0. RepLKNet builds its BatchNorms as SyncBatchNorm by default: pass
    ``norm="sync_batch_norm"`` under a distribution strategy.

    Deviations from the official code: depth-wise only (``groups = in = out channels``,
    the only use in RepLKNet; the official class also takes dense and grouped
    convolutions), and odd kernel sizes only (with an even one the official padding
    K//2 changes the output size). PyTorch weights load as
    ``large_kernel = lkb_origin.conv.weight.permute(2, 3, 0, 1)`` (C×1×K×K → K×K×C×1),
    ``small_kernel`` from ``small_conv.conv.weight`` likewise, ``large_bn`` / ``small_bn``
    gamma, beta, moving mean, moving variance = ``weight``, ``bias``, ``running_mean``,
    ``running_var``; merged, ``kernel`` / ``bias`` from ``lkb_reparam``.

    Args:
        kernel_size: odd int >= 1, K of the large kernel (31, 29, 27 or 13 in RepLKNet).
        small_kernel_size: odd int <= `kernel_size`, or None for no small branch
            (RepLKNet-XL).
        strides: int >= 1, of both convolutions (1 in RepLKNet's blocks).
        merged: bool, the layer is the merged convolution (the official
            ``small_kernel_merged=True``): weights ``kernel`` and ``bias`` only.
        norm: ``"batch_norm"`` or ``"sync_batch_norm"``.
        depthwise_initializer, depthwise_regularizer: of both kernels; None:
            `TorchConvUniform(depthwise=True)`, PyTorch's default.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor ``(batch, height, width, channels)``.
        training: bool, for the BatchNorms.

    Returns:
        Tensor ``(batch, ceil(height / strides), ceil(width / strides), channels)``.

    Example:
    >>> layer = keras_lk.layers.ReparamLargeKernelConv(kernel_size=31, small_kernel_size=5)
    >>> x = np.random.rand(1, 32, 32, 16).astype("float32")
    >>> before = layer(x, training=False)
    >>> layer.merge()                     # one 31×31 depth-wise convolution with bias
    >>> after = layer(x)                  # equal to `before` to float32 rounding

    Reference:
        Ding et al., "Scaling Up Your Kernels to 31x31: Revisiting Large Kernel Design
        in CNNs", CVPR 2022, Sec. 3 and Fig. 2; official ``replknet.py``,
        ``ReparamLargeKernelConv`` (``get_equivalent_kernel_bias``, ``merge_kernel``).
    """

    def __init__(
        self,
        kernel_size=31,
        small_kernel_size=5,
        strides=1,
        merged=False,
        norm="batch_norm",
        depthwise_initializer=None,
        depthwise_regularizer=None,
        **kwargs,
    ):
        check_odd_kernel_size("kernel_size", kernel_size)
        if small_kernel_size is not None:
            check_odd_kernel_size("small_kernel_size", small_kernel_size)
            if small_kernel_size > kernel_size:
                raise ValueError(
                    f"`small_kernel_size` must be <= `kernel_size` ({kernel_size}), so it "
                    f"merges into the large kernel, received {small_kernel_size}."
                )
        check_positive_int("strides", strides)
        check_choice("norm", norm, NORMS)
        super().__init__(
            kernel_size=kernel_size,
            branches=() if small_kernel_size is None else ((small_kernel_size, 1),),
            branch_names=() if small_kernel_size is None else ("small",),
            strides=strides,
            merged=merged,
            norm=norm,
            depthwise_initializer=(TorchConvUniform(depthwise=True)
                                   if depthwise_initializer is None else depthwise_initializer),
            depthwise_regularizer=depthwise_regularizer,
            **kwargs,
        )
        self.small_kernel_size = small_kernel_size

    def get_config(self):
        config = super().get_config()
        config.update({"small_kernel_size": self.small_kernel_size, "strides": self.strides})
        return config
