"""Exporting a keras_lk segmentation model for serving: SavedModel, ONNX, LiteRT.

`export_model` writes one function: normalized images ``"images"`` (float32
``(batch, H, W, 3)``, normalized as ``model.normalization`` says, like the Keras model's
input) → main logits ``"logits"`` (float32 ``(batch, H, W, num_classes)``).

| format          | path            | run it with                                  |
| --------------- | --------------- | -------------------------------------------- |
| ``saved_model`` | a directory     | ``tf.saved_model.load(path).serve(images)``  |
| ``onnx``        | a file          | ``onnxruntime.InferenceSession(path)``       |
| ``litert``      | ``*.tflite``    | ``ai_edge_litert.interpreter.Interpreter``   |

`load_exported(path)` does that for any of the three: a function images → logits.

What is exported:

- the main logits only: GALD's auxiliary head (``"aux_logits"``) is a training-time
  output and is pruned, so every file has the one output ``"logits"``; read it by name
  (ONNX and LiteRT do not keep the order of a Keras model's outputs);
- in float32: a mixed-precision model is rebuilt from its config under the float32
  policy with its weights copied (tf2onnx and the LiteRT converter need float32 graphs);
- with layers swapped for equal ones that convert: bilinear ``UpSampling2D``
  (Keras 3.15.1's resize cannot be traced with unknown H, W) and `PadToMultiple` (whose
  ``(-size) % m`` tf2onnx converts wrongly, see `_NonNegativePadToMultiple`);
- with layers swapped for equal ones that run faster once exported, on the same
  weights: `GlobalConv` as its four plain convolutions (no Transpose nodes) and each ×2
  deconvolution (GCNSeg's decoder) as a 3×3 convolution to four phases plus
  depth-to-space (`phase_kernel`); in ONNX files, each of those as a 2×2 convolution
  (the 3×3 kernel's non-zero window) and a grouped transposed convolution with 0/1
  weights that places the phases, which onnxruntime runs faster than DepthToSpace.
  In ONNX files also: each dilated convolution as one dilated ``Conv`` at any input size
  (`_DilatedConvolution`), and a dilated convolution to few classes (FCRN's classifier)
  as a 1×1 convolution to taps × classes, one shifting ``Pad`` per tap and a ``Sum``.
  The tests compare every family's exported file with the Keras model;
  `benchmarks/inference.py` measures the speed.

The converters are optional: ``onnx`` needs ``tf2onnx`` and ``onnx``; running the files
needs ``onnxruntime`` and ``ai-edge-litert``. All four are the ``keras_lk[export]``
extra; a missing converter raises an ImportError that names it. Export needs the
TensorFlow backend.

Example:
>>> import keras_lk.export
>>> model = keras_lk.models.GCNSeg(num_classes=3, k=5, backbone="resnet10_narrow")
>>> keras_lk.export.export_model(model, "gcn.onnx", format="onnx")
'gcn.onnx'
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os

import keras

from keras_lk.models.segmentation_model import LOGITS, SegmentationModel
from keras_lk.models.spatial import PadToMultiple

FORMATS = ("saved_model", "onnx", "litert")
# The rewrites of the exported graph that compute the same function faster: the first four
# swap Keras layers (`_export_layer`), the last two edit ONNX files (`_ONNX_PASSES`, run
# by `_rewrite_onnx_file`).
REWRITES = ("global_conv", "tap_groups", "deconvolution", "dilated_convolution",
            "depth_to_space", "dilated_classifier")
# Layer rewrites measured faster in onnxruntime only: `export_model` skips them elsewhere.
_ONNX_ONLY_REWRITES = ("dilated_convolution",)
# Which convolutions "dilated_classifier" rewrites: dilated, to at most this many outputs
# (classes) from at least this many input channels. Measured on FCRN-101's 5×5 d12
# classifier (2048 → 21); below 512 inputs the shifted copies weigh more against the
# convolution, and it was not measured there.
_TAP_SUM_MAX_OUTPUTS, _TAP_SUM_MIN_INPUTS = 32, 512
# CPU runtimes compute a convolution's output channels in blocks of this many on AVX-512
# (onnxruntime's NCHWc block; 8 on AVX2): a 21-class convolution fills 21 of 32 lanes.
# "tap_groups" gains on AVX-512 (0.93× GCNSeg-R50's time in onnxruntime) and is neutral
# on AVX2 (1.00×, where 21 classes fill 21 of 24 lanes): benchmarks/README.md.
_OUTPUT_LANES = 16
# "tap_groups" splits a GlobalConv's 1-D convolutions whose outputs fill less than this
# share of their lanes into the fewest groups of taps (at most `_MAX_TAP_GROUPS`, of ≥ 2
# taps each) whose outputs fill at least this share.
_FILLED_LANES, _MAX_TAP_GROUPS = 0.85, 5
QUANTIZATIONS = (None, "dynamic", "int8")  # LiteRT post-training quantization
INPUT_NAME = "images"
OUTPUT_NAME = LOGITS
_KERAS_FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
# Modules each format's conversion imports (the LiteRT converter is part of TensorFlow).
_CONVERTERS = {"saved_model": (), "onnx": ("tf2onnx", "onnx"), "litert": ()}


def require_module(module_name):
    """Imports an export converter or runtime (``"tf2onnx"``, ``"onnxruntime"``,
    ``"ai_edge_litert"``...); if it is missing, an ImportError naming the
    ``keras_lk[export]`` extra."""
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(
            f"`{module_name}` is needed for this export format and is not installed "
            f"({error}); install the export extra: pip install 'keras_lk[export]'."
        ) from None


def _check_size(name, value, allow_none):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1, received {value!r}.")


def _input_shape(model, input_size, batch_size):
    """``(batch, H, W, C)`` of the exported input; None where it stays dynamic."""
    if input_size is None:
        height, width = model.image_shape[:2]
    else:
        if not isinstance(input_size, (list, tuple)) or len(input_size) != 2:
            raise ValueError(f"`input_size` must be None or (height, width), received "
                             f"{input_size!r}.")
        height, width = input_size
        _check_size("input_size height", height, allow_none=False)
        _check_size("input_size width", width, allow_none=False)
    _check_size("batch_size", batch_size, allow_none=True)
    return (batch_size, height, width, model.image_shape[2])


@contextlib.contextmanager
def _float32_policy():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_model(model):
    """`model` itself if it computes in float32, else the same model rebuilt from its
    config under the float32 policy with its weights copied.

    Args:
        model: a `keras_lk.models.SegmentationModel`.

    Returns:
        A model of the same class whose layers all compute in float32.
    """
    if all(layer.dtype_policy.name == "float32" for layer in [model, *model.layers]):
        return model
    with _float32_policy():
        rebuilt = type(model).from_config(model.get_config())
    pairs = list(zip(rebuilt.weights, model.weights))
    if len(rebuilt.weights) != len(model.weights) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in pairs):
        raise ValueError(f"rebuilding {model.name!r} in float32 did not give the same "
                         "weights; was it changed after it was built?")
    for target, source in pairs:
        target.assign(keras.ops.cast(source.value, target.dtype))
    return rebuilt


class _DynamicBilinearUpSampling2D(keras.layers.UpSampling2D):
    """Bilinear `UpSampling2D` that traces with unknown H, W: Keras 3.15.1's
    `ops.image.resize` tests ``size[0] <= 0`` in Python, which fails on the symbolic sizes
    of a dynamic-shape trace (keras-team/keras#23315, fixed after 3.15.1). The op is the
    one Keras's TensorFlow backend runs: ``tf.image.resize(..., "bilinear")``."""

    def call(self, inputs):
        import tensorflow as tf

        shape = tf.shape(inputs)
        size = (shape[1] * self.size[0], shape[2] * self.size[1])
        return tf.image.resize(inputs, size, method="bilinear")


class _NonNegativePadToMultiple(PadToMultiple):
    """`PadToMultiple` that converts: its padding as ``(m - size % m) % m``, equal to
    ``(-size) % m``. tf2onnx 1.17 converts FloorMod as ``x - trunc(x / y) * y``, wrong for
    negative ``x`` (a 40-pixel-high input came out 32 pixels high)."""

    def call(self, inputs):
        import tensorflow as tf

        shape = tf.shape(inputs)
        pad_h = (self.multiple - shape[1] % self.multiple) % self.multiple
        pad_w = (self.multiple - shape[2] % self.multiple) % self.multiple
        outputs = tf.pad(inputs, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])
        # Restates the static channels, which the LiteRT converter loses through a Pad of
        # dynamic size; its builtin CONV_2D needs them (else a Flex op the runtime lacks).
        return tf.reshape(outputs, [-1, shape[1] + pad_h, shape[2] + pad_w,
                                    inputs.shape[-1]])


class _SameWeightsTwin(keras.layers.Layer):
    """A layer computing what `source` computes, on `source`'s own weights (shared, not
    copied), by another graph; a subclass's ``call`` says how."""

    def __init__(self, source, **kwargs):
        super().__init__(name=source.name, dtype=source.dtype_policy, **kwargs)
        self.source = source

    def compute_output_shape(self, input_shape):
        return self.source.compute_output_shape(input_shape)


def _filled_lanes(outputs):
    """The share of their output lanes (`_OUTPUT_LANES`) that `outputs` channels fill."""
    return outputs / (_OUTPUT_LANES * math.ceil(outputs / _OUTPUT_LANES))


def tap_groups(outputs, taps):
    """Into how many groups of taps "tap_groups" splits a 1-D convolution of `taps` taps
    to `outputs` channels: 1 (it stays) unless its outputs fill less than `_FILLED_LANES`
    of their lanes; then the fewest groups whose outputs fill at least that, if any.
    GCNSeg's GlobalConv (k = 15, 21 classes): 3 groups of 5 taps, 63 of 64 lanes filled
    instead of 21 of 32."""
    if _filled_lanes(outputs) >= _FILLED_LANES:
        return 1
    for groups in range(2, _MAX_TAP_GROUPS + 1):
        if (taps % groups == 0 and taps // groups >= 2
                and _filled_lanes(groups * outputs) >= _FILLED_LANES):
            return groups
    return 1


