"""What the converters need: a float32 graph, and Keras layers that they trace or
convert wrongly swapped for equal ones that they convert.

tf2onnx and the LiteRT converter need float32 graphs (`float32_model`); Keras 3.15.1's
bilinear ``UpSampling2D`` cannot be traced at unknown H, W, and tf2onnx 1.17 converts
`PadToMultiple`'s ``(-size) % m`` wrongly, and has no ONNX op for the Erfc of
TensorFlow's exact GELU (MSCAN's; `converted_layer` swaps all three); tf2onnx copies
the whole graph before each optimizer pass unless told not to
(`tf2onnx_without_graph_copies`).
"""

from __future__ import annotations

import contextlib
import importlib
import os

import keras

from keras_lk.layers import PadToMultiple
from keras_lk.layers.activations import erf_gelu
from keras_lk.utils.sublayers import all_layers


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


class DynamicBilinearUpSampling2D(keras.layers.UpSampling2D):
    """Bilinear `UpSampling2D` that traces with unknown H, W: Keras 3.15.1's
    `ops.image.resize` tests ``size[0] <= 0`` in Python, which fails on the symbolic sizes
    of a dynamic-shape trace (keras-team/keras#23315, fixed after 3.15.1). The op is the
    one Keras's TensorFlow backend runs: ``tf.image.resize(..., "bilinear")``."""

    def call(self, inputs):
        import tensorflow as tf

        shape = tf.shape(inputs)
        size = (shape[1] * self.size[0], shape[2] * self.size[1])
        return tf.image.resize(inputs, size, method="bilinear")


class NonNegativePadToMultiple(PadToMultiple):
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


class ErfGelu(keras.layers.Layer):
    """The exact GELU, ``0.5 · x · (1 + erf(x / √2))``, written with Erf: TensorFlow
    computes ``keras.activations.gelu`` as ``0.5 · x · erfc(−x / √2)``, and tf2onnx 1.17
    has no ONNX op for Erfc (the file does not load: "No Op registered for Erfc"); ONNX
    has Erf. The same function to float32 rounding."""

    def call(self, inputs):
        return erf_gelu(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


def unmerged_reparam_layers(model):
    """The re-parameterisable layers of `model`, at any depth (`ReparamLargeKernelConv`,
    `DilatedReparamConv`, also inside a `ContextHead`), that are not merged yet."""
    from keras_lk.layers._reparam import ReparamDepthwiseConv

    return [layer for layer in all_layers(model)
            if isinstance(layer, ReparamDepthwiseConv) and not layer.merged]


def merged_model(model):
    """`model` itself if it holds no unmerged re-parameterisable layer, else a copy —
    rebuilt from its config, its weights copied — in which each one is merged into one
    depth-wise convolution with bias (`merge()`): the function `model` computes in
    inference mode, to float32 rounding, as the papers deploy them.

    Args:
        model: a `keras_lk.models.SegmentationModel`.

    Returns:
        A model of the same class without an unmerged re-parameterisable layer.
    """
    if not unmerged_reparam_layers(model):
        return model
    rebuilt = type(model).from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    for layer in unmerged_reparam_layers(rebuilt):
        layer.merge()
    return rebuilt


def converted_layer(layer):
    """The layer that converts in place of `layer`, or None where `layer` converts as
    it is."""
    if (type(layer) is keras.layers.UpSampling2D and layer.interpolation == "bilinear"
            and layer.data_format == "channels_last"):
        return DynamicBilinearUpSampling2D.from_config(layer.get_config())
    if type(layer) is PadToMultiple:
        return NonNegativePadToMultiple.from_config(layer.get_config())
    if type(layer) is keras.layers.Activation and layer.get_config()["activation"] == "gelu":
        return ErfGelu(name=layer.name, dtype=layer.dtype_policy)
    return None


@contextlib.contextmanager
def tf2onnx_without_graph_copies():
    """Converts without tf2onnx 1.17's copy of the whole graph before each optimizer pass
    (made so that a failing pass can be skipped): each copy grows the process, and
    exporting GALDNet-R50 at 512² took about twice the memory with them
    (benchmarks/README.md). tf2onnx stops copying whenever ``TF2ONNX_CATCH_ERRORS`` is
    set: it compares the variable's name, not its value, with "TRUE". A failing pass then
    raises instead of being skipped."""
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
