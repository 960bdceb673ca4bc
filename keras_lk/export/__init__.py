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
- with every re-parameterisable layer merged (`ReparamLargeKernelConv`,
  `DilatedReparamConv`, at any depth: one depth-wise convolution with bias each, as
  RepLKNet and UniRepLKNet deploy them), in a copy: `converters.merged_model`;
- with layers swapped for equal ones that convert: bilinear ``UpSampling2D``
  (Keras 3.15.1's resize cannot be traced with unknown H, W) and `PadToMultiple` (whose
  ``(-size) % m`` tf2onnx converts wrongly): `keras_lk.export.converters`;
- with layers swapped for equal ones that run faster once exported, on the same
  weights: `GlobalConv` as its four plain convolutions (no Transpose nodes) and each ×2
  deconvolution (GCNSeg's decoder) as a 3×3 convolution to four phases plus
  depth-to-space (`phase_kernel`); in ONNX files, each of those as a 2×2 convolution
  (the 3×3 kernel's non-zero window) and a grouped transposed convolution with 0/1
  weights that places the phases, which onnxruntime runs faster than DepthToSpace.
  In ONNX files also: each dilated convolution as one dilated ``Conv`` at any input size
  (`_DilatedConvolution`), and a dilated convolution to few classes (FCRN's classifier)
  as a 1×1 convolution to taps × classes, one shifting ``Pad`` per tap and a ``Sum``.
  The layer rewrites are `keras_lk.export.layer_rewrites`, the ONNX passes
  `keras_lk.export.onnx_passes`, each with its rule. The tests compare every family's
  exported file with the Keras model; `benchmarks/inference.py` measures the speed.

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
import os

import keras

from keras_lk.export.converters import (
    converted_layer,
    float32_model,
    merged_model,
    require_module,
    tf2onnx_without_graph_copies,
)
from keras_lk.export.layer_rewrites import (
    LAYER_REWRITES,
    ONNX_ONLY_REWRITES,
    is_dilated_convolution,
    is_phase_deconvolution,
    phase_kernel,
    rewritten_layer,
    tap_groups,
)
from keras_lk.export.litert import QUANTIZATIONS, litert_quantization
from keras_lk.export.onnx_passes import ONNX_PASSES, is_tap_sum_convolution, rewrite_onnx_file
from keras_lk.layers import GlobalConv
from keras_lk.models.segmentation_model import LOGITS, SegmentationModel

FORMATS = ("saved_model", "onnx", "litert")
# The rewrites of the exported graph that compute the same function faster: the first four
# swap Keras layers (`layer_rewrites`), the last two edit ONNX files (`onnx_passes`).
REWRITES = (*LAYER_REWRITES, *ONNX_PASSES)
INPUT_NAME = "images"
OUTPUT_NAME = LOGITS
_KERAS_FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
# Modules each format's conversion imports (the LiteRT converter is part of TensorFlow).
_CONVERTERS = {"saved_model": (), "onnx": ("tf2onnx", "onnx"), "litert": ()}

__all__ = [
    "FORMATS",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "QUANTIZATIONS",
    "REWRITES",
    "applicable_rewrites",
    "export_model",
    "float32_model",
    "inference_model",
    "load_exported",
    "merged_model",
    "phase_kernel",
    "require_module",
    "tap_groups",
]


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


def _export_layer(layer, rewrites=REWRITES):
    """The layer the exported graph holds in place of `layer`: one that converts
    (`converters.converted_layer`), or one that runs faster under `rewrites`
    (`layer_rewrites.rewritten_layer`), or `layer` itself (the inference model shares
    the model's weights)."""
    swapped = converted_layer(layer)
    if swapped is None:
        swapped = rewritten_layer(layer, rewrites)
    return layer if swapped is None else swapped


def applicable_rewrites(model):
    """The speed rewrites of `REWRITES` that change `model`'s exported graph: GCNSeg's
    GlobalConvs (and their tap groups, for the class counts `tap_groups` splits) and
    deconvolutions; the dilated convolutions of GALDNet's and FCRN's backbones; FCRN's
    classifier on a backbone of ≥ 512 channels (ResNet-18 and up). A model without any of
    these has the same files with or without rewrites."""
    found = set()
    for layer in model.layers:  # the layers `inference_model` swaps
        if isinstance(layer, GlobalConv):
            found.add("global_conv")
            if tap_groups(layer.filters, layer.kernel_size) > 1:
                found.add("tap_groups")
        if is_phase_deconvolution(layer):
            found.update(("deconvolution", "depth_to_space"))
        if is_dilated_convolution(layer):
            found.add("dilated_convolution")
        if (type(layer) is keras.layers.Conv2D and layer.padding == "same"
                and is_tap_sum_convolution(layer.filters, layer.kernel.shape[2],
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
        A float32 `keras.Model` on the weights of `merged_model(float32_model(model))`,
        with GALD's auxiliary head pruned and the layers of `_export_layer` swapped.
    """
    unknown = set(rewrites) - set(REWRITES)
    if unknown:
        raise ValueError(f"`rewrites` must be a subset of {REWRITES}, received "
                         f"{tuple(rewrites)!r}.")
    model = merged_model(float32_model(model))
    logits = SegmentationModel.main_logits(model.output)
    main = keras.Model(model.inputs, {OUTPUT_NAME: logits}, name=f"{model.name}_inference")
    return keras.models.clone_model(
        main, clone_function=lambda layer: _export_layer(layer, tuple(rewrites)))


def export_model(model, path, format="saved_model", input_size=None, batch_size=1,
                 verbose=False, rewrites=REWRITES, quantization=None,
                 representative_images=None, **kwargs):
    """Writes `model`'s main logits as a SavedModel, an ONNX or a LiteRT file, its
    re-parameterisable blocks merged first (`merged_model`) and the speed `rewrites`
    applied (`inference_model`).

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
        model: a `keras_lk.models.SegmentationModel` (GCNSeg, GALDNet, FCRN, SegNeXt),
            float32 or mixed precision, trained unmerged or merged.
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
                         f"FCRN, SegNeXt), received a {type(model).__name__}.")
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
        kwargs = {**litert_quantization(quantization, representative_images, shape),
                  **kwargs}
    import tensorflow as tf

    signature = [tf.TensorSpec(shape, tf.float32, name=INPUT_NAME)]
    layer_rewrites = tuple(name for name in rewrites
                           if format == "onnx" or name not in ONNX_ONLY_REWRITES)
    with tf2onnx_without_graph_copies() if format == "onnx" else contextlib.nullcontext():
        inference_model(model, layer_rewrites).export(
            path, format=_KERAS_FORMATS[format], input_signature=signature, verbose=verbose,
            **kwargs)
    if format == "onnx":
        rewrite_onnx_file(path, rewrites)
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
