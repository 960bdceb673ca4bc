"""`tf.distribute` strategies from a flag: default, mirrored, multi_worker, tpu.

The model, optimizer and metrics must be built inside `strategy.scope()`; the global
batch is split evenly across `strategy.num_replicas_in_sync` replicas (see
`keras_lk.data.distribute_dataset`). BatchNorm statistics are per replica unless the
model is built with `use_sync_bn=True` (GALD's recipe: SyncBN over 8 GPUs).
"""

from __future__ import annotations

import json
import os

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def configure_cpu_devices(num_devices: int):
    """Splits the host CPU into `num_devices` logical devices (tests of `mirrored` on CPU).

    Must run before TensorFlow initialises its devices (before any op runs); raises a
    `ValueError` that says so otherwise.
    """
    import tensorflow as tf

    if num_devices < 1:
        raise ValueError(f"`num_cpu_devices` must be ≥ 1, received {num_devices!r}.")
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices
        )
    except RuntimeError as error:
        if len(tf.config.list_logical_devices("CPU")) == num_devices:
            return
        raise ValueError(
            f"`num_cpu_devices={num_devices}` must be set before TensorFlow initialises "
            f"its devices ({error})."
        ) from None


def make_strategy(name: str = "default", num_cpu_devices: int | None = None):
    """Returns the `tf.distribute.Strategy` named by `name`.

    Args:
        name: `"default"` (one device), `"mirrored"` (all local GPUs; without GPUs, the
            logical CPU devices, see `num_cpu_devices`), `"multi_worker"`
            (`MultiWorkerMirroredStrategy`, cluster from the `TF_CONFIG` environment
            variable) or `"tpu"` (`TPUStrategy` on the TPU found by `TPUClusterResolver`).
        num_cpu_devices: with `"mirrored"` and no GPU, split the CPU into this many logical
            devices first (must happen before TensorFlow initialises).

    Returns:
        A `tf.distribute.Strategy`.

    Example:
    >>> strategy = keras_lk.training.make_strategy("mirrored", num_cpu_devices=2)
    >>> strategy.num_replicas_in_sync
    2
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}, received {name!r}.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if num_cpu_devices and not tf.config.list_physical_devices("GPU"):
            configure_cpu_devices(num_cpu_devices)
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
            return tf.distribute.MirroredStrategy(devices=devices)
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "`strategy='multi_worker'` needs the TF_CONFIG environment variable "
                '(e.g. {"cluster": {"worker": ["host:port", ...]}, "task": {"type": '
                '"worker", "index": 0}}), which is not set.'
            )
        try:
            json.loads(os.environ["TF_CONFIG"])
        except json.JSONDecodeError as error:
            raise ValueError(f"TF_CONFIG is not valid JSON: {error}.") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise ValueError(f"`strategy='tpu'` found no TPU: {error}") from None
    return tf.distribute.TPUStrategy(resolver)


def check_jit_compile(strategy, jit_compile: bool):
    """Refuses `jit_compile=True` with several replicas on CPUs, where XLA fails.

    XLA does not compile collectives on CPU devices ("Collectives are not yet implemented
    for CPU devices when compiling with XLA"), and with logical CPU devices it fails to
    reach the other replicas' variables; both errors come deep from the first step.
    """
    if not jit_compile or strategy.num_replicas_in_sync == 1:
        return  # (the default strategy has no `worker_devices`)
    if all("CPU" in device.upper() for device in strategy.extended.worker_devices):
        raise ValueError(
            f"`jit_compile=True` cannot train {strategy.num_replicas_in_sync} replicas on "
            "CPU devices (XLA compiles no collectives on CPU): drop --jit-compile (it is "
            "off by default) or train on GPUs/TPUs."
        )


def is_chief(strategy) -> bool:
    """True on the worker that should write checkpoints and logs (always, but multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )
