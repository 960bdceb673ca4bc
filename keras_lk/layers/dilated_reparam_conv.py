"""UniRepLKNet's Dilated Reparam Block, Ding et al. 2024.

"UniRepLKNet: A Universal Perception Large-Kernel ConvNet for Audio, Video, Point Cloud,
Time-Series and Image Recognition", CVPR 2024, https://arxiv.org/abs/2311.15599;
official code https://github.com/AILab-CVC/UniRepLKNet (`unireplknet.py`,
`DilatedReparamBlock`).
"""

import keras

from keras_lk.layers._reparam import ReparamDepthwiseConv
from keras_lk.layers._validation import check_choice, check_odd_kernel_size, check_positive_int
from keras_lk.layers.normalization import NORMS

# The official DilatedReparamBlock's table: large kernel size -> its branches
# ((small kernel size, dilation), ...); "we did not tune them carefully" (its comment).
DILATED_BRANCHES = {
    5: ((3, 1), (3, 2)),
    7: ((5, 1), (3, 2), (3, 3)),
    9: ((5, 1), (5, 2), (3, 3), (3, 4)),
    11: ((5, 1), (5, 2), (3, 3), (3, 4), (3, 5)),
    13: ((5, 1), (7, 2), (3, 3), (3, 4), (3, 5)),
    15: ((5, 1), (7, 2), (3, 3), (3, 5), (3, 7)),
    17: ((5, 1), (9, 2), (3, 4), (3, 5), (3, 7)),
}


@keras.saving.register_keras_serializable(package="keras_lk")
class DilatedReparamConv(ReparamDepthwiseConv):
    """Large depth-wise kernel + BN, plus dilated small depth-wise kernels + BN; mergeable.

    Training: ``BN(DW_K(x)) + Σ_i BN_i(DW_{k_i, r_i}(x))``: a K×K depth-wise convolution
    and, over the same input, small k_i×k_i depth-wise convolutions with dilation r_i
    (all without bias, stride 1, PyTorch's padding r(k − 1)/2, so every window is centred
    on the output pixel), each followed by its own BatchNorm, summed. The dilated
    branches see sparse, wide patterns at little cost (UniRepLKNet Sec. 3, Fig. 2).
    Inference: `merge()` folds each BatchNorm into its kernel, turns each dilated k×k
    kernel into the equivalent (r(k − 1) + 1)² kernel with zeros between the taps, and
    adds it to the centre of the large one: one K×K depth-wise convolution with bias,
    equal to the branches to float32 rounding (`equivalent_kernel_bias`). The official
    code makes the sparse kernel with a transposed convolution of stride r by a 1×1
    identity; this layer writes the taps to every r-th position directly (the same
    kernel, without a convolution).

    The branches default to the official table `DILATED_BRANCHES` (K = 13, UniRepLKNet's
    choice: sizes (5, 7, 3, 3, 3), dilations (1, 2, 3, 4, 5)); `kernel_sizes` and
    `dilation_rates` set others.

    Training dynamics follow the official code: UniRepLKNet initialises every
    convolution, these depth-wise ones included, with ``trunc_normal_(std=0.02)``
    (timm's, truncated at ±2 in absolute value, i.e. at ±100σ: a plain N(0, 0.02²),
    which is what `keras.initializers.RandomNormal(stddev=0.02)` draws; Keras's
    `TruncatedNormal` would cut at ±2σ and shrink the std by 12 %). Every BatchNorm has
    PyTorch's epsilon 1e-5 and momentum 0.1 (Keras 0.9), γ = 1, β = 0.

    Deviations from the official code: kernel sizes outside the official table are
    accepted when `kernel_sizes` and `dilation_rates` are given (the official raises).
    PyTorch weights load as ``large_kernel = lk_origin.weight.permute(2, 3, 0, 1)``
    (C×1×K×K → K×K×C×1), ``dilated_k{k}_r{r}_kernel`` from ``dil_conv_k{k}_{r}.weight``
    likewise, ``large_bn`` / ``dilated_k{k}_r{r}_bn`` from ``origin_bn`` /
    ``dil_bn_k{k}_{r}`` (gamma, beta, moving mean, moving variance = ``weight``,
    ``bias``, ``running_mean``, ``running_var``); merged (``deploy=True``), ``kernel`` /
    ``bias`` from ``lk_origin``.

    Args:
        kernel_size: odd int, K of the large kernel; without `kernel_sizes`, a key of
            `DILATED_BRANCHES` (5 to 17; 13 in UniRepLKNet).
        kernel_sizes: odd ints, the branches' kernel sizes, or None for the table's.
        dilation_rates: ints >= 1, one per branch, or None for the table's. Each branch
            spans r(k − 1) + 1 <= K pixels; no (k, r) pair twice.
        merged: bool, the layer is the merged convolution (the official ``deploy=True``):
            weights ``kernel`` and ``bias`` only.
        norm: ``"batch_norm"`` or ``"sync_batch_norm"``.
        depthwise_initializer, depthwise_regularizer: of every kernel; None:
            ``RandomNormal(stddev=0.02)``, the official initialisation.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor ``(batch, height, width, channels)``.
        training: bool, for the BatchNorms.

    Returns:
        Tensor of the same shape as `inputs`.

    Example:
    >>> layer = keras_lk.layers.DilatedReparamConv(kernel_size=13)
    >>> x = np.random.rand(1, 24, 24, 16).astype("float32")
    >>> before = layer(x, training=False)
    >>> layer.merge()                     # one 13×13 depth-wise convolution with bias
    >>> after = layer(x)                  # equal to `before` to float32 rounding

    Reference:
        Ding et al., "UniRepLKNet: A Universal Perception Large-Kernel ConvNet for
        Audio, Video, Point Cloud, Time-Series and Image Recognition", CVPR 2024,
        Sec. 3 and Fig. 2; official ``unireplknet.py``, ``DilatedReparamBlock``
        (``merge_dilated_branches``, ``merge_dilated_into_large_kernel``).
    """

    def __init__(
        self,
        kernel_size=13,
        kernel_sizes=None,
        dilation_rates=None,
        merged=False,
        norm="batch_norm",
        depthwise_initializer=None,
        depthwise_regularizer=None,
        **kwargs,
    ):
        branches = _branches(kernel_size, kernel_sizes, dilation_rates)
        check_choice("norm", norm, NORMS)
        super().__init__(
            kernel_size=kernel_size,
            branches=branches,
            branch_names=[f"dilated_k{k}_r{r}" for k, r in branches],
            strides=1,
            merged=merged,
            norm=norm,
            depthwise_initializer=(keras.initializers.RandomNormal(stddev=0.02)
                                   if depthwise_initializer is None else depthwise_initializer),
            depthwise_regularizer=depthwise_regularizer,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        config.update({
            "kernel_sizes": [k for k, _ in self.branches],
            "dilation_rates": [r for _, r in self.branches],
        })
        return config


def _branches(kernel_size, kernel_sizes, dilation_rates):
    """((k, r), ...) of the arguments: the official table's, or the given ones, checked."""
    check_odd_kernel_size("kernel_size", kernel_size)
    if kernel_sizes is None and dilation_rates is None:
        if kernel_size not in DILATED_BRANCHES:
            raise ValueError(
                f"`kernel_size` must be one of {tuple(DILATED_BRANCHES)} (UniRepLKNet's "
                "table) unless `kernel_sizes` and `dilation_rates` are given, received "
                f"{kernel_size!r}."
            )
        return DILATED_BRANCHES[kernel_size]
    if kernel_sizes is None or dilation_rates is None:
        raise ValueError(
            "`kernel_sizes` and `dilation_rates` go together (or both None for the "
            f"official table), received kernel_sizes={kernel_sizes!r}, "
            f"dilation_rates={dilation_rates!r}."
        )
    if (not isinstance(kernel_sizes, (list, tuple)) or not isinstance(dilation_rates, (list, tuple))
            or len(kernel_sizes) != len(dilation_rates)):
        raise ValueError(
            "`kernel_sizes` and `dilation_rates` must be lists of the same length, received "
            f"kernel_sizes={kernel_sizes!r}, dilation_rates={dilation_rates!r}."
        )
    for k, r in zip(kernel_sizes, dilation_rates):
        check_odd_kernel_size("kernel_sizes", k)
        check_positive_int("dilation_rates", r)
        if r * (k - 1) + 1 > kernel_size:
            raise ValueError(
                f"A branch of kernel size {k} and dilation {r} spans {r * (k - 1) + 1} "
                f"pixels, more than `kernel_size` ({kernel_size}): it would not merge."
            )
    branches = tuple(zip(kernel_sizes, dilation_rates))
    if len(set(branches)) != len(branches):
        raise ValueError(f"Each (kernel size, dilation) branch must be unique, received "
                         f"{list(branches)}.")
    return branches
