"""GlobalConv's fastest exact formulation, measured on the machine it runs on.

`GlobalConv` computes one function in three formulations (``"conv"``, ``"transpose"``,
``"matmul"``) whose speed depends on the shape, the dtype, training or inference, and the
hardware: on one AVX-512 CPU ``"transpose"`` is fastest for large maps, on an AVX2 CPU
``"matmul"`` was up to 3× faster at the same shapes (benchmarks/README.md). No rule written
once is right on every machine, so ``implementation="auto"`` looks its shape up in a
tuning file:

- `tune_global_conv(model, input_size, batch_size)` times every formulation at each
  GlobalConv shape of `model` (forward for inference, forward and backward for
  training), and records the fastest in the tuning file, unless it beats the untuned
  rule's choice by no more than `MARGIN` (then the rule's: near-ties do not flip between
  tunings); shapes already there are not measured again. `keras_lk.training.train` runs it before training (unless
  ``KERAS_LK_TUNE_GLOBAL_CONV=0``).
- A GlobalConv traced at a shape of the file takes the recorded formulation; at any
  other shape, `rule_implementation` (`keras_lk.layers.global_conv_choice`).
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
import json
import os
import tempfile
import time

import keras

from keras_lk.layers.global_conv import GlobalConv
from keras_lk.layers.global_conv_choice import (
    _FORMAT_VERSION,
    FORMULATIONS,
    MODES,
    TUNING_FILE_ENV,
    device_signature,
    read_tuning,
    rule_implementation,
    tuning_file,
    tuning_key,
)
from keras_lk.utils.sublayers import all_layers

TUNE_ENV = "KERAS_LK_TUNE_GLOBAL_CONV"
# A formulation replaces the untuned rule's only if it is faster by more than this share.
MARGIN = 0.1

# The tuner's names, and the choice's (re-exported so that one import serves a tuner's
# user: benchmarks, tests).
__all__ = ["FORMULATIONS", "MARGIN", "MODES", "TUNE_ENV", "TUNING_FILE_ENV",
           "chosen_formulation", "device_signature", "forward_and_backward",
           "global_conv_calls", "measure_formulations", "read_tuning", "rule_implementation",
           "time_call", "tune_global_conv", "tuning_enabled", "tuning_file", "tuning_key"]


def tuning_enabled() -> bool:
    """Whether `keras_lk.training.train` tunes before training (``KERAS_LK_TUNE_GLOBAL_CONV``,
    on unless ``0``, ``false`` or ``off``)."""
    return os.environ.get(TUNE_ENV, "1").strip().lower() not in ("0", "false", "off", "no")


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


def chosen_formulation(milliseconds, rule):
    """The formulation recorded for one call: the fastest of `milliseconds` (formulation →
    ms) if it beats the untuned `rule`'s by more than `MARGIN`, else the rule's. Near-ties
    keep the rule, so that timing noise does not flip a machine's choice (and with it the
    float rounding of its runs) from one tuning to the next."""
    fastest = min(milliseconds, key=milliseconds.get)
    return fastest if milliseconds[fastest] < (1 - MARGIN) * milliseconds[rule] else rule


def global_conv_calls(model, input_size, batch_size=1):
    """``[(layer, input shape)]`` of every `GlobalConv` of the functional `model` at
    images of `input_size` ``(height, width)``, without computing anything."""
    layers = [layer for layer in all_layers(model) if isinstance(layer, GlobalConv)]
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
        rule = rule_implementation(*shape[1:4])
        for mode in todo:
            best = chosen_formulation(times[mode], rule)
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
