"""Simulating a high-resolution network with a low-resolution one (FCRN Fig. 1).

A network with output stride ``s`` is applied ``factor**2`` times to the image shifted
by multiples of ``s / factor`` pixels; the coarse score maps are put at their positions
in a map ``factor`` times finer. Shifting the image by ``s / factor`` pixels equals
shifting the ``1/(s/factor)``-resolution feature maps by one, as the paper describes,
except near the bottom/right border where the shifted image is zero-filled.

Reference:
    Wu, Shen, van den Hengel, "High-performance Semantic Segmentation Using Very Deep
    Fully Convolutional Networks", 2016, Sec. 3.2 and Fig. 1.
"""

import keras

from keras_lk.layers.spatial import InterleaveShiftedPasses, ShiftImage


def HighResolutionSimulation(model, output_stride, factor=2, name=None):
    """Wraps a model of output stride ``s`` so it predicts at stride ``s / factor``.

    Args:
        model: `keras.Model` mapping ``(batch, H, W, 3)`` images to score maps
            ``(batch, H / s, W / s, classes)`` (e.g. `FCRN(..., upsample_logits=False)`).
        output_stride: the model's output stride ``s``.
        factor: resolution gain; ``s`` must be divisible by it (2 in the paper:
            four passes).
        name: model name; default ``f"{model.name}_x{factor}"``.

    Returns:
        `keras.Model` mapping images with ``H, W`` multiples of ``s`` to score maps
        ``(batch, factor * H / s, factor * W / s, classes)``. It shares the weights of
        `model` (inference wrapper: training the wrapper trains `model`).

    Example:
    >>> fcrn = keras_lk.models.FCRN(21, backbone="resnet18", upsample_logits=False)
    >>> fine = keras_lk.models.HighResolutionSimulation(fcrn, output_stride=8)
    >>> fine(np.zeros((1, 64, 64, 3))).shape  # (1, 16, 16, 21): stride 4
    """
    if not isinstance(factor, int) or factor < 1 or output_stride % factor:
        raise ValueError(
            f"`factor` must be a positive integer dividing `output_stride`={output_stride}, "
            f"received {factor!r}."
        )
    step = output_stride // factor
    inputs = keras.Input(shape=model.input_shape[1:], name="image")
    passes = []
    for a in range(factor):
        for b in range(factor):
            shifted = ShiftImage(a * step, b * step, name=f"shift_{a}_{b}")(inputs)
            passes.append(model(shifted))
    outputs = InterleaveShiftedPasses(factor, name="interleave")(passes)
    return keras.Model(inputs, outputs, name=name or f"{model.name}_x{factor}")
