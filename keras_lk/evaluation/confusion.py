"""Confusion matrix and the FCN / FCRN segmentation scores derived from it.

FCRN (like FCN) reports pixel accuracy, mean class accuracy and mean IoU; GCN and GALD
report mean IoU. All of them come from one `num_classes`×`num_classes` confusion matrix
accumulated over the whole evaluation set (not averaged per image):

- rows are ground-truth classes, columns predicted classes; pixels whose label is
  `ignore_label` are not counted;
- IoU of class c = TP / (TP + FP + FN); a class that appears neither in the labels nor
  in the predictions has IoU NaN and is left out of the mean IoU (a class that is only
  predicted has IoU 0 and counts);
- class accuracy of c = TP / (number of pixels labelled c); NaN and left out of the mean
  when c has no labelled pixel;
- pixel accuracy = trace / total.

`confusion_matrix` and `scores_from_confusion` are plain NumPy (any loop, any backend);
`SegmentationMetrics` is the same computation as a streaming `keras.metrics.Metric`.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def _check_num_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"`num_classes` must be an integer ≥ 2, received {num_classes!r}.")
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be an integer ≥ 2, received {num_classes}.")


def _squeeze_channel(array, name):
    """Drops a trailing size-1 channel axis (H×W×1, N×H×W×1) so labels are H×W / N×H×W."""
    if array.ndim in (3, 4) and array.shape[-1] == 1:
        return array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(
            f"`{name}` must be integer labels of shape H×W, H×W×1, N×H×W or N×H×W×1, "
            f"received shape {array.shape}."
        )
    return array


def _as_label_pair(labels, predictions):
    """Both as integer arrays of one shape; errors name the input and the shapes."""
    labels = _as_labels(labels, "labels")
    predictions = _as_labels(predictions, "predictions")
    if labels.shape != predictions.shape:
        raise ValueError(
            f"`labels` and `predictions` must have the same shape, received "
            f"{labels.shape} and {predictions.shape}; resize predictions to the label size."
        )
    return labels, predictions


def _as_labels(array, name):
    array = np.asarray(array)
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
        raise TypeError(
            f"`{name}` must hold integer class ids, received dtype {array.dtype}; "
            "take the argmax of score maps first."
        )
    return _squeeze_channel(array, name)


def confusion_matrix(labels, predictions, num_classes, ignore_label=255):
    """Confusion matrix of integer label maps, ignoring `ignore_label` pixels.

    Args:
        labels: ground truth, integer array H×W, H×W×1, N×H×W or N×H×W×1; values in
            `[0, num_classes)` or `ignore_label`.
        predictions: predicted class ids with the same shape as `labels` (a trailing
            size-1 axis on either side is dropped); values in `[0, num_classes)`.
        num_classes: number of classes.
        ignore_label: label value excluded from the counts (255 on VOC and Cityscapes);
            `None` counts every pixel.

    Returns:
        int64 array `num_classes`×`num_classes`; entry `[t, p]` counts pixels labelled
        `t` and predicted `p`.

    Raises:
        ValueError / TypeError: on non-integer inputs, mismatched shapes, or values
            outside `[0, num_classes)` (the message names the input and the bad values).

    Example:
    >>> keras_lk.evaluation.confusion_matrix([[0, 1], [1, 255]], [[0, 1], [0, 1]], 2)
    array([[1, 0],
           [1, 1]])
    """
    _check_num_classes(num_classes)
    labels, predictions = _as_label_pair(labels, predictions)
    labels = labels.astype(np.int64).ravel()
    predictions = predictions.astype(np.int64).ravel()
    valid = np.ones(labels.shape, bool) if ignore_label is None else labels != ignore_label
    labels, predictions = labels[valid], predictions[valid]
    for name, values in (("labels", labels), ("predictions", predictions)):
        bad = (values < 0) | (values >= num_classes)
        if bad.any():
            extra = "" if ignore_label is None or name == "predictions" else (
                f" or ignore_label={ignore_label}")
            raise ValueError(
                f"`{name}` values must be in [0, {num_classes}){extra}, received "
                f"{bad.sum()} pixels with values {np.unique(values[bad])[:10].tolist()}."
            )
    counts = np.bincount(labels * num_classes + predictions, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def scores_from_confusion(confusion):
    """Segmentation scores of a confusion matrix (rows: truth, columns: prediction).

    Args:
        confusion: square array `C`×`C` of pixel counts, e.g. from `confusion_matrix`.

    Returns:
        dict with
        - `"iou"`: float64 array (C,), NaN for classes absent from labels and predictions;
        - `"mean_iou"`: mean of the non-NaN IoUs (NaN if there is none);
        - `"class_accuracy"`: float64 array (C,), recall per class, NaN for classes
          without labelled pixels;
        - `"mean_class_accuracy"`: mean of the non-NaN class accuracies;
        - `"pixel_accuracy"`: correctly classified pixels / counted pixels;
        - `"frequency_weighted_iou"`: IoU averaged with the label frequencies (FCN);
        - `"num_pixels"`: number of counted pixels.
        Means over an empty set (no counted pixel) are NaN.

    Example:
    >>> scores = keras_lk.evaluation.scores_from_confusion([[3, 1], [0, 0]])
    >>> scores["iou"], scores["mean_iou"]
    (array([0.75, 0.  ]), 0.375)
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"`confusion` must be a square matrix, received shape {confusion.shape}.")
    if (confusion < 0).any():
        raise ValueError("`confusion` must hold non-negative counts.")
    true_positive = np.diag(confusion)
    label_count = confusion.sum(axis=1)
    predicted_count = confusion.sum(axis=0)
    union = label_count + predicted_count - true_positive
    total = confusion.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, true_positive / union, np.nan)
        class_accuracy = np.where(label_count > 0, true_positive / label_count, np.nan)
        pixel_accuracy = true_positive.sum() / total if total > 0 else np.nan
        present = label_count > 0
        frequency_weighted = (
            float(np.sum(label_count[present] * iou[present]) / total) if total > 0 else np.nan
        )

    def nanmean(values):
        values = values[~np.isnan(values)]
        return float(values.mean()) if values.size else float("nan")

    return {
        "iou": iou,
        "mean_iou": nanmean(iou),
        "class_accuracy": class_accuracy,
        "mean_class_accuracy": nanmean(class_accuracy),
        "pixel_accuracy": float(pixel_accuracy),
        "frequency_weighted_iou": frequency_weighted,
        "num_pixels": int(total),
    }