def _tap_grouped_convolution(inputs, kernel, axis, groups):
    """The "same", stride-1 convolution of `inputs` with the k×1 (`axis` 0) or 1×k
    (`axis` 1) `kernel` ``(kh, kw, C_in, C)``, as one convolution of k/g taps to g·C
    channels (channel j·C + c: taps j·k/g … (j + 1)·k/g − 1 of output c) on the input
    padded as the k-tap convolution pads it, and a sum of the g groups, group j sliced
    from offset j·k/g. The same multiply-adds, plus (g − 1)·k/g rows, in another order."""
    import tensorflow as tf

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


class _GlobalConvAsConvolutions(_SameWeightsTwin):
    """`GlobalConv` computed by its ``"conv"`` formulation (four plain convolutions):
    its ``"transpose"`` and ``"matmul"`` formulations, faster to train here, leave
    Transpose nodes in an exported graph. With `group_taps`, each convolution whose
    outputs leave lanes idle is a `_tap_grouped_convolution` (`tap_groups`).

    GCNSeg-R50 (k = 15, 21 classes: 3 groups of 5 taps, 63 of 64 lanes filled instead of
    21 of 32) ran in 0.93× the time in onnxruntime, 0.91× in LiteRT and 0.95× as a
    SavedModel (paired medians, AVX-512 EPYC VM, 2026-12-02). Splitting BoundaryRefine's
    3×3 convolutions by rows the same way did not gain in onnxruntime (0.99–1.00×: the
    slices and sums cost what the lanes save)."""

    def __init__(self, source, group_taps=False, **kwargs):
        super().__init__(source, **kwargs)
        self.group_taps = group_taps

    def call(self, inputs):
        source = self.source
        groups = tap_groups(source.filters, source.kernel_size) if self.group_taps else 1
        if groups == 1:
            return source._call_conv(inputs)

        def conv(x, name, axis):
            kernel = source._kernels[name]
            return source._bias(_tap_grouped_convolution(x, kernel, axis, groups), name)

        # `GlobalConv._call_conv`'s order: right branch first.
        right = conv(conv(inputs, "right_1xk", 1), "right_kx1", 0)
        left = conv(conv(inputs, "left_kx1", 0), "left_1xk", 1)
        return left + right


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


class _PhaseDeconvolution(_SameWeightsTwin):
    """A ×2 ``Conv2DTranspose`` (kernel 4, 'same', no bias) as one 3×3 convolution to
    four phases and a depth-to-space: the same numbers, as convolutions every runtime
    runs fast (onnxruntime's ConvTranspose ran the full-resolution one at an eighth of
    its convolution rate)."""

    def call(self, inputs):
        import tensorflow as tf

        kernel = phase_kernel(self.source.kernel)
        return tf.nn.depth_to_space(tf.nn.conv2d(inputs, kernel, 1, "SAME"), 2)


class _DilatedConvolution(_SameWeightsTwin):
    """A dilated ``Conv2D`` as one dilated convolution op. Keras builds it as
    space-to-batch, convolution and batch-to-space, which tf2onnx folds into one dilated
    ``Conv`` only at a static size: at a dynamic size the ONNX file kept the reshuffles,
    and onnxruntime ran FCRN-101 at 512² in 1555 ms against 1220 ms static (AVX-512 VM,
    2026-12-02). TensorFlow's CPU kernels run the space-to-batch form faster (73 against
    95 ms for a 3×3 d4 512-channel convolution at 64²), so `export_model` applies this
    to ONNX files only."""

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


def _is_dilated_convolution(layer):
    return (type(layer) is keras.layers.Conv2D and max(layer.dilation_rate) > 1
            and tuple(layer.strides) == (1, 1) and layer.groups == 1
            and layer.data_format == "channels_last")


def _is_phase_deconvolution(layer):
    return (type(layer) is keras.layers.Conv2DTranspose and tuple(layer.kernel_size) == (4, 4)
            and tuple(layer.strides) == (2, 2) and layer.padding == "same"
            and not layer.use_bias and tuple(layer.dilation_rate) == (1, 1)
            and layer.data_format == "channels_last" and layer.activation is
            keras.activations.linear)


