"""Test-time inference: multi-scale + flip testing and sliding-window score fusion.

- `predict_multiscale`: GCN / GALD / FCRN evaluate at several scales (e.g. 0.5 to
  1.75) with left-right flips; here each scale's softmax scores are resized back to the
  input size with bilinear interpolation and all (scale, flip) scores are averaged.
- `predict_sliding_window`: large images are cut into overlapping tiles whose softmax
  scores are summed and divided by the number of tiles covering each pixel. GCN on
  Cityscapes: four 1024×1024 crops of a 1024×2048 image, i.e. `tile=1024,
  overlap=2/3` (crop origins 0, 342, 684, 1024); GALD: `tile=769, overlap=1/3`.

Both take a batch N×H×W×3 (or one image H×W×3) of any size, predict it in inference
mode through the model's compiled predict function (`predict_on_batch`, traced once
per input shape: an eager call of a small model is mostly Python dispatch), accept
models whose output is a dict with a `"logits"` entry (e.g. `GALDNet(aux_head=True)`),
and return float32 NumPy probabilities N×H×W×C (H×W×C for a single image). Scores are
averaged after the softmax (probabilities, not logits).
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

from keras_lk.models.segmentation_model import LOGITS


def _as_batch(image):
    image = np.asarray(image)
    if image.ndim == 3:
        return image[None], True
    if image.ndim != 4:
        raise ValueError(
            f"`image` must be H×W×C or a batch N×H×W×C, received shape {image.shape}."
        )
    return image, False


def _probabilities(model, images):
    """Softmax scores of `model` on a batch, as float32 NumPy N×H×W×C (input size)."""
    outputs = model.predict_on_batch(images)
    if isinstance(outputs, dict):
        if LOGITS not in outputs:
            raise ValueError(
                f"`model` returned a dict without a {LOGITS!r} entry, keys: {sorted(outputs)}."
            )
        outputs = outputs[LOGITS]
    if len(outputs.shape) != 4:
        raise ValueError(
            f"`model` must return logits N×H×W×C, returned shape {tuple(outputs.shape)}."
        )
    if tuple(outputs.shape[1:3]) != tuple(images.shape[1:3]):
        raise ValueError(
            f"`model` returned scores of spatial size {tuple(outputs.shape[1:3])} for an input "
            f"of size {images.shape[1:3]}; the inference helpers need full-resolution logits."
        )
    # Softmax in float32 whatever the compute dtype.
    return np.asarray(ops.convert_to_numpy(ops.softmax(ops.cast(outputs, "float32"), axis=-1)))


def _resize(images, size):
    if tuple(images.shape[1:3]) == tuple(size):
        return images
    resized = ops.image.resize(
        ops.convert_to_tensor(images.astype(np.float32)), size, interpolation="bilinear",
        antialias=False,
    )
    return np.asarray(ops.convert_to_numpy(resized))


def _tile_origins(length, tile, stride):
    """Tile origins covering `[0, length)`, the last one flush with the end."""
    if length <= tile:
        return [0]
    count = math.ceil((length - tile) / stride) + 1
    return [min(i * stride, length - tile) for i in range(count)]


def _pair(value, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in value):
        raise ValueError(f"`{name}` must be a positive integer or a pair of them, received "
                         f"{value!r}.")
    return tuple(int(v) for v in value)


def predict_sliding_window(model, image, tile, overlap=1 / 3, num_classes=None):
    """Softmax scores fused over overlapping tiles.

    Tiles of size `tile` start every `stride = ceil(tile * (1 - overlap))` pixels, the
    last tile flush with the bottom / right edge; where the image is smaller than a tile
    it is zero-padded at the bottom / right (zero = the mean of a normalised image) and
    the padding is cropped from the scores. Each pixel's score is the mean of the
    softmax scores of the tiles covering it.

    Args:
        model: a Keras model mapping N×h×w×3 to logits N×h×w×C (or a dict with
            `"logits"`).
        image: H×W×3 image or N×H×W×3 batch, already normalised as the model expects.
        tile: tile size, an int or `(height, width)`: 1024 (GCN, Cityscapes), 769 (GALD).
        overlap: fraction of a tile shared with its neighbour, in [0, 1): GALD 1/3.
        num_classes: expected number of classes; checked against the model if given.

    Returns:
        float32 NumPy probabilities N×H×W×C (H×W×C for a single image).

    Example:
    >>> probs = keras_lk.evaluation.predict_sliding_window(model, image, tile=769)
    >>> labels = probs.argmax(-1)
    """
    tile_h, tile_w = _pair(tile, "tile")
    if not 0 <= overlap < 1:
        raise ValueError(f"`overlap` must be in [0, 1), received {overlap}.")
    images, single = _as_batch(image)
    n, height, width = images.shape[:3]
    padded_h, padded_w = max(height, tile_h), max(width, tile_w)
    if (padded_h, padded_w) != (height, width):
        images = np.pad(images, ((0, 0), (0, padded_h - height), (0, padded_w - width), (0, 0)))
    stride_h = max(1, math.ceil(tile_h * (1 - overlap)))
    stride_w = max(1, math.ceil(tile_w * (1 - overlap)))
    total = None
    coverage = np.zeros((padded_h, padded_w, 1), np.float32)
    for top in _tile_origins(padded_h, tile_h, stride_h):
        for left in _tile_origins(padded_w, tile_w, stride_w):
            crop = images[:, top : top + tile_h, left : left + tile_w]
            probs = _probabilities(model, crop)
            if total is None:
                classes = probs.shape[-1]
                if num_classes is not None and classes != num_classes:
                    raise ValueError(
                        f"`model` returned {classes} classes, `num_classes` is {num_classes}."
                    )
                total = np.zeros((n, padded_h, padded_w, classes), np.float32)
            total[:, top : top + tile_h, left : left + tile_w] += probs
            coverage[top : top + tile_h, left : left + tile_w] += 1.0
    fused = (total / coverage)[:, :height, :width]
    return fused[0] if single else fused


def predict_multiscale(model, image, scales=(1.0,), flip=False, tile=None, overlap=1 / 3):
    """Softmax scores averaged over input scales and (optionally) left-right flips.

    For each scale `s` the batch is resized (bilinear) to `round(s·H)×round(s·W)`,
    predicted (whole image, or with `predict_sliding_window` when `tile` is given), and
    its softmax scores resized back to H×W; with `flip=True` the mirrored image is
    predicted too and its scores mirrored back. The result is the plain mean of the
    `len(scales) × (2 if flip else 1)` score maps.

    Args:
        model: a Keras model mapping N×h×w×3 to full-resolution logits N×h×w×C (or a
            dict with `"logits"`).
        image: H×W×3 image or N×H×W×3 batch, normalised as the model expects.
        scales: input scales, e.g. `(0.5, 0.75, 1.0, 1.25, 1.5, 1.75)`.
        flip: also average the left-right flipped prediction.
        tile: None for whole-image inference, else the sliding-window tile size at each
            scale.
        overlap: sliding-window overlap (used with `tile`).

    Returns:
        float32 NumPy probabilities N×H×W×C (H×W×C for a single image).

    Example:
    >>> probs = keras_lk.evaluation.predict_multiscale(
    ...     model, image, scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75), flip=True)
    """
    scales = tuple(scales)
    if not scales or any(not np.isfinite(s) or s <= 0 for s in scales):
        raise ValueError(f"`scales` must be a non-empty list of positive numbers, received "
                         f"{scales!r}.")
    images, single = _as_batch(image)
    height, width = images.shape[1:3]
    images = images.astype(np.float32)

    def predict(batch):
        if tile is not None:
            return predict_sliding_window(model, batch, tile, overlap)
        probs = _probabilities(model, batch)
        return probs

    total = None
    for scale in scales:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        scaled = _resize(images, size)
        views = [predict(scaled)]
        if flip:
            views.append(predict(scaled[:, :, ::-1])[:, :, ::-1])
        for probs in views:
            probs = _resize(probs, (height, width))
            total = probs if total is None else total + probs
    mean = total / (len(scales) * (2 if flip else 1))
    return mean[0] if single else mean