def _count_dtype():
    """int64 pixel counters; int32 on JAX without x64 (overflows past 2**31 per cell)."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            return "int32"
    return "int64"


def _concrete_numpy(x):
    """The value of `x` as NumPy in eager execution, None inside a traced function."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            return None
    elif backend == "jax":
        import jax

        if isinstance(x, jax.core.Tracer):
            return None
    return np.asarray(ops.convert_to_numpy(x))


@keras.saving.register_keras_serializable(package="keras_lk")
class SegmentationMetrics(keras.metrics.Metric):
    """Streaming confusion matrix with mean IoU, pixel accuracy and mean class accuracy.

    Accumulates `confusion_matrix` over batches (see the module docstring for the exact
    definitions and how absent classes are handled), in `model.compile(metrics=...)`,
    `model.evaluate` or a plain loop. `y_pred` may be class ids (same shape as `y_true`)
    or scores / logits with a trailing class axis (argmax taken). Pixels labelled
    `ignore_label` are not counted. Labels outside `[0, num_classes)` raise a
    `ValueError` in eager code; inside a compiled function they are counted apart and
    `scores()` raises.

    Args:
        num_classes: number of classes.
        ignore_label: label excluded from the counts (None: count all pixels).
        name: metric name.
        dtype: dtype of the reported scores (the counts are int64; int32 on JAX unless
            `jax_enable_x64` is set).

    Call arguments (`update_state`):
        y_true: labels N×H×W or N×H×W×1.
        y_pred: class ids N×H×W[×1] or scores N×H×W×`num_classes`.
        sample_weight: not supported (must be None).

    Returns:
        `result()`: dict of scalars `{"mean_iou", "pixel_accuracy",
        "mean_class_accuracy"}` (Keras logs them under these names);
        `scores()`: the full `scores_from_confusion` dict incl. per-class IoU;
        `confusion()`: the int64 matrix as NumPy.

    Example:
    >>> model.compile("adam", loss, metrics=[keras_lk.evaluation.SegmentationMetrics(21)])
    >>> metric = keras_lk.evaluation.SegmentationMetrics(21)
    >>> for images, labels in dataset:
    ...     metric.update_state(labels, model(images, training=False))
    >>> metric.scores()["iou"]

    Reference:
        Long et al., "Fully Convolutional Networks for Semantic Segmentation", CVPR 2015
        (the four scores); FCRN, GCN and GALD report them.
    """

    def __init__(self, num_classes, ignore_label=255, name="segmentation_metrics", dtype=None,
                 **kwargs):
        _check_num_classes(num_classes)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.num_classes = int(num_classes)
        self.ignore_label = ignore_label
        # Slot num_classes**2 holds ignored pixels, the next one out-of-range labels.
        self.counts = self.add_variable(
            shape=(self.num_classes**2 + 2,),
            initializer="zeros",
            dtype=_count_dtype(),
            aggregation="sum",
            name="counts",
        )

    def _labels(self, y_true, y_pred):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if len(y_true.shape) == 4 and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        if len(y_true.shape) != 3:
            raise ValueError(
                f"`y_true` must be labels N×H×W or N×H×W×1, received shape {y_true.shape}."
            )
        if len(y_pred.shape) == 4 and y_pred.shape[-1] == 1:
            y_pred = y_pred[..., 0]
        if len(y_pred.shape) == 4:
            if y_pred.shape[-1] is not None and y_pred.shape[-1] != self.num_classes:
                raise ValueError(
                    f"`y_pred` scores must have num_classes={self.num_classes} channels, "
                    f"received shape {y_pred.shape}."
                )
            y_pred = ops.argmax(y_pred, axis=-1)
        elif "float" in str(y_pred.dtype):
            raise TypeError(
                f"`y_pred` of shape {y_pred.shape} must be integer class ids or scores "
                f"N×H×W×{self.num_classes}, received dtype {y_pred.dtype}."
            )
        if len(y_pred.shape) != 3:
            raise ValueError(
                f"`y_pred` must be N×H×W class ids or N×H×W×C scores, received shape "
                f"{y_pred.shape}."
            )
        for axis in range(3):
            a, b = y_true.shape[axis], y_pred.shape[axis]
            if a is not None and b is not None and a != b:
                raise ValueError(
                    f"`y_true` and `y_pred` must agree in N×H×W, received {y_true.shape} and "
                    f"{y_pred.shape}; resize the logits to the label size."
                )
        return ops.cast(y_true, "int32"), ops.cast(y_pred, "int32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("`SegmentationMetrics` does not support `sample_weight`.")
        y_true, y_pred = self._labels(y_true, y_pred)
        n = self.num_classes
        y_true = ops.reshape(y_true, (-1,))
        y_pred = ops.reshape(y_pred, (-1,))
        in_range = (y_true >= 0) & (y_true < n)
        ignored = y_true == self.ignore_label if self.ignore_label is not None else ops.zeros_like(
            in_range)
        out_of_range = ~in_range & ~ignored
        eager_bad = _concrete_numpy(out_of_range)
        if eager_bad is not None and eager_bad.any():
            values = np.unique(ops.convert_to_numpy(y_true)[eager_bad])[:10].tolist()
            extra = "" if self.ignore_label is None else f" or ignore_label={self.ignore_label}"
            raise ValueError(
                f"`y_true` values must be in [0, {n}){extra}, received {int(eager_bad.sum())} "
                f"pixels with values {values}."
            )
        index = ops.where(in_range, y_true * n + ops.clip(y_pred, 0, n - 1), n * n)
        index = ops.where(out_of_range, n * n + 1, index)
        counts = ops.segment_sum(
            ops.ones_like(index), index, num_segments=n * n + 2, sorted=False
        )
        self.counts.assign_add(ops.cast(counts, self.counts.dtype))

    def result(self):
        n = self.num_classes
        confusion = ops.cast(ops.reshape(self.counts[: n * n], (n, n)), "float32")
        true_positive = ops.diagonal(confusion)
        label_count = ops.sum(confusion, axis=1)
        union = label_count + ops.sum(confusion, axis=0) - true_positive
        present = ops.cast(union > 0, "float32")
        labelled = ops.cast(label_count > 0, "float32")
        iou = true_positive / ops.maximum(union, 1.0)
        accuracy = true_positive / ops.maximum(label_count, 1.0)
        # 0 / 0 = NaN when nothing was counted, as in scores_from_confusion.
        scores = {
            "mean_iou": ops.sum(iou * present) / ops.sum(present),
            "pixel_accuracy": ops.sum(true_positive) / ops.sum(confusion),
            "mean_class_accuracy": ops.sum(accuracy * labelled) / ops.sum(labelled),
        }
        return {key: ops.cast(value, self.dtype) for key, value in scores.items()}

    def confusion(self):
        """The accumulated confusion matrix, int64 NumPy `num_classes`×`num_classes`."""
        n = self.num_classes
        return np.asarray(self.counts.numpy(), np.int64)[: n * n].reshape(n, n)

    def scores(self):
        """`scores_from_confusion` of the accumulated matrix (per-class IoU included)."""
        invalid = int(self.counts.numpy()[-1])
        if invalid:
            raise ValueError(
                f"`y_true` contained {invalid} pixels with labels outside "
                f"[0, {self.num_classes}) and not ignore_label={self.ignore_label}."
            )
        return scores_from_confusion(self.confusion())

    def reset_state(self):
        self.counts.assign(ops.zeros(self.counts.shape, self.counts.dtype))

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "ignore_label": self.ignore_label,
            "name": self.name,
            "dtype": self.dtype,
        }
