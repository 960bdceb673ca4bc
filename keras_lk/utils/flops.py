"""Counting the floating-point operations of a model's convolutions and matmuls.

`count_flops` runs one eager forward pass on a zero batch of the requested shape and
records every convolution (``conv``, ``depthwise_conv``, ``separable_conv``,
``conv_transpose``) and ``matmul`` that reaches the Keras backend, so layers nested
inside custom layers (e.g. the two branches of a GlobalConv) are counted too.

Convention: one multiply-add = 2 FLOPs; biases, BatchNorm, activations, pooling and
resizing are not counted. GCN's Table 11 reports multiply-adds ("MFlops (Conv)"), i.e.
``count_flops(...) / 2``. ``einsum`` (used by `keras.layers.EinsumDense`) is not counted.
"""

import contextlib
import math

import numpy as np
from keras import ops
from keras.src import backend


def _prod(values):
    return int(math.prod(int(v) for v in values))


def _conv_flops(inputs, kernel, outputs):
    # kernel (*spatial, in/groups, out); outputs (batch, *spatial, out), channels last.
    kernel_shape = tuple(kernel.shape)
    out_shape = tuple(outputs.shape)
    return 2 * _prod(out_shape) * _prod(kernel_shape[:-1])


def _depthwise_flops(inputs, kernel, outputs):
    # kernel (*spatial, in, multiplier); each output value uses prod(spatial) inputs.
    return 2 * _prod(tuple(outputs.shape)) * _prod(tuple(kernel.shape)[:-2])


def _conv_transpose_flops(inputs, kernel, outputs):
    # kernel (*spatial, out, in); every input value is scattered to out*prod(spatial).
    return 2 * _prod(tuple(inputs.shape)) * _prod(tuple(kernel.shape)[:-1])


def _separable_flops(inputs, depthwise_kernel, pointwise_kernel, outputs):
    depthwise = tuple(depthwise_kernel.shape)
    out_shape = tuple(outputs.shape)
    spatial = out_shape[1:-1]
    middle = depthwise[-2] * depthwise[-1]
    return 2 * _prod(out_shape[:1] + spatial) * middle * (
        _prod(depthwise[:-2]) + out_shape[-1]
    )


def _matmul_flops(a, b, outputs):
    a_shape = tuple(a.shape)
    return 2 * _prod(tuple(outputs.shape)) * int(a_shape[-1])


@contextlib.contextmanager
def _record(counts):
    # (module, op, FLOPs of (tensors..., outputs), names of the tensor arguments)
    ops_table = (
        (backend.nn, "conv", _conv_flops, ("inputs", "kernel")),
        (backend.nn, "depthwise_conv", _depthwise_flops, ("inputs", "kernel")),
        (backend.nn, "separable_conv", _separable_flops,
         ("inputs", "depthwise_kernel", "pointwise_kernel")),
        (backend.nn, "conv_transpose", _conv_transpose_flops, ("inputs", "kernel")),
        (backend.numpy, "matmul", _matmul_flops, ("x1", "x2")),
    )

    def wrap(key, function, flops_fn, names):
        def wrapped(*args, **kwargs):
            outputs = function(*args, **kwargs)
            tensors = list(args[: len(names)])
            tensors += [kwargs[name] for name in names[len(tensors):]]
            counts[key] = counts.get(key, 0) + flops_fn(*tensors, outputs)
            return outputs

        return wrapped

    originals = [(module, key, getattr(module, key)) for module, key, _, _ in ops_table]
    for (module, key, flops_fn, names), (_, _, function) in zip(ops_table, originals):
        setattr(module, key, wrap(key, function, flops_fn, names))
    try:
        yield
    finally:
        for module, key, function in originals:
            setattr(module, key, function)


def count_flops(model, input_shape, return_breakdown=False):
    """FLOPs of one forward pass of `model` on one image (multiply-add = 2 FLOPs).

    Args:
        model: a `keras.Model` (or layer) taking one image tensor.
        input_shape: input shape without the batch axis, e.g. ``(224, 224, 3)``.
        return_breakdown: also return a dict of FLOPs per op kind
            (``conv``, ``depthwise_conv``, ``separable_conv``, ``conv_transpose``,
            ``matmul``).

    Returns:
        The FLOPs (int) for a batch of one, or ``(flops, breakdown)``.

    Example:
    >>> backbone = keras_lk.backbones.ResNet50()
    >>> keras_lk.utils.count_flops(backbone, (224, 224, 3)) / 2e6  # ≈ 3860 MMACs

    Reference:
        GCN (Peng et al., 2017) Table 11 "MFlops (Conv)" counts multiply-adds.
    """
    input_shape = tuple(input_shape)
    if any(d is None or int(d) < 1 for d in input_shape):
        raise ValueError(
            f"`input_shape` must be fully defined positive sizes, received {input_shape}."
        )
    counts = {}
    x = ops.convert_to_tensor(np.zeros((1,) + input_shape, dtype="float32"))
    with _record(counts):
        model(x, training=False)
    total = int(sum(counts.values()))
    if return_breakdown:
        return total, counts
    return total
