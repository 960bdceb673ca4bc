"""`SegmentationMeanIoU`: `keras.metrics.MeanIoU` of integer labels against logits,
ignoring a label, with its confusion matrix counted by one bincount per batch.

Keras's `MeanIoU` builds each batch's confusion matrix from masks, casts and a scatter
over (label, prediction) pairs; on a CPU-scale training step of keras_lk (16 images of
128², 6 classes) that made the metric a noticeable share of the step
(`benchmarks/cpu_scale_breakdown.py`). Counting the cells ``label · C + prediction``
with one bincount gives the same integer matrix, so the same mIoU, at a fraction of
the cost.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_lk.layers._validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_lk")
class SegmentationMeanIoU(keras.metrics.MeanIoU):
    """Mean IoU over `num_classes` of integer labels against per-pixel scores.

    The value of ``keras.metrics.MeanIoU(num_classes, ignore_class=ignore_label,
    sparse_y_true=True, sparse_y_pred=False)``: pixels labelled `ignore_label`, or with
    a label outside ``[0, num_classes)``, are left out; the prediction is the argmax of
    the scores; the confusion matrix accumulates over batches until `reset_state`. With
    the TensorFlow backend and no sample weights a batch's matrix is one bincount of
    ``label · num_classes + prediction``; otherwise (JAX, whose bincount cannot be
    traced, or sample weights) Keras's own update counts it.

    Args:
        num_classes: the number of classes.
        ignore_label: the label left out (None: none), 255 for VOC and Cityscapes.
        name, dtype: as in `keras.metrics.MeanIoU`.

    Call arguments:
        y_true: integer labels `(batch, H, W)` or `(batch, H, W, 1)`.
        y_pred: logits or probabilities `(batch, H, W, num_classes)`.
        sample_weight: optional per-pixel weights (Keras's update).

    Example:
    >>> metric = keras_lk.metrics.SegmentationMeanIoU(3, ignore_label=255)
    >>> metric.update_state(np.array([[[0, 1, 255]]]), np.eye(3)[None, None])
    >>> round(float(metric.result()), 6)  # classes 0 and 1 right; 2 nowhere
    1.0
    """

    def __init__(self, num_classes, ignore_label=255, name="miou", dtype=None):
        check_positive_int("num_classes", num_classes)
        if ignore_label is not None and (isinstance(ignore_label, bool)
                                         or not isinstance(ignore_label, int)):
            raise ValueError(f"`ignore_label` must be an integer or None, received "
                             f"{ignore_label!r}")
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_label,
                         sparse_y_true=True, sparse_y_pred=False)
        self.ignore_label = ignore_label

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None or keras.backend.backend() != "tensorflow":
            return super().update_state(y_true, y_pred, sample_weight)
        classes = self.num_classes
        labels = ops.reshape(ops.cast(y_true, "int32"), [-1])
        predictions = ops.reshape(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), [-1])
        counted = ops.logical_and(labels >= 0, labels < classes)
        if self.ignore_label is not None:
            counted = ops.logical_and(counted, labels != self.ignore_label)
        # Pixels not counted go to one spare bin past the matrix, dropped below.
        cells = ops.where(counted, labels * classes + predictions, classes * classes)
        counts = _bincount(cells, classes * classes + 1)[: classes * classes]
        matrix = ops.cast(ops.reshape(counts, (classes, classes)), self.dtype)
        return self.total_cm.assign(self.total_cm + matrix)

    def get_config(self):
        return {"num_classes": self.num_classes, "ignore_label": self.ignore_label,
                "name": self.name, "dtype": self.dtype}


def _bincount(values, size):
    """Counts of each of ``0 .. size - 1`` in the int32 vector `values` (all in range):
    TensorFlow's bincount with the static size XLA needs (`tf.math.bincount` derives
    the size from the values)."""
    import tensorflow as tf

    return tf.raw_ops.DenseBincount(input=values, size=size, weights=tf.zeros([0], "int32"))
