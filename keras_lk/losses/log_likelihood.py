"""`pixel_log_likelihood`: log softmax(logits)[label] at every pixel, the core of the
segmentation losses (`SegmentationCrossEntropy`, `OHEMLoss`).

With few classes the class axis is the innermost and shortest axis of the logits, and
the log-softmax's reductions over it (a max, a sum of exponentials) and the pick of the
label's entry run slowly on CPU: short strided loops per pixel, and the pick's gradient
a scatter. With the class axis moved first, the same computation is elementwise over
whole score maps, one per class. `benchmarks/README.md` ("cpu_scale_breakdown") has the
measurements behind `CLASS_AXIS_FIRST_UP_TO`; above it (ADE20K's 150 classes) the plain
log-softmax measured faster.
"""

from __future__ import annotations

from keras import ops

# The largest class count computed with the class axis first.
CLASS_AXIS_FIRST_UP_TO = 32


def pixel_log_likelihood(logits, labels):
    """``log softmax(logits)[..., label]`` per pixel.

    Args:
        logits: float32 scores ``(..., C)``.
        labels: integer labels ``(...)`` in ``[0, C)`` (the callers map ignored pixels to
            a valid class and mask them out afterwards).

    Returns:
        float32 ``(...)``: the log-probability of each pixel's label (≤ 0). Its gradient
        with respect to the logits is ``onehot(label) − softmax(logits)``.
    """
    classes = logits.shape[-1]
    if classes is None or classes > CLASS_AXIS_FIRST_UP_TO:
        log_probs = ops.log_softmax(logits, axis=-1)
        return ops.take_along_axis(log_probs, ops.expand_dims(labels, -1), axis=-1)[..., 0]
    rank = len(logits.shape)
    by_class = ops.transpose(logits, (rank - 1, *range(rank - 1)))  # (C, ...)
    # The usual shift by the maximum; its gradient cancels, so it is not traced through.
    top = ops.stop_gradient(ops.max(by_class, axis=0))
    log_total = top + ops.log(ops.sum(ops.exp(by_class - top), axis=0))
    picked = ops.sum(by_class * ops.one_hot(labels, classes, axis=0, dtype=logits.dtype),
                     axis=0)
    return picked - log_total
