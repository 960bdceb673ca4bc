"""A shared layer test: the checks every keras_lk layer must pass.

`keras.src.testing` is private to Keras, so keras_lk keeps its own. Each check
asserts behaviour (equal outputs, changed weights, dtypes), never only that the
code ran.
"""

import os
import tempfile

import keras
import numpy as np


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    expected_output_shape,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=0,
    seed=0,
    without_gradient=(),
):
    """Runs the standard checks on `layer_cls(**init_kwargs)`.

    Checks: `get_config()` round-trip (exactly the constructor arguments plus
    the base ones), symbolic and eager output shapes, a `.keras` save/load with
    `safe_mode=True` giving identical outputs, a compiled training step that
    changes every trainable weight, a `jit_compile=True` float32 predict equal
    to eager, and `mixed_bfloat16` / `mixed_float16` calls that return finite outputs
    in the compute dtype with float32 weights, within 2e-2 of the float32 output (of its
    range) on the same weights.

    Args:
        layer_cls: the layer class.
        init_kwargs: dict of constructor arguments.
        input_shape: tuple with the batch dimension, e.g. `(2, 9, 13, 8)`.
        expected_output_shape: tuple, the output shape for `input_shape`.
        expected_num_trainable_weights: int or None (not checked).
        expected_num_non_trainable_weights: int.
        seed: int, for the random input.
        without_gradient: names of weights (the end of their path) whose gradient is
            zero by construction, which the training step must leave alone: a
            convolution's bias right before a BatchNorm in training mode (the norm
            subtracts the batch mean, bias included).
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape).astype("float32")

    # Config round trip: the config holds exactly the constructor arguments.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for key, value in init_kwargs.items():
        assert key in config, f"get_config() of {layer_cls.__name__} lacks {key!r}"
        if isinstance(value, (bool, int, float)) or key in ("implementation", "downsample"):
            assert config[key] == value, f"get_config()[{key!r}] = {config[key]!r} != {value!r}"
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, "from_config(get_config()) changed the config"

    # Symbolic and eager shapes.
    symbolic = layer(keras.Input(shape=input_shape[1:], batch_size=input_shape[0]))
    assert tuple(symbolic.shape) == tuple(expected_output_shape), symbolic.shape
    eager = np.asarray(layer(x))
    assert eager.shape == tuple(expected_output_shape), eager.shape
    assert np.all(np.isfinite(eager)), "eager output has NaN or Inf"
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights, [
            w.path for w in layer.trainable_weights
        ]
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    # A model around the layer: save/load with safe_mode, equal outputs.
    inputs = keras.Input(shape=input_shape[1:])
    model = keras.Model(inputs, layer_cls(**init_kwargs)(inputs))
    reference = np.asarray(model(x))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(restored(x)), reference, rtol=1e-6, atol=1e-6)

    # XLA in float32 agrees with eager.
    model.compile(jit_compile=True)
    jitted = model.predict(x, verbose=0)
    np.testing.assert_allclose(jitted, reference, rtol=1e-4, atol=1e-4)

    # A compiled training step changes every trainable weight.
    if model.trainable_weights:
        before = [np.array(w) for w in model.trainable_weights]
        target = rng.standard_normal(expected_output_shape).astype("float32")
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        model.fit(x, target, batch_size=input_shape[0], epochs=1, verbose=0)
        for old, weight in zip(before, model.trainable_weights):
            if weight.path.endswith(tuple(without_gradient)):
                np.testing.assert_allclose(np.array(weight), old, atol=1e-6,
                                           err_msg=f"{weight.path} has a gradient")
                continue
            assert not np.array_equal(old, np.array(weight)), f"{weight.path} did not change"

    # Mixed precision: compute dtype outputs, float32 variables, and on the float32
    # layer's weights, values within 2e-2 (of the output's range) of its float32 output.
    expected = np.asarray(layer(x))
    for policy in ("mixed_bfloat16", "mixed_float16"):
        mixed = layer_cls(**init_kwargs, dtype=policy)
        mixed(x)
        mixed.set_weights(layer.get_weights())
        out = mixed(x)
        assert keras.backend.standardize_dtype(out.dtype) == policy.split("_")[1], out.dtype
        assert all(w.dtype == "float32" for w in mixed.weights)
        out = np.asarray(keras.ops.cast(out, "float32"))
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out, expected, rtol=0,
                                   atol=2e-2 * max(np.abs(expected).max(), 1e-6),
                                   err_msg=f"{layer_cls.__name__} under {policy}")
    return layer
