"""Receptive fields of keras_lk models: theoretical (from the graph) and valid (gradients).

GCN motivates large kernels with the *valid receptive field* (VRF, Sec. 3.1, Fig. 3):
the region of the input that actually reaches a classifier, much smaller than the
theoretical receptive field of a deep network. Two measurements:

- `theoretical_receptive_field(model, layer_name=None)` walks the functional graph from
  the input to a layer's output and returns `ReceptiveField(size, stride)`: the side, in
  input pixels, of the square theoretical field of view of one output position, and the
  distance in input pixels between two neighbouring output positions (the "jump").
- `valid_receptive_field(model, images, pixel)` back-propagates the logit of one output
  pixel to the input and returns `ValidReceptiveField(gradient, mask, extent, center)`:
  the map of ``|∂ score / ∂ input|`` summed over colour channels and averaged over the
  images, where it exceeds ``threshold × max``, and the side of the smallest square
  centred on the pixel that holds `EXTENT_MASS` (95%) of the gradient mass.
- `plot_valid_receptive_field(image, result)` draws the gradient map over the image.

Theoretical rules, per spatial axis, with ``size`` the field and ``jump`` the stride of a
tensor in input pixels (the input: ``size = jump = 1``):

- convolution (Conv2D, DepthwiseConv2D, SeparableConv2D) and pooling, kernel ``k``,
  stride ``s``, dilation ``d``: ``size += (k - 1) * d * jump``, ``jump *= s``;
- Conv2DTranspose: an output position receives at most ``ceil(((k - 1) * d + 1) / s)``
  consecutive input positions, ``size += (ceil(((k - 1) * d + 1) / s) - 1) * jump``, then
  ``jump /= s`` (GCN's deconvolution, k = 4, s = 2: ``+ jump``; the often quoted
  ``(k - 1) * jump / s`` counts fractions of input positions);
- UpSampling2D / Resizing: ``size += (n - 1) * jump`` for an interpolation reading ``n``
  neighbours (nearest 1, bilinear 2, bicubic 4, lanczos3 6, lanczos5 10), ``jump /=
  factor`` (Resizing reads the factor from the static shapes);
- global pooling, GroupNormalization (statistics over the whole map), Flatten, Reshape
  and keras_lk's CGNL, NonLocal, PyramidPooling, ASPP (image pooling): ``size = inf``;
- keras_lk: GlobalConv, LargeKernelConv and ConvStack3x3 of kernel ``k``: ``+ (k - 1) *
  jump``; BoundaryRefine (two 3×3 convs): ``+ 4 * jump``; LocalDistribution: its
  downsampler (log2(rate) depthwise k×k stride-2 convs, a bilinear resize or a
  rate×rate average pool) followed by bilinear upsampling (``+`` one coarse step);
  CropToMatch: its first input; InterleaveShiftedPasses: ``jump /= factor``;
- layers with several inputs (Add, Concatenate, ...): per axis the largest input field
  and that input's jump (fields are not aligned: the size is an upper bound);
- any other layer without a spatial kernel (no ``kernel_size`` / ``pool_size``
  attribute: BatchNormalization, Activation, Dropout, Dense, Lambda, PadToMultiple,
  CaffePreprocessing, ...) is treated as pointwise. A Lambda that mixes positions is
  therefore not seen. Unknown layers *with* such an attribute raise ValueError: add a
  rule to `LAYER_RULES`.
- nested functional (or Sequential) models called as layers are entered: their inputs
  take the fields of the call's inputs.

Example:
>>> model = keras_lk.models.GCNSeg(num_classes=3, k=15, backbone="resnet10_narrow")
>>> keras_lk.evaluation.theoretical_receptive_field(model, "conv5_block1_out")
ReceptiveField(size=195, stride=32)
>>> result = keras_lk.evaluation.valid_receptive_field(model, images, pixel=(32, 32))
>>> figure = keras_lk.evaluation.plot_valid_receptive_field(images[0], result)

Reference:
    Peng et al., "Large Kernel Matters", CVPR 2017, Sec. 3.1 and Fig. 3; Zhou et al.,
    "Object Detectors Emerge in Deep Scene CNNs", ICLR 2015 (the VRF of [38]).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from fractions import Fraction

import keras
import numpy as np

from keras_lk import layers as lk_layers
from keras_lk.layers.spatial import CropToMatch, InterleaveShiftedPasses
from keras_lk.models.segmentation_model import LOGITS

EXTENT_MASS = 0.95  # share of the gradient mass inside `ValidReceptiveField.extent`

# Input positions an interpolation reads along one axis.
INTERPOLATION_NEIGHBOURS = {
    "nearest": 1, "area": 1, "bilinear": 2, "bicubic": 4, "lanczos3": 6, "lanczos5": 10,
}


@dataclasses.dataclass(frozen=True)
class ReceptiveField:
    """Theoretical receptive field of one output position.

    Args:
        size: side in input pixels of the square field of view (the larger of the two
            axes); `math.inf` when it is the whole input (global pooling, non-local).
        stride: input pixels between neighbouring output positions (the jump); a float
            below 1 after upsampling past the input resolution.
    """

    size: float
    stride: float


@dataclasses.dataclass(frozen=True, eq=False)
class ValidReceptiveField:
    """Valid receptive field of one output pixel.

    Args:
        gradient: float32 H×W map of ``|∂ score / ∂ input|`` summed over the colour
            channels, averaged over the images.
        mask: bool H×W, ``gradient >= threshold * gradient.max()`` (and non-zero).
        extent: side in pixels of the smallest square centred on `center` that holds
            `EXTENT_MASS` (95%) of the gradient mass; an odd integer, 0 when no gradient
            reaches the input.
        center: ``(row, col)`` of the output pixel on the input grid (the pixel itself
            when the output has the input's size).
    """

    gradient: np.ndarray
    mask: np.ndarray
    extent: int
    center: tuple


# === Theoretical receptive field ===


@dataclasses.dataclass(frozen=True)
class _Field:
    """Field and jump of a tensor along (height, width), in input pixels."""

    size: tuple
    jump: tuple

    def grow(self, taps):
        """After a layer reading `taps` = (h, w) consecutive positions."""
        return _Field(tuple(s + (t - 1) * j for s, t, j in zip(self.size, taps, self.jump)),
                      self.jump)

    def scale(self, factors):
        return _Field(self.size, tuple(j * Fraction(f) for j, f in zip(self.jump, factors)))

    def whole(self):
        return _Field((math.inf, math.inf), self.jump)


_INPUT = _Field((Fraction(1), Fraction(1)), (Fraction(1), Fraction(1)))


@dataclasses.dataclass(frozen=True)
class _Call:
    """The static shapes of one layer call (for rules that read sizes)."""

    input_shapes: list
    output_shape: tuple


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _widest(fields):
    """Per axis, the largest field of `fields` and that field's jump."""
    sizes, jumps = [], []
    for axis in (0, 1):
        best = max(fields, key=lambda f: f.size[axis])
        sizes.append(best.size[axis])
        jumps.append(best.jump[axis])
    return _Field(tuple(sizes), tuple(jumps))


def _conv(layer, fields, call):
    dilation = _pair(getattr(layer, "dilation_rate", 1))
    taps = [(k - 1) * d + 1 for k, d in zip(_pair(layer.kernel_size), dilation)]
    return _widest(fields).grow(taps).scale(_pair(layer.strides))


def _conv_transpose(layer, fields, call):
    dilation = _pair(layer.dilation_rate)
    strides = _pair(layer.strides)
    taps = [math.ceil(((k - 1) * d + 1) / s)
            for k, d, s in zip(_pair(layer.kernel_size), dilation, strides)]
    return _widest(fields).grow(taps).scale([Fraction(1, s) for s in strides])


def _pooling(layer, fields, call):
    return _widest(fields).grow(_pair(layer.pool_size)).scale(_pair(layer.strides))


def _neighbours(layer):
    if layer.interpolation not in INTERPOLATION_NEIGHBOURS:
        raise ValueError(
            f"No receptive-field rule for interpolation {layer.interpolation!r} of layer "
            f"{layer.name!r}; known: {tuple(INTERPOLATION_NEIGHBOURS)}."
        )
    return INTERPOLATION_NEIGHBOURS[layer.interpolation]


def _upsampling(layer, fields, call):
    n = _neighbours(layer)
    return _widest(fields).grow((n, n)).scale([Fraction(1, s) for s in _pair(layer.size)])


def _static_factors(layer, call):
    """Input/output size ratio per axis from the static shapes of the call."""
    (_, in_h, in_w, _), (_, out_h, out_w, _) = call.input_shapes[0], call.output_shape
    if None in (in_h, in_w, out_h, out_w):
        raise ValueError(
            f"The receptive field of layer {layer.name!r} ({type(layer).__name__}) needs "
            f"static spatial sizes, received {call.input_shapes[0]} -> {call.output_shape}."
        )
    return Fraction(in_h, out_h), Fraction(in_w, out_w)


def _resizing(layer, fields, call):
    n = _neighbours(layer)
    factors = _static_factors(layer, call)
    # An antialiased downscale widens the interpolation kernel by the factor.
    taps = [math.ceil(n * max(f, 1)) if layer.antialias else n for f in factors]
    return _widest(fields).grow(taps).scale(factors)


def _adaptive_pooling(layer, fields, call):
    # Bin i covers [floor(i L / b), ceil((i + 1) L / b)): at most ceil(L / b) + 1 positions.
    factors = _static_factors(layer, call)
    taps = [math.ceil(f) + (0 if f.denominator == 1 else 1) for f in factors]
    return _widest(fields).grow(taps).scale(factors)


def _whole_input(layer, fields, call):
    return _widest(fields).whole()


def _layer_norm(layer, fields, call):
    axes = _pair(layer.axis) if isinstance(layer.axis, (tuple, list)) else (layer.axis,)
    spatial = any(a % 4 in (1, 2) for a in axes)
    return _widest(fields).whole() if spatial else _widest(fields)


def _square_kernel(layer, fields, call):
    """GlobalConv (k×1 + 1×k branches), LargeKernelConv and ConvStack3x3: k×k."""
    k = layer.kernel_size
    return _widest(fields).grow((k, k))


def _boundary_refine(layer, fields, call):
    return _widest(fields).grow((5, 5))  # two 3×3 convolutions: 1 + 2 + 2


def _local_distribution(layer, fields, call):
    """F + M ⊙ F with M = sigmoid(upsample(W_d F)): the field of the mask branch."""
    d = layer.downsample_rate
    if layer.downsample == "depthwise":
        size, jump = 1, 1
        for _ in range(layer.num_stages):
            size, jump = size + (layer.kernel_size - 1) * jump, jump * 2
    elif layer.downsample == "bilinear":
        size, jump = INTERPOLATION_NEIGHBOURS["bilinear"], d
    elif layer.downsample == "average":
        size, jump = d, d
    else:
        raise ValueError(f"No receptive-field rule for downsample={layer.downsample!r}.")
    size += jump  # bilinear upsampling back to F's size reads two coarse neighbours
    return _widest(fields).grow((size, size))


def _crop_to_match(layer, fields, call):
    return fields[0]  # the reference input only gives the size


def _interleave(layer, fields, call):
    f = Fraction(1, layer.factor)
    return _widest(fields).scale((f, f))


# Rules by class, checked in order with isinstance (subclasses get their base's rule).
# A rule is `rule(layer, input_fields, call) -> _Field`.
LAYER_RULES = (
    (keras.layers.Conv2DTranspose, _conv_transpose),
    ((keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D), _conv),
    ((keras.layers.MaxPooling2D, keras.layers.AveragePooling2D), _pooling),
    ((keras.layers.AdaptiveAveragePooling2D, keras.layers.AdaptiveMaxPooling2D),
     _adaptive_pooling),
    ((keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D,
      keras.layers.GroupNormalization, keras.layers.Flatten, keras.layers.Reshape),
     _whole_input),
    (keras.layers.LayerNormalization, _layer_norm),
    (keras.layers.UpSampling2D, _upsampling),
    (keras.layers.Resizing, _resizing),
    ((lk_layers.GlobalConv, lk_layers.LargeKernelConv, lk_layers.ConvStack3x3),
     _square_kernel),
    (lk_layers.BoundaryRefine, _boundary_refine),
    (lk_layers.LocalDistribution, _local_distribution),
    ((lk_layers.CGNL, lk_layers.NonLocal, lk_layers.PyramidPooling, lk_layers.ASPP),
     _whole_input),
    (CropToMatch, _crop_to_match),
    (InterleaveShiftedPasses, _interleave),
)
_SPATIAL_ATTRIBUTES = ("kernel_size", "pool_size")


def _rule(layer):
    for classes, rule in LAYER_RULES:
        if isinstance(layer, classes):
            return rule
    for attribute in _SPATIAL_ATTRIBUTES:
        if hasattr(layer, attribute):
            raise ValueError(
                f"No receptive-field rule for layer {layer.name!r} of class "
                f"{type(layer).__name__}, which has a `{attribute}`; add one to `LAYER_RULES` "
                "in keras_lk/evaluation/receptive_field.py."
            )
    return lambda layer, fields, call: _widest(fields)  # pointwise


def _key(tensor):
    history = tensor._keras_history
    return id(history.operation), history.node_index, history.tensor_index


def _nested_field(model, fields, tensor_index):
    """Field of output `tensor_index` of a functional/Sequential `model` used as a layer."""
    inner_inputs = getattr(model, "inputs", None)
    inner_outputs = getattr(model, "outputs", None)
    if not inner_inputs or not inner_outputs:
        raise ValueError(
            f"Cannot see inside model {model.name!r} ({type(model).__name__}): only "
            "functional and built Sequential models can be walked."
        )
    if len(inner_inputs) != len(fields):
        raise ValueError(
            f"Model {model.name!r} has {len(inner_inputs)} inputs but was called on "
            f"{len(fields)} tensors."
        )
    bindings = {_key(t): f for t, f in zip(inner_inputs, fields)}
    return _fields_of([inner_outputs[tensor_index]], bindings)[0]


def _fields_of(targets, bindings=None):
    """Fields of the Keras tensors `targets`, walking their graph back to its inputs."""
    memo = dict(bindings or {})
    stack = list(targets)
    while stack:  # iterative post-order: deep ResNets exceed Python's recursion limit
        tensor = stack[-1]
        key = _key(tensor)
        if key in memo:
            stack.pop()
            continue
        operation, node_index, tensor_index = tensor._keras_history
        if operation is None or isinstance(operation, keras.layers.InputLayer):
            memo[key] = _INPUT
            stack.pop()
            continue
        node = operation._inbound_nodes[node_index]
        pending = [t for t in node.input_tensors if _key(t) not in memo]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        fields = [memo[_key(t)] for t in node.input_tensors]
        if not fields:  # a constant: it sees no pixel
            memo[key] = _Field((Fraction(0), Fraction(0)), _INPUT.jump)
        elif isinstance(operation, keras.Model):
            memo[key] = _nested_field(operation, fields, tensor_index)
        else:
            call = _Call([tuple(t.shape) for t in node.input_tensors],
                         tuple(node.outputs[tensor_index].shape))
            memo[key] = _rule(operation)(operation, fields, call)
    return [memo[_key(t)] for t in targets]


def _number(value):
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _output_tensor(model):
    outputs = model.outputs
    if len(outputs) != 1:
        names = [t._keras_history.operation.name for t in outputs]
        raise ValueError(
            f"`model` {model.name!r} has {len(outputs)} outputs; pass `layer_name`, e.g. one "
            f"of the output layers {names}."
        )
    return outputs[0]


def theoretical_receptive_field(model, layer_name=None):
    """Theoretical receptive field of the output of `layer_name` (default: the model).

    See the module docstring for the rules. The field is an upper bound: branches are
    combined by their largest field, whatever their alignment.

    Args:
        model: a functional `keras.Model` (keras_lk models, backbones).
        layer_name: name of a layer of `model`; required when the model has several
            outputs (GALD with ``aux_head=True``: ``"logits"`` or ``"aux_logits"``).

    Returns:
        `ReceptiveField(size, stride)` in input pixels.

    Example:
    >>> backbone = keras_lk.backbones.ResNet10Narrow()
    >>> keras_lk.evaluation.theoretical_receptive_field(backbone, "pool1_pool")
    ReceptiveField(size=11, stride=4)
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, received {type(model).__name__}.")
    if layer_name is None:
        target = _output_tensor(model)
    else:
        try:
            layer = model.get_layer(layer_name)
        except ValueError as error:
            raise ValueError(
                f"`layer_name` must name a layer of model {model.name!r}, received "
                f"{layer_name!r}."
            ) from error
        if len(layer._inbound_nodes) != 1:
            raise ValueError(
                f"`layer_name` {layer_name!r} is called {len(layer._inbound_nodes)} times "
                "in the graph; name a layer called once."
            )
        target = layer.output
        if not isinstance(target, keras.KerasTensor):  # a dict or list of outputs
            raise ValueError(
                f"`layer_name` {layer_name!r} has several outputs; name a layer with one."
            )
    (field,) = _fields_of([target])
    if field.jump[0] != field.jump[1]:
        raise ValueError(
            f"The strides of {layer_name or model.name!r} differ along height and width "
            f"({field.jump[0]} and {field.jump[1]}); `ReceptiveField` holds one."
        )
    return ReceptiveField(size=_number(max(field.size)), stride=_number(field.jump[0]))


# === Valid receptive field ===


def _select_output(model, outputs, output):
    """The logits named `output` (default LOGITS) among a call's `outputs`."""
    if isinstance(outputs, dict):
        name = LOGITS if output is None else output
        if name not in outputs:
            raise ValueError(
                f"`output` must be one of the model's outputs {sorted(outputs)}, received "
                f"{name!r}."
            )
        return outputs[name]
    names = list(getattr(model, "output_names", None) or [])
    if isinstance(outputs, (list, tuple)):
        if output not in names or len(names) != len(outputs):
            raise ValueError(
                f"`output` must name one of the model's outputs {names}, received {output!r}."
            )
        return outputs[names.index(output)]
    if output is not None and output not in names:
        raise ValueError(
            f"`output` must be None or the name of the model's output {names}, received "
            f"{output!r}."
        )
    return outputs


def _check_index_pair(pixel):
    if (not isinstance(pixel, (tuple, list)) or len(pixel) != 2
            or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in pixel)):
        raise ValueError(f"`pixel` must be a (row, col) pair of integers, received {pixel!r}.")
    return int(pixel[0]), int(pixel[1])


