"""Precision policies from a flag: float32, mixed_float16, mixed_bfloat16, auto.

Under the mixed policies the layers compute in float16/bfloat16 and keep float32
variables; the keras_lk models cast their logits to float32 and the losses of
`keras_lk.losses` compute in float32. With `mixed_float16`, `Model.compile`
wraps the optimizer in a `keras.optimizers.LossScaleOptimizer` (dynamic loss scaling).
"""

from __future__ import annotations

from keras_lk.utils.machine import has_cpu_extension

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "auto")


def _cpu_has_bfloat16() -> bool:
    return has_cpu_extension("avx512_bf16") or has_cpu_extension("amx_bf16")


def resolve_precision(precision: str) -> str:
    """Maps `"auto"` to a concrete policy name: bf16 where the hardware has it.

    TPUs and GPUs of compute capability ≥ 8.0 (Ampere) → `"mixed_bfloat16"`; older
    GPUs → `"mixed_float16"`; CPUs with AVX512-BF16/AMX → `"mixed_bfloat16"`; otherwise
    `"float32"`. Other names are returned unchanged after validation.
    """
    import tensorflow as tf

    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {PRECISIONS}, received {precision!r}.")
    if precision != "auto":
        return precision
    if tf.config.list_logical_devices("TPU"):
        return "mixed_bfloat16"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get(
            "compute_capability", (0, 0)
        )
        return "mixed_bfloat16" if capability >= (8, 0) else "mixed_float16"
    return "mixed_bfloat16" if _cpu_has_bfloat16() else "float32"


def set_precision(precision: str, jit_compile: bool = False) -> str:
    """Sets the global Keras dtype policy; returns the policy name that was set.

    Args:
        precision: one of `PRECISIONS`.
        jit_compile: whether the model will be compiled with XLA; XLA fails with the
            mixed policies on CPU in this TensorFlow, so the combination is refused.
    """
    import keras

    policy = resolve_precision(precision)
    if jit_compile and policy != "float32":
        raise ValueError(
            f"`jit_compile=True` cannot be combined with `precision={policy!r}` (XLA fails "
            "with mixed precision here); use `precision='float32'` or turn `jit_compile` off."
        )
    keras.mixed_precision.set_global_policy(policy)
    return policy