def _export_layer(layer, rewrites=REWRITES):
    """The layer the exported graph holds in place of `layer`."""
    from keras_lk.layers import GlobalConv

    if (type(layer) is keras.layers.UpSampling2D and layer.interpolation == "bilinear"
            and layer.data_format == "channels_last"):
        return _DynamicBilinearUpSampling2D.from_config(layer.get_config())
    if type(layer) is PadToMultiple:
        return _NonNegativePadToMultiple.from_config(layer.get_config())
    if {"global_conv", "tap_groups"} & set(rewrites) and isinstance(layer, GlobalConv):
        return _GlobalConvAsConvolutions(layer, group_taps="tap_groups" in rewrites)
    if "deconvolution" in rewrites and _is_phase_deconvolution(layer):
        return _PhaseDeconvolution(layer)
    if "dilated_convolution" in rewrites and _is_dilated_convolution(layer):
        return _DilatedConvolution(layer)
    return layer  # the same layer: the inference model shares the model's weights


def _attributes(node):
    """An ONNX node's attributes as ``{name: value}``."""
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _set_attributes(node, **attributes):
    """Replaces (or adds) `node`'s attributes, and drops ``auto_pad`` (explicit pads)."""
    from onnx import helper

    kept = [a for a in node.attribute if a.name not in attributes and a.name != "auto_pad"]
    del node.attribute[:]
    node.attribute.extend(kept + [helper.make_attribute(k, v) for k, v in attributes.items()])


def _is_same_padded(attributes, kernel_shape):
    """Whether an ONNX ``Conv`` of stride 1 and odd `kernel_shape` is padded to keep its
    input's size ("same"): by ``dilation · (k − 1) / 2`` on every side, as ``pads`` or as
    ``auto_pad`` SAME."""
    half = [d * (k - 1) // 2
            for d, k in zip(attributes.get("dilations", [1, 1]), kernel_shape)]
    return (list(attributes.get("pads", [])) == half + half
            or attributes.get("auto_pad") in (b"SAME_UPPER", b"SAME_LOWER"))


def _is_same_3x3_convolution(attributes):
    """An ONNX ``Conv`` of kernel 3×3, stride 1, no dilation or groups, padded by one
    pixel on every side (`_is_same_padded`)."""
    return (list(attributes.get("kernel_shape", [])) == [3, 3]
            and list(attributes.get("strides", [1, 1])) == [1, 1]
            and list(attributes.get("dilations", [1, 1])) == [1, 1]
            and attributes.get("group", 1) == 1
            and _is_same_padded(attributes, [3, 3]))


def _two_by_two_phase_kernel(kernel):
    """The 2×2 kernel of a class-major phase kernel ``(4·C, C_in, 3, 3)`` (channel
    ``4c + 2a + b``: row phase a, column phase b), or None if it has weights outside it.

    Phase a reads the input rows at offsets (−1, 0) if a = 0 and (0, +1) if a = 1
    (`_PHASE_TAPS`): taps a and a + 1 of the 3×3 kernel, likewise for columns. On the
    input padded by one pixel, a 2×2 convolution computes phase a of output row i at
    its row i + a, where the placing transposed convolution reads it
    (`_onnx_depth_to_space_as_deconvolution`)."""
    import numpy as np

    phases = np.arange(kernel.shape[0]) % 4
    rows, columns = phases // 2, phases % 2
    window = np.zeros((kernel.shape[0], 1, 3, 3), bool)
    for a in range(2):
        for b in range(2):
            window[(rows == a) & (columns == b), :, a:a + 2, b:b + 2] = True
    if np.any(kernel[np.broadcast_to(~window, kernel.shape)]):
        return None
    return np.stack([kernel[o, :, rows[o]:rows[o] + 2, columns[o]:columns[o] + 2]
                     for o in range(kernel.shape[0])])