def _extent(gradient, center):
    """Side of the smallest square centred on `center` holding EXTENT_MASS of the mass."""
    weights = gradient.astype(np.float64)
    total = weights.sum()
    if total <= 0:
        return 0
    rows, cols = np.indices(gradient.shape)
    radius = np.maximum(np.abs(rows - center[0]), np.abs(cols - center[1]))
    mass = np.cumsum(np.bincount(radius.ravel(), weights=weights.ravel()))
    r = int(np.searchsorted(mass, EXTENT_MASS * mass[-1]))
    return 2 * r + 1


def valid_receptive_field(model, images, pixel, class_index=None, output=None,
                          threshold=0.01):
    """Valid receptive field of output pixel `pixel`: the input gradient of its score.

    The score is the logit of `class_index` at `pixel` of each image (default: that
    image's predicted class there), cast to float32; its gradient with respect to the
    float32 `images` is taken with `tf.GradientTape` (TensorFlow backend), the model
    called with ``training=False``.

    Args:
        model: a `keras.Model` returning logits N×h×w×C, or a dict of them.
        images: float array N×H×W×C, normalized as the model expects.
        pixel: ``(row, col)`` of the output pixel, in the output's coordinates.
        class_index: the class whose logit is differentiated; None: the predicted one.
        output: name of the output for multi-output models (default
            `keras_lk.models.LOGITS`, ``"logits"``).
        threshold: in [0, 1]; `mask` is where the gradient is at least
            ``threshold × max``.

    Returns:
        `ValidReceptiveField(gradient, mask, extent, center)`. The centre is the input
        pixel holding the output pixel's centre, ``floor((row + 0.5) * H / h)`` (the
        pixel itself when h = H); `extent` is the side ``2r + 1`` of the smallest square
        ``|y - row| <= r, |x - col| <= r`` around it that holds 95% (`EXTENT_MASS`) of
        the gradient's sum.

    Example:
    >>> model = keras_lk.models.GCNSeg(num_classes=3, k=15, backbone="resnet10_narrow")
    >>> result = keras_lk.evaluation.valid_receptive_field(model, images, pixel=(32, 32))
    >>> result.gradient.shape, result.extent
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "`valid_receptive_field` uses tf.GradientTape and needs KERAS_BACKEND="
            f"'tensorflow', running {keras.backend.backend()!r}."
        )
    import tensorflow as tf

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be a batch N×H×W×C (use images[None] for one image), received "
            f"shape {images.shape}."
        )
    row, col = _check_index_pair(pixel)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not (
            0 <= threshold <= 1):
        raise ValueError(f"`threshold` must be a number in [0, 1], received {threshold!r}.")
    if class_index is not None and (isinstance(class_index, bool)
                                    or not isinstance(class_index, numbers.Integral)):
        raise ValueError(f"`class_index` must be None or an integer, received {class_index!r}.")

    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = _select_output(model, model(x, training=False), output)
        if len(logits.shape) != 4:
            raise ValueError(
                f"`model` must return logits N×h×w×C, returned shape {tuple(logits.shape)}."
            )
        height, width, num_classes = logits.shape[1], logits.shape[2], logits.shape[3]
        if not (0 <= row < height and 0 <= col < width):
            raise ValueError(
                f"`pixel` must lie inside the output of size ({height}, {width}), received "
                f"{(row, col)}."
            )
        if class_index is not None and not 0 <= class_index < num_classes:
            raise ValueError(
                f"`class_index` must be in [0, {num_classes}), received {class_index}."
            )
        scores = tf.cast(logits[:, row, col, :], tf.float32)  # the score in float32
        if class_index is None:
            classes = tf.argmax(scores, axis=-1, output_type=tf.int32)
        else:
            classes = tf.fill([tf.shape(scores)[0]], class_index)
        # Images are independent (inference mode), so the sum's gradient is per image.
        score = tf.reduce_sum(tf.gather(scores, classes, axis=1, batch_dims=1))
    grad = tape.gradient(score, x)
    if grad is None:  # the score does not depend on the input
        gradient = np.zeros(images.shape[1:3], np.float32)
    else:
        gradient = np.abs(grad.numpy()).sum(axis=-1).mean(axis=0).astype(np.float32)
    big_h, big_w = images.shape[1:3]
    center = (min(int((row + 0.5) * big_h // height), big_h - 1),
              min(int((col + 0.5) * big_w // width), big_w - 1))
    peak = gradient.max()
    mask = (gradient >= threshold * peak) & (gradient > 0)
    return ValidReceptiveField(gradient=gradient, mask=mask, extent=_extent(gradient, center),
                               center=center)


def _displayable(image):
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    image = image.astype(np.float32)
    low, high = float(image.min()), float(image.max())
    if low < 0 or high > 1:  # normalized inputs: stretch to [0, 1] for display
        image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return image


def plot_valid_receptive_field(image, result, ax=None, title=None):
    """Draws `image` with the gradient map of `result` over it, the output pixel and the
    square of side `result.extent`.

    Args:
        image: H×W×3 (or H×W) image to show: uint8, or float (values outside [0, 1],
            e.g. normalized inputs, are stretched to [0, 1]).
        result: a `ValidReceptiveField` of the same H×W.
        ax: optional matplotlib axes to draw in; default a new `Figure`.
        title: optional axes title; default the extent.

    Returns:
        The `matplotlib.figure.Figure` holding the axes.

    Example:
    >>> figure = keras_lk.evaluation.plot_valid_receptive_field(images[0], result)
    >>> figure.savefig("vrf.png")
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    image = np.asarray(image)
    gradient = result.gradient
    if image.shape[:2] != gradient.shape or image.ndim not in (2, 3):
        raise ValueError(
            f"`image` must be H×W×C or H×W with H×W = {gradient.shape} (the gradient map), "
            f"received shape {image.shape}."
        )
    if ax is None:
        figure = Figure(figsize=(5.0, 4.2))
        ax = figure.add_subplot()
    else:
        figure = ax.figure
    ax.imshow(_displayable(image), cmap="gray" if image.ndim == 2 else None)
    peak = float(gradient.max())
    relative = gradient / peak if peak > 0 else gradient
    overlay = ax.imshow(relative, cmap="inferno", alpha=0.6, vmin=0.0, vmax=1.0)
    row, col = result.center
    ax.plot([col], [row], marker="+", color="cyan", markersize=10)
    if result.extent:
        half = result.extent / 2
        ax.add_patch(Rectangle((col - half, row - half), result.extent, result.extent,
                               fill=False, edgecolor="cyan", linewidth=1.0))
    ax.set_xlim(-0.5, gradient.shape[1] - 0.5)  # the square may pass the image border
    ax.set_ylim(gradient.shape[0] - 0.5, -0.5)
    ax.set_xlabel("column (px)")
    ax.set_ylabel("row (px)")
    ax.set_title(title if title is not None else
                 f"valid receptive field, {EXTENT_MASS:.0%} extent {result.extent} px")
    figure.colorbar(overlay, ax=ax, label="|∂ score / ∂ input| / max")
    return figure
