"""A shared model test: the checks every keras_lk segmentation family must pass.

Built on the ideas of keras-hub's test case (`run_serialization_test`,
`run_precision_test`, `run_model_saving_test`), written for keras_lk's families.
"""

import json
import os
import tempfile

import keras
import numpy as np

from keras_lk.utils.sublayers import all_layers


def batch_norms(model):
    return [layer for layer in all_layers(model)
            if isinstance(layer, keras.layers.BatchNormalization)]


def randomise_batch_norms(layer, seed=0):
    """Sets the scale, offset and moving statistics of every BatchNormalization inside
    `layer` to seeded values away from their defaults, so that a test sees them folded,
    merged or exported rather than the identity."""
    rng = np.random.default_rng(seed)
    for bn in batch_norms(layer):
        for weight, (low, high) in zip(
                (bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance),
                ((0.5, 1.5), (-0.5, 0.5), (-0.5, 0.5), (0.2, 2.0))):
            weight.assign(rng.uniform(low, high, weight.shape).astype("float32"))


def _numpy(structure):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, structure)


def run_model_test(model_cls, init_kwargs, input_shape=(2, 32, 32, 3), seed=0):
    """Runs the standard checks on `model_cls(**init_kwargs)` (a `SegmentationModel`).

    Checks:
    - config: ``get_config()`` survives JSON and ``from_config`` rebuilds the same config;
    - saving: a ``.keras`` round trip with ``safe_mode=True`` returns the same class with
      the same config and outputs;
    - precision: under ``mixed_bfloat16`` every layer computes in bfloat16 except the
      float32 logits, every variable is float32, outputs are finite float32;
    - training: ``compile()`` with the family's own losses (``loss="auto"``) and one
      ``train_on_batch`` on ``targets(labels)`` give a finite loss and change every
      trainable weight.

    Args:
        model_cls: the family's class.
        init_kwargs: constructor arguments (small, e.g. ``backbone="resnet10_narrow"``).
        input_shape: input batch shape.
        seed: seed of the weights and the random batch.

    Returns:
        The float32 model that was trained one step.
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, input_shape).astype("float32")

    # === Config ===
    keras.utils.set_random_seed(seed)
    model = model_cls(**init_kwargs)
    assert type(model) is model_cls, type(model)
    config = model.get_config()
    text = json.dumps(config, sort_keys=True)
    rebuilt = model_cls.from_config(json.loads(text))
    assert json.dumps(rebuilt.get_config(), sort_keys=True) == text

    # === Saving ===
    expected = _numpy(model(images, training=False))
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
    assert type(restored) is model_cls, type(restored)
    assert json.dumps(restored.get_config(), sort_keys=True) == text
    keras.tree.map_structure(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5),
        expected, _numpy(restored(images, training=False)))

    # === Precision ===
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = model_cls(**init_kwargs)
        outputs = mixed(images, training=False)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    for layer in all_layers(mixed):
        if not layer.name.endswith("logits"):
            assert layer.compute_dtype == "bfloat16", (layer.name, layer.compute_dtype)
    for variable in mixed.weights:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    for output in keras.tree.flatten(outputs):
        assert keras.backend.standardize_dtype(output.dtype) == "float32"
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(output)))

    # === One train step with the family's losses ===
    labels = rng.integers(0, model.num_classes, input_shape[:3]).astype("int32")
    model.compile(optimizer=keras.optimizers.SGD(0.01))
    before = [np.array(w) for w in model.trainable_weights]
    logs = model.train_on_batch(images, model.targets(labels), return_dict=True)
    assert np.isfinite(logs["loss"]), logs
    unchanged = [w.path for w, b in zip(model.trainable_weights, before)
                 if np.array_equal(np.array(w), b)]
    assert not unchanged, unchanged
    return model
