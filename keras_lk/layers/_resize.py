"""Bilinear resizing with half-pixel centres, written with keras.ops.

`resize_bilinear_align_corners` is the other convention (PyTorch `align_corners=True`,
GALD's official code).

`keras.ops.image.resize` lowers to different kernels per backend, and under
XLA (TensorFlow `jit_compile=True`) its bilinear result differs from the
eager one at some rows for non-integer scales. Gathering the two neighbours
and interpolating explicitly gives one definition everywhere: the one of
`tf.image.resize(..., "bilinear", antialias=False)` in eager mode.
"""

from keras import ops


def bilinear_neighbours(size_in, size_out, dtype):
    """Lower/upper source indices and the upper weight for each output index."""
    scale = ops.cast(size_in, "float32") / ops.cast(size_out, "float32")
    source = (ops.cast(ops.arange(size_out), "float32") + 0.5) * scale - 0.5
    source = ops.clip(source, 0.0, ops.cast(size_in - 1, "float32"))
    lower = ops.floor(source)
    upper = ops.minimum(lower + 1.0, ops.cast(size_in - 1, "float32"))
    weight = ops.cast(source - lower, dtype)
    return ops.cast(lower, "int32"), ops.cast(upper, "int32"), weight


def resize_bilinear(x, height, width):
    """Resizes NHWC `x` to (height, width); sizes may be dynamic scalars."""
    lower, upper, weight = bilinear_neighbours(ops.shape(x)[1], height, x.dtype)
    weight = ops.reshape(weight, (1, -1, 1, 1))
    x = ops.take(x, lower, axis=1) * (1 - weight) + ops.take(x, upper, axis=1) * weight
    lower, upper, weight = bilinear_neighbours(ops.shape(x)[2], width, x.dtype)
    weight = ops.reshape(weight, (1, 1, -1, 1))
    return ops.take(x, lower, axis=2) * (1 - weight) + ops.take(x, upper, axis=2) * weight


def resize_bilinear_align_corners(x, height, width):
    """Bilinear resize of NHWC `x` with corner pixels aligned (PyTorch
    `F.interpolate(..., mode="bilinear", align_corners=True)`): output index i
    samples input position i * (n_in - 1) / (n_out - 1), or 0 when n_out = 1."""
    for axis, size_out in ((1, height), (2, width)):
        size_in = ops.shape(x)[axis]
        last = ops.cast(size_in - 1, "float32")
        scale = last / ops.cast(ops.maximum(size_out - 1, 1), "float32")
        source = ops.cast(ops.arange(size_out), "float32") * scale
        lower = ops.clip(ops.floor(source), 0.0, last)
        upper = ops.minimum(lower + 1.0, last)
        shape = [1, 1, 1, 1]
        shape[axis] = -1
        weight = ops.reshape(ops.cast(source - lower, x.dtype), shape)
        x = (ops.take(x, ops.cast(lower, "int32"), axis=axis) * (1 - weight)
             + ops.take(x, ops.cast(upper, "int32"), axis=axis) * weight)
    return x
