"""How much memory a training batch needs, estimated before the batch is built.

A batch too large for the machine otherwise shows up as swapping and an out-of-memory
kill minutes later, or (for huge batches) as an int32 shape overflow deep in a kernel.
`check_batch_fits` refuses such a run at once, naming the figures.

The estimate counts what training keeps for the backward pass: every floating-point
tensor the forward pass computes, traced once for a single crop (`training=True`, the
policy's dtypes), times the per-replica batch, plus the input batch itself. Kernels
that fuse or free tensors early need less, so the estimate errs on the high side; a run
is refused only when the estimate exceeds the memory the OS reports available.
Only host memory is checked: on GPUs, TensorFlow's own out-of-memory error names the
allocation.
"""

from __future__ import annotations

import numpy as np

# Below this share of the available memory, the input batch alone is small enough that
# no run is refused: the activations are not traced (tests and CPU-scale runs).
TRACE_ABOVE = 0.001
GIB = 2**30


def available_host_bytes() -> int | None:
    """`MemAvailable` of /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def activation_bytes_per_crop(model, crop_size) -> int:
    """Bytes of the floating-point tensors of one training forward pass on one crop."""
    import tensorflow as tf

    spec = tf.TensorSpec((1, crop_size, crop_size, 3), tf.float32)
    graph = tf.function(lambda x: model(x, training=True)).get_concrete_function(spec).graph
    # Tensors computed from the weights alone (reads, casts, kernel transposes) are not
    # activations: they do not grow with the batch.
    weight_only = set()
    total = 0
    for operation in graph.get_operations():
        from_weights = operation.type in ("ReadVariableOp", "Const", "VarHandleOp") or (
            operation.inputs and all(t.name in weight_only for t in operation.inputs)
            and operation.type != "Placeholder")
        for output in operation.outputs:
            if from_weights:
                weight_only.add(output.name)
            elif output.dtype.is_floating and output.shape.is_fully_defined():
                total += int(np.prod(output.shape)) * output.dtype.size
    return total


def check_batch_fits(model, crop_size, batch_size, num_replicas=1, available=None):
    """Raises ValueError when a training batch would not fit in host memory.

    Args:
        model: the built model.
        crop_size, batch_size: the run's crop side and global batch.
        num_replicas: replicas sharing the global batch on this host.
        available: bytes available (default: `available_host_bytes()`).

    Returns:
        The estimated bytes, or None when the input batch alone is below `TRACE_ABOVE`
        of the available memory (not traced).
    """
    import tensorflow as tf

    available = available_host_bytes() if available is None else available
    if available is None or tf.config.list_logical_devices("GPU"):
        return None
    input_bytes = batch_size * crop_size * crop_size * 3 * 4
    if input_bytes < TRACE_ABOVE * available:
        return None
    per_replica = -(-batch_size // num_replicas)
    needed = input_bytes + per_replica * num_replicas * activation_bytes_per_crop(
        model, crop_size)
    if needed > available:
        raise ValueError(
            f"a batch of {batch_size} crops of {crop_size}² needs about {needed / GIB:.1f} GiB "
            f"for the input and the activations kept for the backward pass, and this "
            f"machine has {available / GIB:.1f} GiB available; lower `batch_size` or "
            "`crop_size`.")
    return needed
