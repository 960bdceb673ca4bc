"""Which of GlobalConv's exact formulations a call takes: the one measured fastest on this
machine for the call's shape, dtype and mode (recorded in the tuning file by
`keras_lk.layers.global_conv_tuning.tune_global_conv`), else `rule_implementation`.

The tuning file is ``$KERAS_LK_TUNING_FILE``, else
``$XDG_CACHE_HOME/keras_lk/global_conv_tuning.json`` (``~/.cache/...``); its keys name
the backend and its version, the device (the CPU's model and vector extensions, and the
TensorFlow thread count where ``TF_NUM_INTRAOP_THREADS`` caps it; or the accelerator),
the dtype, the mode and the shape, so one file serves several machines.
"""

from __future__ import annotations

import functools
import json
import os

import keras

from keras_lk.utils.machine import cpu_signature, has_cpu_extension, tensorflow_threads

TUNING_FILE_ENV = "KERAS_LK_TUNING_FILE"
FORMULATIONS = ("conv", "transpose", "matmul")
MODES = ("train", "infer")
_FORMAT_VERSION = 1
_CACHE = {"path": None, "mtime": None, "entries": {}}


def tuning_file() -> str:
    """The path of the tuning file (see the module docstring)."""
    if os.environ.get(TUNING_FILE_ENV):
        return os.path.expanduser(os.environ[TUNING_FILE_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "keras_lk", "global_conv_tuning.json")


@functools.lru_cache(maxsize=1)
def device_signature() -> str:
    """The device a formulation's speed was measured on: ``"CPU <model> <extensions>"``
    (followed by ``", N threads"`` where the environment caps TensorFlow's threads: the
    fastest formulation on one thread need not be the fastest on all cores), or the
    accelerator's kind."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return f"GPU {details.get('device_name', gpus[0].name)}"
    elif backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform != "cpu":
            return f"{device.platform.upper()} {device.device_kind}"
    threads = tensorflow_threads() if backend == "tensorflow" else None
    capped = f", {threads} thread{'s' if threads > 1 else ''}" if threads else ""
    return f"CPU {cpu_signature()}{capped}"


@functools.lru_cache(maxsize=1)
def _backend_version() -> str:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return f"tensorflow {tf.__version__}"
    if backend == "jax":
        import jax

        return f"jax {jax.__version__}"
    return backend


def tuning_key(shape, filters, kernel_size, dtype, mode) -> str:
    """The tuning file's key of a GlobalConv call: backend, device, dtype, mode and the
    input shape ``(batch, height, width, channels)`` (batch None: any)."""
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}, received {mode!r}.")
    batch, height, width, channels = shape
    return (f"{_backend_version()} | {device_signature()} | {dtype} | {mode} | "
            f"{'?' if batch is None else batch}x{height}x{width}x{channels} -> {filters} "
            f"k{kernel_size}")


def read_tuning(path=None) -> dict:
    """The entries of the tuning file at `path` (default `tuning_file()`), ``{key:
    {"implementation", "milliseconds", "measured"}}``; ``{}`` if there is none. Read once
    per process and again when the file changes."""
    path = tuning_file() if path is None else os.fspath(path)
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return {}
    if _CACHE["path"] == path and _CACHE["mtime"] == mtime:
        return _CACHE["entries"]
    try:
        with open(path) as f:
            content = json.load(f)
        entries = content["entries"]
        if content.get("version") != _FORMAT_VERSION or not isinstance(entries, dict):
            raise ValueError(f"version {content.get('version')!r}")
        for key, entry in entries.items():
            if entry.get("implementation") not in FORMULATIONS:
                raise ValueError(f"entry {key!r} has implementation "
                                 f"{entry.get('implementation')!r}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"the GlobalConv tuning file {path!r} is not a keras_lk tuning file "
            f"(version {_FORMAT_VERSION}: {error}); delete it to tune again, or point "
            f"{TUNING_FILE_ENV} at another file.") from None
    _CACHE.update(path=path, mtime=mtime, entries=entries)
    return entries


def tuned_implementation(shape, filters, kernel_size, dtype, mode):
    """The recorded fastest formulation of this call, or None if it was not tuned here."""
    entry = read_tuning().get(tuning_key(shape, filters, kernel_size, dtype, mode))
    if entry is None and shape[0] is not None:  # a shape tuned for any batch size
        entry = read_tuning().get(tuning_key((None, *shape[1:]), filters, kernel_size,
                                             dtype, mode))
    return None if entry is None else entry["implementation"]


def rule_implementation(height, width, channels) -> str:
    """The formulation of an untuned call: ``"matmul"`` when the static map is no larger
    than its channels (``H·W ≤ C``, res-5 and res-4 of a ResNet), else on TensorFlow's
    CPU kernels ``"transpose"`` with AVX-512 and ``"matmul"`` without it, and the stock
    ``"conv"`` elsewhere (XLA's CPU kernels have no slow orientation; accelerators are
    unmeasured). Measured on AVX-512 and AVX2 CPUs only: on other machines, tune."""
    if height is not None and width is not None and height * width <= channels:
        return "matmul"
    if keras.backend.backend() != "tensorflow" or not device_signature().startswith("CPU"):
        return "conv"
    return "transpose" if has_cpu_extension("avx512f") else "matmul"
