"""Shared plumbing of the structurally re-parameterisable depth-wise convolutions.

`ReparamLargeKernelConv` (RepLKNet) and `DilatedReparamConv` (UniRepLKNet) are one
structure with different branches: a large K×K depth-wise kernel followed by a
BatchNorm, in parallel with small depth-wise kernels (each with its dilation) each
followed by its own BatchNorm, outputs summed. In inference mode every branch is a
linear map of the input, so the whole is one K×K depth-wise convolution with bias;
`merge()` computes it and replaces the branches with it in place. The public classes
choose the branches, the initialisation and the arguments they take.
"""

import keras
import numpy as np
from keras import ops

from keras_lk.layers._validation import check_known_channels
from keras_lk.layers.initializers import TORCH_BATCH_NORM
from keras_lk.layers.normalization import norm_layer


class ReparamDepthwiseConv(keras.layers.Layer):
    """Base class: large depth-wise kernel + BN ∥ (kernel, dilation) branches + BN; merge().

    Args:
        kernel_size: odd int, K of the large kernel (and of the merged one).
        branches: ``((k, dilation), ...)``, the small kernels; each spans
            dilation·(k − 1) + 1 ≤ K taps, odd, so it fits in the large kernel's centre.
        branch_names: one name per branch: its kernel is ``{name}_kernel``, its norm
            ``{name}_bn``.
        strides: int, the stride of every convolution (dilated branches need 1).
        merged: bool, the layer is one K×K depth-wise convolution with bias (weights
            ``kernel`` and ``bias``), as after `merge()`.
        norm: ``"batch_norm"`` or ``"sync_batch_norm"``; PyTorch's epsilon and momentum.
        depthwise_initializer, depthwise_regularizer: of every depth-wise kernel.
    """

    def __init__(self, kernel_size, branches, branch_names, strides, merged, norm,
                 depthwise_initializer, depthwise_regularizer, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.strides = strides
        self.merged = bool(merged)
        self.norm = norm
        self.depthwise_initializer = keras.initializers.get(depthwise_initializer)
        self.depthwise_regularizer = keras.regularizers.get(depthwise_regularizer)
        self.branches = tuple(branches)
        self.branch_names = tuple(branch_names)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        if not self.merged:
            self.large_bn = self._norm("large_bn")
            self.branch_bns = [self._norm(f"{name}_bn") for name in self.branch_names]

    def _norm(self, name):
        return norm_layer(self.norm, name, dtype=self.dtype_policy, **TORCH_BATCH_NORM)

    def _add_depthwise(self, name, size, channels):
        return self.add_weight(name=name, shape=(size, size, channels, 1),
                               initializer=self.depthwise_initializer,
                               regularizer=self.depthwise_regularizer)

    def build(self, input_shape):
        channels = check_known_channels(type(self).__name__, input_shape)
        if self.merged:
            self._add_merged_weights(channels)
        else:
            self.large_kernel = self._add_depthwise("large_kernel", self.kernel_size, channels)
            self.branch_kernels = [
                self._add_depthwise(f"{name}_kernel", k, channels)
                for name, (k, _) in zip(self.branch_names, self.branches)
            ]
            output_shape = self.compute_output_shape(input_shape)
            for bn in (self.large_bn, *self.branch_bns):
                bn.build(output_shape)
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def _add_merged_weights(self, channels):
        # A merged layer is meant to receive merged weights; its starting values matter
        # only if it is trained from scratch, which neither paper does.
        self.kernel = self._add_depthwise("kernel", self.kernel_size, channels)
        self.bias = self.add_weight(name="bias", shape=(channels,), initializer="zeros")

    def _depthwise(self, x, kernel, dilation=1):
        """PyTorch's depth-wise convolution with padding (span − 1)/2 on every side."""
        if self.strides == 1:  # "same" pads an odd span symmetrically: the same thing
            return ops.depthwise_conv(x, kernel, padding="same", dilation_rate=dilation)
        # TensorFlow's strided "same" pads one less before than after on even sizes.
        pad = dilation * (kernel.shape[0] - 1) // 2
        x = ops.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)])
        return ops.depthwise_conv(x, kernel, strides=self.strides, padding="valid",
                                  dilation_rate=dilation)

    def call(self, inputs, training=None):
        if self.merged:
            return self._depthwise(inputs, self.kernel) + self.bias
        outputs = self.large_bn(self._depthwise(inputs, self.large_kernel), training=training)
        for (_, dilation), kernel, bn in zip(self.branches, self.branch_kernels, self.branch_bns):
            outputs = outputs + bn(self._depthwise(inputs, kernel, dilation), training=training)
        return outputs

    def compute_output_shape(self, input_shape):
        def size(n):  # floor((n + 2·(K // 2) − K) / s) + 1 = ceil(n / s) for odd K
            return None if n is None else -(-n // self.strides)

        return (input_shape[0], size(input_shape[1]), size(input_shape[2]), input_shape[3])

    # -- re-parameterisation ------------------------------------------------
    def equivalent_kernel_bias(self):
        """The K×K depth-wise kernel ``(K, K, C, 1)`` and bias ``(C,)`` (float64 NumPy)
        that compute this layer in inference mode: each BatchNorm folded into its
        kernel (γ/√(σ² + ε) per channel, bias β − μγ/√(σ² + ε)), each branch's
        dilated kernel written into the centre of a K×K one (tap (i, j) at
        K//2 − r(k − 1)/2 + r·(i, j)), all added."""
        if not self.built:
            raise ValueError(f"{type(self).__name__} must be built before it is merged.")
        if self.merged:
            return np.asarray(self.kernel, np.float64), np.asarray(self.bias, np.float64)
        kernel, bias = _fold_batch_norm(self.large_kernel, self.large_bn)
        for (k, dilation), branch_kernel, bn in zip(self.branches, self.branch_kernels,
                                                   self.branch_bns):
            folded, folded_bias = _fold_batch_norm(branch_kernel, bn)
            span = dilation * (k - 1) + 1
            start = self.kernel_size // 2 - span // 2
            kernel[start:start + span:dilation, start:start + span:dilation] += folded
            bias += folded_bias
        return kernel, bias

    def merge(self):
        """Replaces the branches and their BatchNorms by `equivalent_kernel_bias()`, in
        place: afterwards the layer holds ``kernel`` and ``bias`` only, its config says
        ``merged=True`` (a saved model reloads merged), and in inference mode it computes
        what it computed before, to float32 rounding. Training mode differs (the
        BatchNorms used batch statistics). A model compiled before the merge keeps its
        traced functions: compile it again before `predict`."""
        if self.merged:
            raise ValueError(f"{type(self).__name__} {self.name!r} is already merged.")
        kernel, bias = self.equivalent_kernel_bias()
        channels = kernel.shape[2]
        self._tracker.unlock()
        for bn in (self.large_bn, *self.branch_bns):
            self._tracker.untrack(bn)
        for variable in (self.large_kernel, *self.branch_kernels):
            self._untrack_variable(variable)
        del self.large_bn, self.branch_bns, self.large_kernel, self.branch_kernels
        # The TensorFlow backend lists the attributes that hold tracked collections; a
        # SavedModel export reads each of them.
        tracked = getattr(self, "_tracked", None)
        if tracked is not None:
            tracked[:] = [name for name in tracked
                          if name not in ("branch_bns", "branch_kernels")]
        self.merged = True
        self._add_merged_weights(channels)
        self._tracker.lock()
        self.kernel.assign(kernel.astype("float32"))
        self.bias.assign(bias.astype("float32"))

    def get_config(self):
        config = super().get_config()
        config.update({
            "kernel_size": self.kernel_size,
            "merged": self.merged,
            "norm": self.norm,
            "depthwise_initializer": keras.initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": keras.regularizers.serialize(self.depthwise_regularizer),
        })
        return config


def _fold_batch_norm(kernel, bn):
    """A bias-free depth-wise kernel followed by an inference-mode BatchNorm, as one
    kernel and bias (float64)."""
    gamma, beta, mean, variance = (np.asarray(w, np.float64) for w in
                                   (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance))
    scale = gamma / np.sqrt(variance + bn.epsilon)
    return np.asarray(kernel, np.float64) * scale[:, None], beta - mean * scale
