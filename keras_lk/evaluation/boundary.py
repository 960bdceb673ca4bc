"""Boundary vs internal pixel accuracy (GCN Table 5).

GCN (Peng et al., 2017, Sec. 4.1.3 and Table 5) splits the valid pixels of each label
map into a *boundary* region, pixels near an object boundary (distance ≤ 7), and an
*internal* region, the rest, and reports pixel accuracy in each: the large-kernel GCN
module mostly helps internal pixels, Boundary Refinement the boundary ones.

Exact definition used here (`boundary_region`):

- a pixel is "near a boundary" if some pixel within Chebyshev distance ≤ `distance`
  (a (2d+1)×(2d+1) square window) has a *different label*; the void label counts as a
  label of its own, so pixels next to VOC's void band around objects are boundary
  pixels; the image border is not a boundary;
- boundary region = valid (label ≠ `ignore_label`) pixels near a boundary; internal
  region = valid pixels not near one; the two partition the valid pixels;
- accuracy of a region = correctly predicted pixels / pixels of the region, pooled over
  the whole evaluation set (not averaged per image); NaN when the region is empty.
"""

from __future__ import annotations

import numpy as np

from keras_lk.evaluation.confusion import _as_label_pair
from keras_lk.utils.label_maps import label_change_band


def boundary_region(mask: np.ndarray, distance: int = 7, ignore_label: int = 255):
    """Splits pixels into boundary / internal regions as in GCN Table 5.

    Args:
        mask: integer label array H×W or H×W×1 (or a batch N×H×W[×1]).
        distance: a pixel is "boundary" if a pixel with another label (the void band
            counts as its own label) lies within this Chebyshev distance; GCN uses 7.
        ignore_label: pixels with this value are in neither region.

    Returns:
        `(boundary, internal)`: boolean arrays with the shape of `mask`.
    """
    mask = np.asarray(mask)
    squeeze = mask.shape[-1] == 1 and mask.ndim in (3, 4)
    labels = mask[..., 0] if squeeze else mask
    flat = labels.reshape((-1,) + labels.shape[-2:])
    near = np.stack([label_change_band(m, distance) for m in flat]).reshape(labels.shape)
    valid = labels != ignore_label
    boundary, internal = near & valid, ~near & valid
    if squeeze:
        boundary, internal = boundary[..., None], internal[..., None]
    return boundary, internal


def _check_distance(distance):
    if isinstance(distance, bool) or not isinstance(distance, (int, np.integer)) or distance < 0:
        raise ValueError(f"`distance` must be an integer ≥ 0, received {distance!r}.")


def _region_counts(labels, predictions, distance, ignore_label):
    labels, predictions = _as_label_pair(labels, predictions)
    _check_distance(distance)
    boundary, internal = boundary_region(labels, distance=distance, ignore_label=ignore_label)
    correct = labels == predictions
    return np.array(
        [np.sum(correct & boundary), boundary.sum(), np.sum(correct & internal), internal.sum()],
        dtype=np.int64,
    )


def _scores(counts):
    correct_b, total_b, correct_i, total_i = (int(c) for c in counts)
    return {
        "boundary_accuracy": correct_b / total_b if total_b else float("nan"),
        "internal_accuracy": correct_i / total_i if total_i else float("nan"),
        "boundary_pixels": total_b,
        "internal_pixels": total_i,
    }


def boundary_internal_accuracy(labels, predictions, distance=7, ignore_label=255):
    """Pixel accuracy on the boundary and internal regions of GCN Table 5.

    Args:
        labels: integer labels H×W, H×W×1 or a batch N×H×W[×1].
        predictions: predicted class ids of the same shape.
        distance: boundary half-width in pixels (Chebyshev); GCN uses 7.
        ignore_label: label of void pixels, in neither region.

    Returns:
        dict `{"boundary_accuracy", "internal_accuracy", "boundary_pixels",
        "internal_pixels"}`; an accuracy is NaN when its region is empty.

    Example:
    >>> keras_lk.evaluation.boundary_internal_accuracy(labels, logits.argmax(-1))
    {'boundary_accuracy': 0.71, 'internal_accuracy': 0.93, ...}
    """
    return _scores(_region_counts(labels, predictions, distance, ignore_label))


class BoundaryInternalAccuracy:
    """Streaming `boundary_internal_accuracy` over an evaluation set (plain NumPy).

    Args:
        distance: boundary half-width in pixels; GCN uses 7.
        ignore_label: label of void pixels.

    Example:
    >>> accumulator = keras_lk.evaluation.BoundaryInternalAccuracy(distance=7)
    >>> for images, labels in dataset:
    ...     accumulator.update(labels, model.predict(images).argmax(-1))
    >>> accumulator.result()["internal_accuracy"]
    """

    def __init__(self, distance=7, ignore_label=255):
        _check_distance(distance)
        self.distance = int(distance)
        self.ignore_label = ignore_label
        self.reset()

    def reset(self):
        """Forgets all counts."""
        self.counts = np.zeros(4, dtype=np.int64)

    def update(self, labels, predictions):
        """Adds a label map (or batch) and its predicted class ids."""
        self.counts += _region_counts(
            np.asarray(labels), np.asarray(predictions), self.distance, self.ignore_label
        )

    def result(self):
        """The dict of `boundary_internal_accuracy` over everything seen."""
        return _scores(self.counts)
