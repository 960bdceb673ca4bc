"""Small shape layers shared by the builders: pad to a multiple, crop or resize to a
reference, shift an image, interleave shifted score maps. Registered so that models holding them
load with ``safe_mode=True``."""

import keras
from keras import layers, ops

from keras_lk.layers._resize import resize_bilinear, resize_bilinear_align_corners
from keras_lk.layers._validation import check_positive_int

__all__ = ["CropToMatch", "InterleaveShiftedPasses", "PadToMultiple", "ResizeToMatch",
           "ShiftImage"]


@keras.saving.register_keras_serializable(package="keras_lk")
class PadToMultiple(layers.Layer):
    """Zero-pads height and width at the bottom/right up to a multiple of `multiple`.

    Args:
        multiple: positive integer, e.g. 32 for a network of output stride 32.

    Call arguments:
        inputs: ``(batch, height, width, channels)``.

    Returns:
        ``(batch, ceil(height / multiple) * multiple, ..., channels)``.

    Example:
    >>> keras_lk.layers.PadToMultiple(32)(np.zeros((1, 97, 131, 3))).shape
    (1, 128, 160, 3)

    Reference:
        Peng et al., "Large Kernel Matters", CVPR 2017 (decoder needs sizes % 32 == 0).
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("multiple", multiple)
        self.multiple = multiple

    def call(self, inputs):
        shape = ops.shape(inputs)
        pad_h = (-shape[1]) % self.multiple
        pad_w = (-shape[2]) % self.multiple
        return ops.pad(inputs, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])

    def compute_output_shape(self, input_shape):
        def rounded(size):
            return None if size is None else -(-size // self.multiple) * self.multiple

        return (input_shape[0], rounded(input_shape[1]), rounded(input_shape[2]),
                input_shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="keras_lk")
class CropToMatch(layers.Layer):
    """Crops ``x`` (top-left anchored) to the height and width of ``reference``.

    Call arguments:
        inputs: list ``[x, reference]``; ``x`` at least as large as ``reference``.

    Returns:
        ``x[:, :reference_height, :reference_width, :]``.

    Example:
    >>> crop = keras_lk.layers.CropToMatch()
    >>> crop([np.zeros((1, 128, 160, 21)), np.zeros((1, 97, 131, 3))]).shape
    (1, 97, 131, 21)

    Reference:
        Long et al., "Fully Convolutional Networks", CVPR 2015 (crop layer).
    """

    def call(self, inputs):
        x, reference = inputs
        if None not in x.shape[1:3] and tuple(x.shape[1:3]) == tuple(reference.shape[1:3]):
            return x  # Nothing to crop: no copy (an exported graph of static size keeps none).
        x_shape = ops.shape(x)
        ref_shape = ops.shape(reference)
        return ops.slice(x, [0, 0, 0, 0], [x_shape[0], ref_shape[1], ref_shape[2], x_shape[3]])

    def compute_output_shape(self, input_shape):
        x_shape, ref_shape = input_shape
        return (x_shape[0], ref_shape[1], ref_shape[2], x_shape[3])


@keras.saving.register_keras_serializable(package="keras_lk")
class ResizeToMatch(layers.Layer):
    """Bilinear resize of ``x`` to the height and width of ``reference``.

    Args:
        align_corners: False: half-pixel centres (``tf.image.resize``); True: corner
            pixels aligned (PyTorch ``align_corners=True``, GALD's official code).

    Call arguments:
        inputs: list ``[x, reference]``.

    Returns:
        ``x`` resized to ``reference``'s height and width.

    Example:
    >>> resize = keras_lk.layers.ResizeToMatch(align_corners=True)
    >>> resize([np.zeros((1, 12, 16, 21)), np.zeros((1, 97, 131, 3))]).shape
    (1, 97, 131, 21)
    """

    def __init__(self, align_corners=False, **kwargs):
        super().__init__(**kwargs)
        self.align_corners = bool(align_corners)

    def call(self, inputs):
        x, reference = inputs
        height, width = ops.shape(reference)[1], ops.shape(reference)[2]
        if self.align_corners:
            return resize_bilinear_align_corners(x, height, width)
        return resize_bilinear(x, height, width)

    def compute_output_shape(self, input_shape):
        x_shape, ref_shape = input_shape
        return (x_shape[0], ref_shape[1], ref_shape[2], x_shape[3])

    def get_config(self):
        return {**super().get_config(), "align_corners": self.align_corners}


@keras.saving.register_keras_serializable(package="keras_lk")
class ShiftImage(layers.Layer):
    """Shifts images up/left by ``(shift_y, shift_x)`` pixels, zero-filling bottom/right.

    Output pixel ``(i, j)`` is input pixel ``(i + shift_y, j + shift_x)``: a network of
    output stride ``s`` applied to the shifted image predicts the scores of the image
    positions ``(i * s + shift_y, j * s + shift_x)``.

    Args:
        shift_y: non-negative integer.
        shift_x: non-negative integer.

    Call arguments:
        inputs: ``(batch, height, width, channels)``.

    Returns:
        Tensor of the same shape.

    Example:
    >>> keras_lk.layers.ShiftImage(4, 0)(np.zeros((1, 32, 32, 3))).shape
    (1, 32, 32, 3)

    Reference:
        Wu et al., "High-performance Semantic Segmentation Using Very Deep Fully
        Convolutional Networks" (FCRN), 2016, Fig. 1.
    """

    def __init__(self, shift_y, shift_x, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("shift_y", shift_y), ("shift_x", shift_x)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(
                    f"`{name}` must be a non-negative integer, received {value!r}."
                )
        self.shift_y = shift_y
        self.shift_x = shift_x

    def call(self, inputs):
        x = inputs[:, self.shift_y:, self.shift_x:, :]
        return ops.pad(x, [[0, 0], [0, self.shift_y], [0, self.shift_x], [0, 0]])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "shift_y": self.shift_y, "shift_x": self.shift_x}


@keras.saving.register_keras_serializable(package="keras_lk")
class InterleaveShiftedPasses(layers.Layer):
    """Interleaves ``factor**2`` score maps of shifted passes into one map ``factor``
    times finer: ``out[:, factor*i + a, factor*j + b] = passes[a * factor + b][:, i, j]``.

    Args:
        factor: positive integer (2 in FCRN Fig. 1).

    Call arguments:
        inputs: list of ``factor**2`` tensors ``(batch, height, width, channels)``,
            ordered by row shift then column shift.

    Returns:
        ``(batch, factor * height, factor * width, channels)``.

    Example:
    >>> layer = keras_lk.layers.InterleaveShiftedPasses(2)
    >>> layer([np.zeros((1, 4, 4, 21))] * 4).shape
    (1, 8, 8, 21)

    Reference:
        Wu et al. (FCRN), 2016, Fig. 1.
    """

    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("factor", factor)
        self.factor = factor

    def call(self, inputs):
        if len(inputs) != self.factor**2:
            raise ValueError(
                f"Expected {self.factor**2} passes for `factor`={self.factor}, "
                f"received {len(inputs)}."
            )
        f = self.factor
        x = ops.stack(inputs, axis=3)  # (b, h, w, f*f, c)
        shape = ops.shape(x)
        b, h, w, c = shape[0], shape[1], shape[2], shape[4]
        x = ops.reshape(x, (b, h, w, f, f, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))  # (b, h, a, w, b', c)
        return ops.reshape(x, (b, h * f, w * f, c))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape[0]
        return (b, None if h is None else h * self.factor,
                None if w is None else w * self.factor, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