def _onnx_depth_to_space_as_deconvolution(graph):
    """Rewrites the ONNX `graph` in place: each ``DepthToSpace`` (block 2, DCR) fed only
    by a ``Conv`` with constant weights becomes a ``ConvTranspose`` (kernel 2, stride 2, one
    group per output channel, weights 0 or 1) that places each input channel's pixels
    where the depth-to-space would, and the ``Conv``'s output channels are reordered to
    match (class-major, CRD). The numbers are the same (x·1 + 0 + 0 + 0);
    onnxruntime 1.32 ran an 84-channel 256² DepthToSpace in 31 ms (AVX2 VM, 2026-12-01),
    element by element, and the ConvTranspose in 6 ms. Other DepthToSpace nodes stay as they are.

    Where the ``Conv`` is a 3×3 phase kernel (`phase_kernel`: each phase reads only a
    2×2 window of its 3×3 taps), it becomes a 2×2 convolution on the input padded by
    one pixel, 4/9 of the multiply-adds, and the ConvTranspose places each phase from
    its own offset (``pads`` 1): the same numbers again, at 0.79× the time of the 3×3
    form for GCNSeg's last deconvolution (21 classes, 256² → 512²).

    Returns:
        The number of nodes rewritten.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    producers = {name: node for node in graph.node for name in node.output}
    readers = {}
    for node in graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    for output in graph.output:
        readers[output.name] = readers.get(output.name, 0) + 1
    constants = {tensor.name: tensor for tensor in graph.initializer}
    rewritten = 0
    for index, node in enumerate(graph.node):
        attributes = _attributes(node)
        conv = producers.get(node.input[0]) if node.op_type == "DepthToSpace" else None
        if (conv is None or conv.op_type != "Conv" or attributes.get("blocksize") != 2
                or attributes.get("mode", b"DCR") != b"DCR" or readers[node.input[0]] != 1
                or not all(name in constants for name in conv.input[1:] if name)):
            continue
        conv_attributes = _attributes(conv)
        # Conv output channel p·C + c (phase p = 2a + b, class c) moves to c·4 + p.
        arrays = {}
        for position, name in enumerate(conv.input[1:], start=1):
            if name:
                array = numpy_helper.to_array(constants[name])
                classes = array.shape[0] // 4
                order = (np.arange(4)[None, :] * classes + np.arange(classes)[:, None])
                arrays[position] = array[order.ravel()]
        small = (_two_by_two_phase_kernel(arrays[1])
                 if _is_same_3x3_convolution(conv_attributes) else None)
        if small is not None:
            arrays[1] = small
            _set_attributes(conv, kernel_shape=[2, 2], pads=[1, 1, 1, 1])
        for position, array in arrays.items():
            reordered = numpy_helper.from_array(array, f"{conv.name}/class_major_{position}")
            graph.initializer.append(reordered)
            conv.input[position] = reordered.name
        # Phase (a, b) of pixel (i, j) goes to (2i + a, 2j + b): from tap (a, b); with the
        # 2×2 kernel it sits at (i + a, j + b), so from tap (1 − a, 1 − b), cropped by one.
        shift = 0 if small is None else 1
        placement = np.zeros((4 * classes, 1, 2, 2), "float32")
        for c in range(classes):
            for a in range(2):
                for b in range(2):
                    placement[4 * c + 2 * a + b, 0, abs(shift - a), abs(shift - b)] = 1.0
        weights = numpy_helper.from_array(placement, f"{node.name}/placement")
        graph.initializer.append(weights)
        graph.node[index].CopyFrom(helper.make_node(
            "ConvTranspose", [node.input[0], weights.name], list(node.output), name=node.name,
            group=classes, kernel_shape=[2, 2], strides=[2, 2], pads=[shift] * 4))
        rewritten += 1
    return rewritten


def _is_tap_sum_convolution(outputs, inputs, kernel_size, dilations, strides, groups):
    """A convolution that "dilated_classifier" rewrites: stride 1, no groups, dilated, a
    kernel larger than 1×1 and of odd sizes, few outputs from many inputs."""
    return (groups == 1 and all(s == 1 for s in strides) and any(d > 1 for d in dilations)
            and all(k % 2 == 1 for k in kernel_size) and max(kernel_size) > 1
            and outputs <= _TAP_SUM_MAX_OUTPUTS and inputs >= _TAP_SUM_MIN_INPUTS)


def _onnx_dilated_classifier_as_tap_sum(graph):
    """Rewrites the ONNX `graph` in place: each dilated ``Conv`` to few outputs
    (`_is_tap_sum_convolution`, FCRN's large field-of-view classifier) with constant
    weights and "same" padding becomes one 1×1 ``Conv`` to taps × outputs channels, one
    ``Pad`` per tap that takes the tap's channels and shifts them by its offset (negative
    pads crop, positive pads fill zeros: exactly the zero padding of the convolution, at
    any size, even one smaller than the offset), and a ``Sum`` with the bias. The
    multiply-adds are the same, in another order (logits within 1e-6 on FCRN-101).

    onnxruntime pads a 21-output convolution to 32 channels and runs the dilated kernel
    at about half its 1×1 rate: FCRN-101's 5×5 d12 classifier took 55 ms at 512²; its 1×1
    convolution to 525 channels takes 30 ms, its reorder, the 25 shifts and the sum about
    6 ms (AVX-512 VM, 2026-12-02). Other convolutions stay as they are.

    Returns:
        The number of nodes rewritten.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    constants = {tensor.name: tensor for tensor in graph.initializer}
    nodes, rewritten = [], 0
    for node in graph.node:
        attributes = _attributes(node)
        weights = (numpy_helper.to_array(constants[node.input[1]])
                   if node.op_type == "Conv" and node.input[1] in constants else None)
        bias_name = node.input[2] if len(node.input) > 2 else ""
        if (weights is None or weights.ndim != 4 or (bias_name and bias_name not in constants)
                or not _is_tap_sum_convolution(
                    weights.shape[0], weights.shape[1], weights.shape[2:],
                    attributes.get("dilations", [1, 1]), attributes.get("strides", [1, 1]),
                    attributes.get("group", 1))):
            nodes.append(node)
            continue
        outputs, inputs, height, width = weights.shape
        if not _is_same_padded(attributes, (height, width)):
            nodes.append(node)
            continue
        dilation_h, dilation_w = attributes.get("dilations", [1, 1])
        half_h, half_w = dilation_h * (height - 1) // 2, dilation_w * (width - 1) // 2
        taps = height * width
        # Channel t·outputs + o of the 1×1 convolution: tap t = (row, column), output o.
        one_by_one = weights.transpose(2, 3, 0, 1).reshape(taps * outputs, inputs, 1, 1)
        tapped = f"{node.name}/taps"
        graph.initializer.append(numpy_helper.from_array(one_by_one, f"{tapped}/kernel"))
        nodes.append(helper.make_node("Conv", [node.input[0], f"{tapped}/kernel"], [tapped],
                                      name=tapped, kernel_shape=[1, 1]))
        terms = []
        for tap in range(taps):
            # Output (i, j) reads tap (row, column) at (i + dy, j + dx).
            dy = (tap // width) * dilation_h - half_h
            dx = (tap % width) * dilation_w - half_w
            pads = [0, -tap * outputs, -dy, -dx, 0, -(taps - 1 - tap) * outputs, dy, dx]
            name = f"{tapped}/shift_{tap}"
            graph.initializer.append(numpy_helper.from_array(np.array(pads, np.int64),
                                                             f"{name}/pads"))
            nodes.append(helper.make_node("Pad", [tapped, f"{name}/pads"], [name], name=name))
            terms.append(name)
        if bias_name:
            bias = numpy_helper.to_array(constants[bias_name]).reshape(1, outputs, 1, 1)
            graph.initializer.append(numpy_helper.from_array(bias, f"{tapped}/bias"))
            terms.append(f"{tapped}/bias")
        nodes.append(helper.make_node("Sum", terms, list(node.output), name=node.name))
        rewritten += 1
    if rewritten:
        del graph.node[:]
        graph.node.extend(nodes)
    return rewritten


# The rewrites that edit the ONNX file, in the order they run.
_ONNX_PASSES = {"depth_to_space": _onnx_depth_to_space_as_deconvolution,
                "dilated_classifier": _onnx_dilated_classifier_as_tap_sum}


def _rewrite_onnx_file(path, rewrites):
    """Runs the passes of `_ONNX_PASSES` named in `rewrites` on the ONNX file at `path`:
    one load, one save (only if a node changed), without the initializers the rewritten
    nodes no longer read (tf2onnx shares equal constants, so only unread ones go).

    Returns:
        The number of nodes rewritten.
    """
    import onnx

    model = onnx.load(path)
    graph = model.graph
    rewritten = sum(rewrite(graph) for name, rewrite in _ONNX_PASSES.items()
                    if name in rewrites)
    if rewritten:
        used = {name for node in graph.node for name in node.input}
        keep = [tensor for tensor in graph.initializer if tensor.name in used]
        del graph.initializer[:]
        graph.initializer.extend(keep)
        onnx.save(model, path)
    return rewritten


def applicable_rewrites(model):
    """The speed rewrites of `REWRITES` that change `model`'s exported graph: GCNSeg's
    GlobalConvs (and their tap groups, for the class counts `tap_groups` splits) and
    deconvolutions; the dilated convolutions of GALDNet's and FCRN's backbones; FCRN's
    classifier on a backbone of ≥ 512 channels (ResNet-18 and up). A model without any of
    these has the same files with or without rewrites."""
    from keras_lk.layers import GlobalConv

    found = set()
    for layer in model.layers:  # the layers `inference_model` swaps
        if isinstance(layer, GlobalConv):
            found.add("global_conv")
            if tap_groups(layer.filters, layer.kernel_size) > 1:
                found.add("tap_groups")
        if _is_phase_deconvolution(layer):
            found.update(("deconvolution", "depth_to_space"))
        if _is_dilated_convolution(layer):
            found.add("dilated_convolution")
        if (type(layer) is keras.layers.Conv2D and layer.padding == "same"
                and _is_tap_sum_convolution(layer.filters, layer.kernel.shape[2],
                                            layer.kernel_size, layer.dilation_rate,
                                            layer.strides, layer.groups)):
            found.add("dilated_classifier")
    return tuple(name for name in REWRITES if name in found)


def inference_model(model, rewrites=REWRITES):
    """The functional model that `export_model` writes: images → ``{"logits": ...}``.

    Args:
        model: a `keras_lk.models.SegmentationModel`.
        rewrites: the speed rewrites to apply, a subset of `REWRITES`
            (``"global_conv"``; ``"tap_groups"``, which implies it; ``"deconvolution"``;
            ``"dilated_convolution"``, which `export_model` applies to ONNX files only;
            ``"depth_to_space"`` and ``"dilated_classifier"`` edit ONNX files, not this
            model); the ones that make a graph convert are always applied.

    Returns:
        A float32 `keras.Model` on the weights of `float32_model(model)`, with GALD's
        auxiliary head pruned and the layers of `_export_layer` swapped.
    """
    unknown = set(rewrites) - set(REWRITES)
    if unknown:
        raise ValueError(f"`rewrites` must be a subset of {REWRITES}, received "
                         f"{tuple(rewrites)!r}.")
    model = float32_model(model)
    logits = SegmentationModel.main_logits(model.output)
    main = keras.Model(model.inputs, {OUTPUT_NAME: logits}, name=f"{model.name}_inference")
    return keras.models.clone_model(
        main, clone_function=lambda layer: _export_layer(layer, tuple(rewrites)))


@contextlib.contextmanager
def _tf2onnx_without_graph_copies():
    """Converts without tf2onnx 1.17's copy of the whole graph before each optimizer pass
    (made so that a failing pass can be skipped): the process grew by ~0.3 GB with each
    copy, and exporting GALDNet-R50 (512²) peaked at 14.4 GB of memory with them, 6.9 GB
    without. tf2onnx stops copying whenever ``TF2ONNX_CATCH_ERRORS`` is set: it compares
    the variable's name, not its value, with "TRUE". A failing pass then raises instead
    of being skipped."""
    name = "TF2ONNX_CATCH_ERRORS"
    previous = os.environ.get(name)
    os.environ[name] = "FALSE"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def _litert_quantization(quantization, representative_images, shape):
    """The LiteRT converter options of a post-training `quantization`."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"`quantization` must be one of {QUANTIZATIONS}, received "
                         f"{quantization!r}.")
    if quantization is None:
        if representative_images is not None:
            raise ValueError("`representative_images` are for quantization='int8'.")
        return {}
    import numpy as np
    import tensorflow as tf

    options = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantization == "dynamic":
        return options
    if representative_images is None:
        raise ValueError("quantization='int8' needs `representative_images`: normalized "
                         "images of the user's data (as the model's input), to calibrate "
                         "the activation ranges.")
    batches = []
    for i, image in enumerate(representative_images):
        image = np.asarray(image, "float32")
        image = image[None] if image.ndim == 3 else image
        if image.ndim != 4 or image.shape[-1] != shape[-1] or any(
                want is not None and got != want
                for got, want in zip(image.shape[1:3], shape[1:3])):
            raise ValueError(
                f"`representative_images`[{i}] must be an (H, W, {shape[-1]}) or "
                f"(batch, H, W, {shape[-1]}) image of the exported input size "
                f"{shape[1:3]}, received shape {image.shape}.")
        batches.extend(image[j:j + 1] for j in range(image.shape[0]))
    if not batches:
        raise ValueError("`representative_images` is empty.")
    options["representative_dataset"] = lambda: ([batch] for batch in batches)
    # Integer kernels only: a graph with an op that has none fails to convert here,
    # instead of running that op in float32 unannounced.
    options["target_spec"] = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}
    return options


def export_model(model, path, format="saved_model", input_size=None, batch_size=1,
                 verbose=False, rewrites=REWRITES, quantization=None,
                 representative_images=None, **kwargs):
    """Writes `model`'s main logits as a SavedModel, an ONNX or a LiteRT file.

    Input size, per format (measured with TensorFlow 2.21, Keras 3.15.1, tf2onnx 1.17,
    onnxruntime 1.32, ai-edge-litert 2.3, on GCNSeg, GALDNet and FCRN):

    - ``input_size=None`` keeps the model's own input size, dynamic H and W by default:
      ``saved_model`` runs any size; ``onnx``'s input is ``[batch, unk, unk, 3]`` and
      onnxruntime runs any size; ``litert``'s input has shape ``[batch, 1, 1, 3]`` and
      signature ``[batch, -1, -1, 3]``: call ``resize_tensor_input(index, (batch, H, W,
      3))`` and ``allocate_tensors()`` before ``invoke()`` (the signature runner does
      both).
    - ``input_size=(H, W)`` fixes the size in every format; a static LiteRT file cannot
      be resized afterwards (its shapes are folded into constants).

    Args:
        model: a `keras_lk.models.SegmentationModel` (GCNSeg, GALDNet, FCRN), float32
            or mixed precision.
        path: where to write: a directory for ``saved_model``, a file for ``onnx``, a
            file ending in ``.tflite`` for ``litert``.
        format: one of `FORMATS`: ``"saved_model"``, ``"onnx"``, ``"litert"``.
        input_size: None (the model's input size) or ``(height, width)``.
        batch_size: the batch dimension, or None for a dynamic batch.
        verbose: let Keras print what it wrote.
        rewrites: the speed rewrites of `inference_model` (default all of `REWRITES`;
            ``()`` exports the training-time graph as it is).
        quantization: LiteRT post-training quantization: None (float32), ``"dynamic"``
            (int8 weights, float activations) or ``"int8"`` (int8 weights and
            activations, float32 input and output; needs `representative_images`).
        representative_images: for ``"int8"``: an iterable of normalized images
            ``(H, W, 3)`` or batches of them (the user's data, at the exported size when
            `input_size` is given) that calibrate the activation ranges; a few dozen do.
        **kwargs: passed to `keras.Model.export`: ``opset_version`` for ONNX, converter
            options (``optimizations``...) for LiteRT.

    Returns:
        `path` as a string.

    Raises:
        ValueError: an unknown format, a LiteRT path not ending in ``.tflite``, a bad
            input or batch size, or a backend other than TensorFlow.
        TypeError: `model` is not a keras_lk segmentation model.
        ImportError: the format's converter is not installed (the message names the
            ``keras_lk[export]`` extra).

    Example:
    >>> model = keras_lk.models.FCRN(4, backbone="resnet10_narrow")
    >>> keras_lk.export.export_model(model, "fcrn.tflite", format="litert",
    ...                              input_size=(64, 64))
    'fcrn.tflite'
    """
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {FORMATS}, received {format!r}.")
    path = os.fspath(path)
    if format == "litert" and not path.endswith(".tflite"):
        raise ValueError(f"a LiteRT file's path must end with '.tflite', received {path!r}.")
    if not isinstance(model, SegmentationModel):
        raise TypeError(f"`model` must be a keras_lk segmentation model (GCNSeg, GALDNet, "
                         f"FCRN), received a {type(model).__name__}.")
    shape = _input_shape(model, input_size, batch_size)
    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"export needs the TensorFlow backend (KERAS_BACKEND=tensorflow), "
                         f"received {keras.backend.backend()!r}.")
    for module_name in _CONVERTERS[format]:
        require_module(module_name)
    if format != "litert" and (quantization is not None or representative_images is not None):
        raise ValueError(f"`quantization` applies to format='litert' only, received "
                         f"format={format!r}.")
    if format == "litert":
        kwargs = {**_litert_quantization(quantization, representative_images, shape),
                  **kwargs}
    import tensorflow as tf

    signature = [tf.TensorSpec(shape, tf.float32, name=INPUT_NAME)]
    layer_rewrites = tuple(name for name in rewrites
                           if format == "onnx" or name not in _ONNX_ONLY_REWRITES)
    with _tf2onnx_without_graph_copies() if format == "onnx" else contextlib.nullcontext():
        inference_model(model, layer_rewrites).export(
            path, format=_KERAS_FORMATS[format], input_signature=signature, verbose=verbose,
            **kwargs)
    if format == "onnx":
        _rewrite_onnx_file(path, rewrites)
    return path


def _format_of(path):
    if os.path.isdir(path):
        return "saved_model"
    for format, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
        if path.endswith(suffix):
            return format
    raise ValueError(f"cannot tell the format of {path!r}: expected a SavedModel directory, "
                     "a '.onnx' or a '.tflite' file; pass `format`.")


def load_exported(path, format=None, num_threads=None):
    """Loads a file that `export_model` wrote and returns a function that runs it in its
    runtime: TF SavedModel, onnxruntime or LiteRT.

    Args:
        path: a SavedModel directory, an ``.onnx`` file or a ``.tflite`` file.
        format: one of `FORMATS`, or None to tell it from `path`.
        num_threads: CPU threads for onnxruntime / LiteRT (None: the runtime's default
            for onnxruntime, every core for LiteRT).

    Returns:
        ``run(images) -> logits``: `images` float ``(batch, H, W, 3)``, normalized as the
        model's input; `logits` a float32 NumPy array ``(batch, H, W, num_classes)``. A
        dynamic-size file runs any H, W; a fixed-size one only its own.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: an unknown format, or (from ``run``) images that are not a float
            ``(batch, H, W, C)`` array.
        ImportError: the runtime is not installed (the message names the extra).
    """
    import numpy as np

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no exported model at {path!r}.")
    format = _format_of(path) if format is None else format
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {FORMATS}, received {format!r}.")

    def checked(images):
        images = np.asarray(images)
        if images.ndim != 4 or not np.issubdtype(images.dtype, np.floating):
            raise ValueError(f"`images` must be a float (batch, H, W, C) array of normalized "
                             f"images, received {images.dtype} of shape {images.shape}.")
        return np.ascontiguousarray(images, "float32")

    if format == "saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(path)  # the function must keep it: it owns the variables
        return lambda images: loaded.serve(tf.constant(checked(images)))[OUTPUT_NAME].numpy()
    if format == "onnx":
        onnxruntime = require_module("onnxruntime")
        options = onnxruntime.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
        session = onnxruntime.InferenceSession(path, options,
                                               providers=["CPUExecutionProvider"])
        return lambda images: session.run([OUTPUT_NAME], {INPUT_NAME: checked(images)})[0]
    interpreter = require_module("ai_edge_litert.interpreter").Interpreter(
        model_path=path, num_threads=num_threads or os.cpu_count())
    runner = interpreter.get_signature_runner("serving_default")  # resizes its input
    return lambda images: runner(**{INPUT_NAME: checked(images)})[OUTPUT_NAME]
