"""Speed rewrites as Keras layers: layers swapped, on the same weights, for ones that
compute the same function faster once exported.

Each rewrite's rule, and where it was measured (the figures: benchmarks/README.md):

- ``"global_conv"``: `GlobalConv` as its four plain convolutions, no Transpose nodes
  (onnxruntime, LiteRT, SavedModel; AVX-512 and AVX2 CPUs).
- ``"tap_groups"``: a GlobalConv 1-D convolution whose outputs fill less than
  `FILLED_LANES` of the runtime's output blocks (`OUTPUT_LANES`) as fewer taps to more
  outputs (`tap_groups`); faster on AVX-512 (16-lane blocks), neutral on AVX2.
- ``"deconvolution"``: a ×2 deconvolution as a 3×3 convolution to four phases and a
  depth-to-space (`phase_kernel`; all three runtimes, AVX-512 and AVX2).
- ``"dilated_convolution"``: a dilated convolution as one dilated op at any input size
  (onnxruntime only, AVX-512).
"""

from __future__ import annotations

import math

import keras

from keras_lk.layers import GlobalConv

# The rewrites of this module, in the order `REWRITES` lists them.
LAYER_REWRITES = ("global_conv", "tap_groups", "deconvolution", "dilated_convolution")
# Layer rewrites measured faster in onnxruntime only: `export_model` skips them elsewhere.
ONNX_ONLY_REWRITES = ("dilated_convolution",)
# Output channels per block of onnxruntime's NCHWc convolutions on AVX-512 (8 on AVX2):
# a 21-class convolution fills 21 of 32 lanes there.
OUTPUT_LANES = 16
# "tap_groups" splits a 1-D convolution whose outputs fill less than this share of their
# lanes, into at most this many groups of taps.
FILLED_LANES, MAX_TAP_GROUPS = 0.85, 5


class SameWeightsTwin(keras.layers.Layer):
    """A layer computing what `source` computes, on `source`'s own weights (shared, not
    copied), by another graph; a subclass's ``call`` says how."""

    def __init__(self, source, **kwargs):
        super().__init__(name=source.name, dtype=source.dtype_policy, **kwargs)
        self.source = source

    def compute_output_shape(self, input_shape):
        return self.source.compute_output_shape(input_shape)


def _filled_lanes(outputs, lanes):
    """The share of their output lanes (blocks of `lanes`) that `outputs` channels fill."""
    return outputs / (lanes * math.ceil(outputs / lanes))


def tap_groups(outputs, taps, lanes=OUTPUT_LANES):
    """Into how many groups of taps "tap_groups" splits a 1-D convolution of `taps` taps
    to `outputs` channels, on a runtime that computes output channels in blocks of
    `lanes`: 1 (it stays) unless its outputs fill less than `FILLED_LANES` of their
    lanes; then the fewest groups (at most `MAX_TAP_GROUPS`, of ≥ 2 taps each) whose
    outputs fill at least that, if any. GCNSeg's GlobalConv (k = 15, 21 classes) at 16
    lanes: 3 groups of 5 taps, 63 of 64 lanes filled instead of 21 of 32."""
    if _filled_lanes(outputs, lanes) >= FILLED_LANES:
        return 1
    for groups in range(2, MAX_TAP_GROUPS + 1):
        if (taps % groups == 0 and taps // groups >= 2
                and _filled_lanes(groups * outputs, lanes) >= FILLED_LANES):
            return groups
    return 1


def tap_grouped_convolution(inputs, kernel, groups):
    """The "same", stride-1 convolution of `inputs` with the k×1 or 1×k `kernel`
    ``(kh, kw, C_in, C)``, as one convolution of k/g taps to g·C channels (channel
    j·C + c: taps j·k/g … (j + 1)·k/g − 1 of output c) on the input padded as the k-tap
    convolution pads it, and a sum of the g groups, group j sliced from offset j·k/g.
    The same multiply-adds, plus (g − 1)·k/g rows, in another order."""
    import tensorflow as tf

    axis = 0 if kernel.shape[0] > 1 else 1
    taps, outputs = kernel.shape[axis], kernel.shape[-1]
    size, half = taps // groups, (taps - 1) // 2
    grouped = tf.concat(tf.split(kernel, groups, axis=axis), axis=-1)
    pads = [[0, 0], [0, 0], [0, 0], [0, 0]]
    pads[1 + axis] = [half, half]
    partial = tf.nn.conv2d(tf.pad(inputs, pads), grouped, 1, "VALID")
    terms = []
    for group in range(groups):
        # Output c at pixel i is the sum over j of channel j·C + c at pixel i + j·size.
        window = [slice(None)] * 4
        window[1 + axis] = slice(group * size, (group + 1 - groups) * size or None)
        window[3] = slice(group * outputs, (group + 1) * outputs)
        terms.append(partial[tuple(window)])
    return tf.add_n(terms)


class GlobalConvAsConvolutions(SameWeightsTwin):
    """`GlobalConv` computed by its ``"conv"`` formulation (`GlobalConv.call_conv`, four
    plain convolutions): its ``"transpose"`` and ``"matmul"`` formulations leave
    Transpose nodes in an exported graph. With `group_taps`, each convolution whose
    outputs leave lanes idle is a `tap_grouped_convolution` (`tap_groups`)."""

    def __init__(self, source, group_taps=False, **kwargs):
        super().__init__(source, **kwargs)
        self.group_taps = group_taps

    def call(self, inputs):
        source = self.source
        groups = tap_groups(source.filters, source.kernel_size) if self.group_taps else 1
        if groups == 1:
            return source.call_conv(inputs)
        return source.call_conv(
            inputs, lambda x, kernel: tap_grouped_convolution(x, kernel, groups))


# Kernel taps of a ×2 deconvolution (kernel 4, 'same') read by each output phase from the
# input pixels at offsets −1, 0, +1; tap 4 is a zero. Output 2m reads x[m−1]·w[3] +
# x[m]·w[1]; output 2m + 1 reads x[m]·w[2] + x[m+1]·w[0].
_PHASE_TAPS = ((3, 1, 4), (4, 2, 0))


def phase_kernel(deconv_kernel):
    """The 3×3 kernel ``(3, 3, C_in, 4·C_out)`` whose convolution followed by
    ``depth_to_space(2)`` equals ``Conv2DTranspose(C_out, 4, strides=2, padding="same")``
    with `deconv_kernel` ``(4, 4, C_out, C_in)``; channel ``(2a + b)·C_out + c`` holds
    output phase (row a, column b) of class c."""
    from keras import ops

    _, _, out_channels, in_channels = deconv_kernel.shape
    padded = ops.pad(deconv_kernel, [(0, 1), (0, 1), (0, 0), (0, 0)])  # index 4: zeros
    taps = ops.convert_to_tensor(_PHASE_TAPS, "int32")  # (phase, offset)
    rows = ops.take(padded, ops.reshape(taps, (-1,)), axis=0)  # (2·3, 5, C_out, C_in)
    both = ops.take(rows, ops.reshape(taps, (-1,)), axis=1)  # (2·3, 2·3, C_out, C_in)
    both = ops.reshape(both, (2, 3, 2, 3, out_channels, in_channels))
    # → (offset_h, offset_w, C_in, phase_h, phase_w, C_out)
    both = ops.transpose(both, (1, 3, 5, 0, 2, 4))
    return ops.reshape(both, (3, 3, in_channels, 4 * out_channels))


class PhaseDeconvolution(SameWeightsTwin):
    """A ×2 ``Conv2DTranspose`` (kernel 4, 'same', no bias) as one 3×3 convolution to
    four phases and a depth-to-space: the same numbers, as convolutions every runtime
    runs fast (onnxruntime runs a full-resolution ConvTranspose far below its
    convolution rate: benchmarks/README.md)."""

    def call(self, inputs):
        import tensorflow as tf

        kernel = phase_kernel(self.source.kernel)
        return tf.nn.depth_to_space(tf.nn.conv2d(inputs, kernel, 1, "SAME"), 2)


class DilatedConvolution(SameWeightsTwin):
    """A dilated ``Conv2D`` as one dilated convolution op. Keras builds it as
    space-to-batch, convolution and batch-to-space, which tf2onnx folds into one dilated
    ``Conv`` only at a static size: at a dynamic size the ONNX file keeps the reshuffles.
    TensorFlow's CPU kernels run the space-to-batch form faster, so `export_model`
    applies this to ONNX files only (`ONNX_ONLY_REWRITES`)."""

    def call(self, inputs):
        import tensorflow as tf

        layer = self.source
        padding = "VALID"
        if layer.padding == "same":  # explicit: onnxruntime refuses auto_pad with dilation
            total = [d * (k - 1) for d, k in zip(layer.dilation_rate, layer.kernel_size)]
            padding = [[0, 0], *([t // 2, t - t // 2] for t in total), [0, 0]]
        outputs = tf.nn.conv2d(inputs, layer.kernel, strides=1, padding=padding,
                               dilations=list(layer.dilation_rate))
        if layer.use_bias:
            outputs = tf.nn.bias_add(outputs, layer.bias)
        return layer.activation(outputs)


def is_dilated_convolution(layer):
    return (type(layer) is keras.layers.Conv2D and max(layer.dilation_rate) > 1
            and tuple(layer.strides) == (1, 1) and layer.groups == 1
            and layer.data_format == "channels_last")


def is_phase_deconvolution(layer):
    return (type(layer) is keras.layers.Conv2DTranspose and tuple(layer.kernel_size) == (4, 4)
            and tuple(layer.strides) == (2, 2) and layer.padding == "same"
            and not layer.use_bias and tuple(layer.dilation_rate) == (1, 1)
            and layer.data_format == "channels_last" and layer.activation is
            keras.activations.linear)


def rewritten_layer(layer, rewrites):
    """The layer that computes `layer` faster once exported under the speed `rewrites`
    (names of `LAYER_REWRITES`), or None where none applies."""
    if {"global_conv", "tap_groups"} & set(rewrites) and isinstance(layer, GlobalConv):
        return GlobalConvAsConvolutions(layer, group_taps="tap_groups" in rewrites)
    if "deconvolution" in rewrites and is_phase_deconvolution(layer):
        return PhaseDeconvolution(layer)
    if "dilated_convolution" in rewrites and is_dilated_convolution(layer):
        return DilatedConvolution(layer)
    return None
