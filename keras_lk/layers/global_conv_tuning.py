"""GlobalConv's fastest exact formulation, measured on the machine it runs on.

`GlobalConv` computes one function in three formulations (``"conv"``, ``"transpose"``,
``"matmul"``) whose speed depends on the shape, the dtype, training or inference, and the
hardware: on one AVX-512 CPU ``"transpose"`` is fastest for large maps, on an AVX2 CPU
``"matmul"`` is 2-3× faster at the same shapes (benchmarks/README.md). No rule written
once is right on every machine, so ``implementation="auto"`` looks its shape up in a
tuning file:

- `tune_global_conv(model, input_size, batch_size)` times every formulation at each
  GlobalConv shape of `model` (forward for inference, forward and backward for
  training), and records the fastest in the tuning file; shapes already there are not
  measured again. `keras_lk.training.train` runs it before training (unless
  ``KERAS_LK_TUNE_GLOBAL_CONV=0``).
- A GlobalConv traced at a shape of the file takes the recorded formulation; at any
  other shape, `rule_implementation`.
- The tuning file is ``$KERAS_LK_TUNING_FILE``, else
  ``$XDG_CACHE_HOME/keras_lk/global_conv_tuning.json`` (``~/.cache/...``). Its keys name
  the backend and its version, the device (the CPU's model and vector extensions, or
  the accelerator), the dtype, the mode and the shape, so one file serves several
  machines: tune ahead of time and ship it with a deployment.

Every formulation gives the same outputs and gradients to float rounding, so a choice
changes speed, not results; a run is deterministic for a given tuning file.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import tempfile
import time

import keras

from keras_lk.utils.machine import cpu_signature, has_cpu_extension

TUNING_FILE_ENV = "KERAS_LK_TUNING_FILE"
TUNE_ENV = "KERAS_LK_TUNE_GLOBAL_CONV"
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


def tuning_enabled() -> bool:
    """Whether `keras_lk.training.train` tunes before training (``KERAS_LK_TUNE_GLOBAL_CONV``,
    on unless ``0``, ``false`` or ``off``)."""
    return os.environ.get(TUNE_ENV, "1").strip().lower() not in ("0", "false", "off", "no")


@functools.lru_cache(maxsize=1)
def device_signature() -> str:
    """The device a formulation's speed was measured on: ``"CPU <model> <extensions>"``,
    or the accelerator's kind."""
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
    return f"CPU {cpu_signature()}"


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
    CPU kernels ``"transpose"`` with AVX-512 and ``"matmul"`` without it, and ``"conv"``
    elsewhere (XLA and accelerators have no slow orientation). Measured on an AVX-512
    and an AVX2 CPU only: tuning is what holds on other machines."""
    if height is not None and width is not None and height * width <= channels:
        return "matmul"
    if keras.backend.backend() != "tensorflow" or not device_signature().startswith("CPU"):
        return "conv"
    return "transpose" if has_cpu_extension("avx512f") else "matmul"


def _write_entries(path, new_entries):
    """Adds `new_entries` to the tuning file atomically (write a temporary file, rename)."""
    entries = dict(read_tuning(path))
    entries.update(new_entries)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".partial",
                                     delete=False) as f:
        json.dump({"version": _FORMAT_VERSION, "entries": entries}, f, indent=1,
                  sort_keys=True)
    os.replace(f.name, path)


def time_call(function, repeats, warmups=2):
    """Median milliseconds of `function()` (which returns a list of tensors, all read)."""
    import numpy as np

    for _ in range(warmups):
        [keras.ops.convert_to_numpy(value) for value in function()]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        [keras.ops.convert_to_numpy(value) for value in function()]
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def forward_and_backward(model, x):
    """``(forward, forward_and_backward)``: compiled callables of `model` on `x`; the
    second returns the gradients of ``sum(model(x)²)`` with respect to `x` and every
    trainable weight (TensorFlow ``tf.function`` or ``jax.jit``, no XLA on TensorFlow)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def forward(x):
            return [model(x)]

        @tf.function
        def train(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.cast(model(x, training=True), "float32")
                loss = tf.reduce_sum(y * y)
            return tape.gradient(loss, [x, *model.trainable_weights])

        return (lambda: forward(x)), (lambda: train(x))
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [w.value for w in model.trainable_variables]
        non_trainable = [w.value for w in model.non_trainable_variables]

        def loss(x, trainable):
            y, _ = model.stateless_call(trainable, non_trainable, x, training=True)
            return jnp.sum(jnp.square(y.astype("float32")))

        forward = jax.jit(lambda x, t: [model.stateless_call(t, non_trainable, x)[0]])
        grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
        return ((lambda: forward(x, trainable)),
                (lambda: jax.tree_util.tree_leaves(grad(x, trainable))))
    raise ValueError(f"tuning needs the TensorFlow or JAX backend, received {backend!r}.")


def measure_formulations(shape, filters, kernel_size, dtype="float32", modes=MODES,
                         repeats=5):
    """Milliseconds of each formulation at one GlobalConv call: ``{mode: {formulation:
    ms}}`` (forward for ``"infer"``, forward and backward for ``"train"``).

    `dtype` is a dtype policy or its name (e.g. ``"mixed_float16"``). The layers timed
    here draw their weights from fixed seeds, not from Keras's global random state, so
    tuning inside a seeded run leaves that run's random stream as it was.
    """
    import numpy as np

    from keras_lk.layers.global_conv import GlobalConv

    policy = keras.dtype_policies.get(dtype)
    x = keras.ops.convert_to_tensor(
        np.random.default_rng(0).standard_normal(shape).astype("float32"),
        dtype=policy.compute_dtype)
    times = {mode: {} for mode in modes}
    for formulation in FORMULATIONS:
        layer = GlobalConv(filters, kernel_size, implementation=formulation, dtype=policy,
                           kernel_initializer=keras.initializers.GlorotUniform(seed=0))
        inputs = keras.Input(shape[1:], batch_size=shape[0])
        forward, train = forward_and_backward(keras.Model(inputs, layer(inputs)), x)
        for mode in modes:
            times[mode][formulation] = time_call(train if mode == "train" else forward,
                                                 repeats)
    return times


def global_conv_calls(model, input_size, batch_size=1):
    """``[(layer, input shape)]`` of every `GlobalConv` of the functional `model` at
    images of `input_size` ``(height, width)``, without computing anything."""
    from keras_lk.layers.global_conv import GlobalConv

    layers = [layer for layer in model._flatten_layers(include_self=False)
              if isinstance(layer, GlobalConv)]
    if not layers:
        return []
    try:
        probe = keras.Model(model.inputs, [layer.input for layer in layers])
    except (AttributeError, ValueError) as error:
        raise ValueError(f"cannot find the inputs of {model.name!r}'s GlobalConv layers "
                         f"(a functional model calling each once is needed): {error}") from None
    channels = model.inputs[0].shape[-1]
    spec = probe.compute_output_spec(
        keras.KerasTensor((batch_size, *tuple(input_size), channels)))
    spec = spec if isinstance(spec, (list, tuple)) else [spec]
    return [(layer, tuple(s.shape)) for layer, s in zip(layers, spec)]


def tune_global_conv(model, input_size, batch_size=1, modes=MODES, repeats=5, path=None,
                     retune=False, verbose=False):
    """Times every formulation at each GlobalConv call of `model` and records the
    fastest in the tuning file.

    Args:
        model: a functional model holding `GlobalConv` layers (e.g. `GCNSeg`); others
            are left alone.
        input_size: ``(height, width)`` of the images it will see.
        batch_size: images per call (per replica under a distribution strategy).
        modes: ``"train"`` (forward and backward) and/or ``"infer"`` (forward).
        repeats: timed runs per formulation (median).
        path: the tuning file (default `tuning_file()`).
        retune: measure shapes already in the file again.
        verbose: print one line per shape.

    Returns:
        One dict per measured call: ``key``, ``implementation``, ``milliseconds``.

    Example:
    >>> model = keras_lk.models.GCNSeg(21, k=15, backbone="resnet50")
    >>> keras_lk.layers.tune_global_conv(model, (512, 512), batch_size=1)
    """
    path = tuning_file() if path is None else os.fspath(path)
    unknown = set(modes) - set(MODES)
    if unknown or not modes:
        raise ValueError(f"`modes` must be a non-empty subset of {MODES}, received {modes!r}.")
    known = read_tuning(path)
    measured, rows = {}, []
    for layer, shape in global_conv_calls(model, input_size, batch_size):
        if layer.implementation != "auto":
            continue
        keys = {mode: tuning_key(shape, layer.filters, layer.kernel_size,
                                 layer.compute_dtype, mode) for mode in modes}
        todo = [mode for mode, key in keys.items()
                if retune or (key not in known and key not in measured)]
        if not todo:
            continue
        times = measure_formulations(shape, layer.filters, layer.kernel_size,
                                     layer.dtype_policy, todo, repeats)
        for mode in todo:
            best = min(times[mode], key=times[mode].get)
            entry = {"implementation": best,
                     "milliseconds": {k: round(v, 3) for k, v in times[mode].items()},
                     "measured": datetime.date.today().isoformat()}
            measured[keys[mode]] = entry
            rows.append({"key": keys[mode], **entry})
            if verbose:
                print(f"GlobalConv {shape} -> {layer.filters} k{layer.kernel_size} {mode}: "
                      f"{best} ({', '.join(f'{k} {v:.1f} ms' for k, v in times[mode].items())})")
    if measured:
        _write_entries(path, measured)
    return rows
