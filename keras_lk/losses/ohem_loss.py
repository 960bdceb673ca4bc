"""Online hard-pixel bootstrapping (OHEM) cross-entropy for segmentation.

Two published semantics:
- FCRN: Wu, Shen, van den Hengel, "High-performance Semantic Segmentation Using
  Very Deep Fully Convolutional Networks" (2016), Sec. 3.3, Eq. (1), Table 4.
- GALD-Net: Li et al., "Global Aggregation then Local Distribution in Fully
  Convolutional Networks" (2019), Sec. 3.3 and its public training scripts.
"""

import keras
from keras import ops

from keras_lk.layers._validation import check_choice, check_positive_int
from keras_lk.losses.log_likelihood import pixel_log_likelihood
from keras_lk.losses.score_map import check_stride, to_score_map

MODES = ("fcrn", "gald")


@keras.saving.register_keras_serializable(package="keras_lk")
class OHEMLoss(keras.losses.Loss):
    """Cross-entropy over the hard pixels only, for logits and integer labels.

    Let p be the softmax probability of a pixel's true class, computed in
    float32 whatever the policy. Pixels labelled `ignore_label` never count.
    Let p_K be the `min_kept`-th smallest p among the valid pixels of a
    selection group (+inf when the group has fewer than `min_kept` valid
    pixels, so that then every valid pixel is kept). A valid pixel is kept when

    - `mode="fcrn"`: p < `threshold` or p <= p_K. FCRN's rule "keep p < t,
      raising t so that at least K pixels are kept": the pixels under the
      threshold, topped up with the K hardest. With `threshold=0` it keeps
      exactly the K hardest (FCRN Table 4: K = 256, 512, 1024; best 512).
    - `mode="gald"`: p <= max(`threshold`, p_K), the GALD-Net rule
      (threshold 0.7, min_kept 100,000 in its scripts).

    Ties at p_K are all kept, so at least `min_kept` pixels are kept (or every
    valid one). The loss is the mean cross-entropy over the kept pixels of the
    batch; with no kept pixel (an all-ignore batch) it is 0, never NaN. When
    every valid pixel is kept it equals plain cross-entropy averaged over the
    valid pixels.

    **What `min_kept` counts.** With `per_image=True` (default) the selection
    group is each image: at least `min_kept` pixels are kept in every image,
    which is what both papers did (one crop per GPU), and the result does not
    change when a batch is split across replicas. With `per_image=False` the
    group is the whole (per-replica) batch, as in mmsegmentation-style losses
    (which additionally scale `min_kept` by the batch size: pass the scaled
    value yourself).

    Shapes are static (a `top_k` of static size `min_kept` over the pixels
    padded with `min_kept` sentinels, and masks; no boolean indexing), so the
    loss runs under `jit_compile=True`, `tf.distribute` and mixed precision.
    `call()` returns one value per image whose batch mean is the loss, so the
    default reduction `"sum_over_batch_size"` gives the value above;
    `sample_weight`, if given, weighs those per-image values.

    Args:
        mode: `"fcrn"` or `"gald"`, the selection rule above.
        threshold: float in [0, 1], the probability threshold t.
        min_kept: int >= 1, the K (FCRN) / min_kept (GALD) above.
        per_image: bool, whether `min_kept` counts per image (True) or per
            batch (False).
        ignore_label: int, label of pixels excluded from the loss (255 in
            VOC/Cityscapes), or None.
        stride: int >= 1, read the loss and its selection on the score map of this
            output stride (the logits resized to 1/stride, each cell's centre label;
            `keras_lk.losses.score_map`), so that `min_kept` counts score-map pixels as
            FCRN's K does; 1 (default): every pixel.
        check_labels: bool, on the TensorFlow backend raise
            `InvalidArgumentError` when a label is outside
            [0, num_classes) and is not `ignore_label` (such a label has no
            probability and would make the loss meaningless). XLA
            (`jit_compile=True`) drops the assertion and other backends skip
            it: validate labels in the input pipeline too.
        reduction, name, dtype: as in `keras.losses.Loss`.

    Call arguments:
        y_true: int tensor `(batch, height, width)` or `(batch, height, width, 1)`.
        y_pred: float logits `(batch, height, width, num_classes)`.
        sample_weight: optional `(batch,)` weights of the per-image values.

    Returns:
        Scalar loss (float32 by default).

    Example:
    >>> loss = keras_lk.losses.OHEMLoss(mode="fcrn", threshold=0.0, min_kept=512)
    >>> model.compile(optimizer="sgd", loss=loss)

    Reference:
        Wu et al., "High-performance Semantic Segmentation Using Very Deep
        Fully Convolutional Networks", 2016, Sec. 3.3. Li et al., "Global Aggregation then Local
        Distribution in Fully Convolutional Networks", BMVC 2019, Sec. 3.3.
    """

    def __init__(
        self,
        mode="fcrn",
        threshold=0.7,
        min_kept=512,
        per_image=True,
        ignore_label=255,
        check_labels=True,
        stride=1,
        reduction="sum_over_batch_size",
        name="ohem_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        check_choice("mode", mode, MODES)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not (
            0.0 <= threshold <= 1.0
        ):
            raise ValueError(f"`threshold` must be a number in [0, 1], received {threshold!r}.")
        check_positive_int("min_kept", min_kept)
        if ignore_label is not None and (
            isinstance(ignore_label, bool) or not isinstance(ignore_label, int)
        ):
            raise ValueError(f"`ignore_label` must be an integer or None, received {ignore_label!r}.")
        self.mode = mode
        self.threshold = float(threshold)
        self.min_kept = min_kept
        self.per_image = per_image
        self.ignore_label = ignore_label
        self.check_labels = check_labels
        self.stride = check_stride(stride)

    def call(self, y_true, y_pred):
        cross_entropy, kept = self._cross_entropy_and_kept(y_true, y_pred)
        batch = ops.shape(kept)[0]
        kept = ops.cast(ops.reshape(kept, (batch, -1)), "float32")
        per_image_sum = ops.sum(kept * ops.reshape(cross_entropy, (batch, -1)), axis=-1)
        total_kept = ops.maximum(ops.sum(kept), 1.0)
        # Per-image values whose batch mean is sum(kept CE) / number kept.
        return per_image_sum * ops.cast(batch, "float32") / total_kept

    def kept_pixels(self, y_true, y_pred):
        """The pixels this loss averages over, for the same arguments as the loss.

        Args:
            y_true: int labels `(batch, height, width)` or `(batch, height, width, 1)`.
            y_pred: float logits `(batch, height, width, num_classes)`.

        Returns:
            Bool tensor `(batch, height / stride, width / stride)`: True where a pixel is
            kept (valid and hard by the rule of `mode`); the loss is the mean
            cross-entropy over them.

        Example:
        >>> kept = OHEMLoss(mode="fcrn", threshold=0.0, min_kept=512).kept_pixels(
        ...     labels, logits)  # exactly the 512 hardest pixels of each image
        """
        return self._cross_entropy_and_kept(y_true, y_pred)[1]

    def _cross_entropy_and_kept(self, y_true, y_pred):
        """Per-pixel cross-entropy (float32) and the bool kept mask, both (batch, H, W)."""
        if len(y_pred.shape) != 4:
            raise ValueError(
                "`y_pred` must be logits of rank 4 (batch, height, width, classes), received "
                f"shape {tuple(y_pred.shape)}."
            )
        rank = len(y_true.shape)
        if rank not in (3, 4) or (rank == 4 and y_true.shape[-1] not in (1, None)):
            raise ValueError(
                "`y_true` must be integer labels (batch, height, width) or "
                f"(batch, height, width, 1), received shape {tuple(y_true.shape)}."
            )
        if rank == 4:
            y_true = ops.squeeze(y_true, axis=-1)
        y_true, y_pred = to_score_map(y_true, y_pred, self.stride)
        num_classes = y_pred.shape[-1]
        labels = ops.cast(y_true, "int32")
        # Softmax and logs in float32: bf16/fp16 logits lose the small probabilities.
        logits = ops.cast(y_pred, "float32")
        if self.ignore_label is None:
            valid = ops.ones_like(labels, dtype="bool")
        else:
            valid = ops.not_equal(labels, self.ignore_label)
        if self.check_labels:
            _assert_labels_in_range(labels, valid, num_classes)
        safe_labels = ops.where(valid, labels, 0)

        true_log_prob = pixel_log_likelihood(logits, safe_labels)
        prob = ops.exp(true_log_prob)

        groups = ops.shape(labels)[0] if self.per_image else 1
        kept = self._kept_mask(ops.reshape(prob, (groups, -1)),
                               ops.reshape(valid, (groups, -1)))
        return -true_log_prob, ops.reshape(kept, ops.shape(labels))

    def _kept_mask(self, prob, valid):
        """prob, valid: (groups, pixels). Returns the bool mask of kept pixels."""
        k = self.min_kept
        # Invalid pixels and `k` sentinels sort after every probability (<= 1),
        # so top_k has a static size and p_K is 2 when fewer than k are valid.
        ranked = ops.where(valid, prob, 2.0)
        ranked = ops.concatenate([ranked, ops.full((ops.shape(prob)[0], k), 2.0)], axis=-1)
        neg_smallest, _ = ops.top_k(-ranked, k=k, sorted=True)
        p_k = -neg_smallest[:, k - 1 : k]
        p_k = ops.where(p_k > 1.0, float("inf"), p_k)
        if self.mode == "fcrn":
            keep = ops.logical_or(prob < self.threshold, prob <= p_k)
        else:
            keep = prob <= ops.maximum(p_k, self.threshold)
        return ops.logical_and(valid, keep)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "mode": self.mode,
                "threshold": self.threshold,
                "min_kept": self.min_kept,
                "per_image": self.per_image,
                "ignore_label": self.ignore_label,
                "check_labels": self.check_labels,
                "stride": self.stride,
            }
        )
        return config


def _assert_labels_in_range(labels, valid, num_classes):
    """Raises at run time (TensorFlow backend) on a label outside [0, num_classes)."""
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    bad = tf.logical_and(valid, tf.logical_or(labels < 0, labels >= num_classes))
    tf.debugging.assert_equal(
        tf.reduce_any(bad),
        False,
        message=(
            f"OHEMLoss: `y_true` has labels outside [0, {num_classes}) that are not the ignore "
            "label; check the dataset's label mapping."
        ),
    )
