"""A loss read on the network's score map, as FCN and FCRN's Caffe models train.

Their loss layers see the classifier's output at 1/output_stride of the input and labels
subsampled to it, so FCRN's bootstrapping K (Sec. 3.3, Table 4: 256, 512, 1024) counts
score-map pixels. keras_lk's models upsample their logits to the input bilinearly; a loss
built with `stride` = the network's output stride reads them back on that grid.
"""

from keras import ops

from keras_lk.layers._validation import check_positive_int


def check_stride(stride):
    """`stride` if it is a positive int, else a ValueError naming it."""
    check_positive_int("stride", stride)
    return stride


def to_score_map(y_true, y_pred, stride):
    """Labels and logits on the grid of `stride` × `stride` cells of the input.

    The logits are resized bilinearly (no antialiasing) to (H / stride, W / stride), which
    reads each cell at its centre: for logits upsampled bilinearly (half-pixel centres, as
    `keras.layers.UpSampling2D`) from a score map s, that is s itself where s is linear,
    and s + (s[+1] − 2s + s[−1]) / (4·stride) along each axis in general (edges
    clamped). Each cell's label is that of its centre pixel (nearest-neighbour
    subsampling). `stride` 1 returns the arguments unchanged.

    Args:
        y_true: labels `(batch, H, W)` or `(batch, H, W, 1)`.
        y_pred: float logits `(batch, H, W, classes)` with static H and W.
        stride: int ≥ 1 that divides H and W.

    Returns:
        `(labels, logits)` of `(batch, H / stride, W / stride[, 1])` and
        `(batch, H / stride, W / stride, classes)`.
    """
    if stride == 1:
        return y_true, y_pred
    height, width = y_pred.shape[1], y_pred.shape[2]
    for name, size in (("height", height), ("width", width)):
        if size is None or size % stride:
            raise ValueError(
                f"A loss on the score map of stride {stride} needs logits whose {name} is a "
                f"static multiple of {stride}, received logits of shape {tuple(y_pred.shape)}; "
                "train on crops of a multiple of the output stride.")
    logits = ops.image.resize(ops.cast(y_pred, "float32"), (height // stride, width // stride),
                              interpolation="bilinear", antialias=False)
    centre = stride // 2
    return y_true[:, centre::stride, centre::stride], logits
