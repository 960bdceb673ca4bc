"""LiteRT post-training quantization: the converter options of each `QUANTIZATIONS`."""

from __future__ import annotations

QUANTIZATIONS = (None, "dynamic", "int8")


def litert_quantization(quantization, representative_images, shape):
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
