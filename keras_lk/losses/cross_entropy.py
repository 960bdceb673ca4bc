"""Pixel-wise cross-entropy with an ignore label, and `make_loss`: a loss by name.

The loss weights of a model's outputs (GALD's aux 0.4) belong to the model:
`keras_lk.models.SegmentationModel.compile`.

`SegmentationCrossEntropy` is softmax cross-entropy over integer labels, computed in
float32 whatever the policy, that excludes `ignore_label` pixels from both the sum and
the count: the loss is `Σ_valid CE / #valid` over the (per-replica) batch, as Caffe's
`SoftmaxWithLoss` with `normalize: true` (GCN) and the GALD/FCRN scripts compute it.
An all-ignore batch gives 0, never NaN. A label outside ``0..C-1`` that is not
`ignore_label` (−1, or C for C classes) is an error on the TensorFlow backend
(`tf.errors.InvalidArgumentError` naming the label range), in eager and graph mode.
Under XLA (``jit_compile=True``) TensorFlow drops assertions: such labels then give a
finite, wrong loss, so the training pipelines of `keras_lk.data` check every label
before it reaches the loss.

Under a strategy each replica normalises by its own valid count, so the global loss is
the mean over replicas of per-replica means; it equals the single-device loss when the
replicas hold the same number of valid pixels (always true without ignore pixels).
"""

from __future__ import annotations

import keras
from keras import ops

from keras_lk.losses.log_likelihood import pixel_log_likelihood
from keras_lk.losses.ohem_loss import OHEMLoss
from keras_lk.losses.score_map import check_stride, to_score_map

__all__ = ["LOSSES", "SegmentationCrossEntropy", "make_loss"]

LOSSES = ("cross_entropy", "ohem")


@keras.saving.register_keras_serializable(package="keras_lk")
class SegmentationCrossEntropy(keras.losses.Loss):
    """Pixel-wise softmax cross-entropy from logits, ignoring `ignore_label`.

    Args:
        ignore_label: label excluded from the loss (255 for VOC/Cityscapes).
        stride: read the loss on the score map of this output stride (the logits resized
            to 1/stride, each cell's centre label; `keras_lk.losses.score_map`), as
            FCN/FCRN's Caffe models train; 1 (default): every pixel.
        reduction, name, dtype: as in `keras.losses.Loss`.

    Call arguments:
        y_true: integer labels `(batch, H, W)` or `(batch, H, W, 1)`.
        y_pred: logits `(batch, H, W, num_classes)` (any float dtype).

    Returns:
        The mean CE over the valid pixels of the batch (with the default reduction).
        `call()` returns one value per image, `Σ_image CE · batch / #valid_batch`, so that
        `"sum_over_batch_size"` yields the batch mean over valid pixels.

    Example:
    >>> loss = keras_lk.losses.SegmentationCrossEntropy(ignore_label=255)
    >>> float(loss(np.array([[[0, 255]]]), np.zeros((1, 1, 2, 3))))  # log(3)
    1.0986...
    """

    def __init__(self, ignore_label=255, stride=1, reduction="sum_over_batch_size",
                 name="segmentation_cross_entropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.ignore_label = int(ignore_label)
        self.stride = check_stride(stride)

    def call(self, y_true, y_pred):
        y_true, y_pred = to_score_map(y_true, y_pred, self.stride)
        # Float32 logits: log-softmax in half precision loses the small losses.
        logits = ops.cast(y_pred, "float32")
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == len(logits.shape):
            labels = ops.squeeze(labels, axis=-1)
        valid = ops.not_equal(labels, self.ignore_label)
        labels = _check_labels(labels, valid, logits.shape[-1], self.ignore_label)
        safe = ops.where(valid, labels, ops.zeros_like(labels))
        picked = pixel_log_likelihood(logits, safe)
        weights = ops.cast(valid, "float32")
        per_image = -ops.sum(picked * weights, axis=(1, 2))
        batch = ops.cast(ops.shape(logits)[0], "float32")
        count = ops.maximum(ops.sum(weights), 1.0)
        return per_image * batch / count

    def get_config(self):
        return {"ignore_label": self.ignore_label, "stride": self.stride,
                "reduction": self.reduction, "name": self.name}


def _check_labels(labels, valid, num_classes, ignore_label):
    """`labels` with an assertion that every valid one is in ``[0, num_classes)``
    (TensorFlow backend; other backends return `labels` unchecked)."""
    if keras.backend.backend() != "tensorflow" or num_classes is None:
        return labels
    import tensorflow as tf

    bad = tf.logical_and(valid, tf.logical_or(labels < 0, labels >= num_classes))
    check = tf.debugging.Assert(
        tf.logical_not(tf.reduce_any(bad)),
        [(f"SegmentationCrossEntropy: labels must be in [0, {num_classes - 1}] or the "
         f"ignore label {ignore_label}; found labels from"), tf.reduce_min(labels), "to",
         tf.reduce_max(labels)],
        name="check_labels")
    with tf.control_dependencies([check]):
        return tf.identity(labels)


def make_loss(name="cross_entropy", ignore_label=255, ohem_mode="gald",
              ohem_threshold=0.7, ohem_min_kept=100_000, stride=1):
    """Returns the loss named `name` (`"cross_entropy"` or `"ohem"`, see `OHEMLoss`),
    read on the score map of output stride `stride` (1: every pixel)."""
    if name == "cross_entropy":
        return SegmentationCrossEntropy(ignore_label=ignore_label, stride=stride)
    if name == "ohem":
        return OHEMLoss(mode=ohem_mode, threshold=ohem_threshold, min_kept=ohem_min_kept,
                        ignore_label=ignore_label, stride=stride)
    raise ValueError(f"`loss` must be one of {LOSSES}, received {name!r}.")
