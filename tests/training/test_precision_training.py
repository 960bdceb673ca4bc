"""`train` end to end under each mixed-precision policy: float32 logits/loss, loadable."""

import keras
import numpy as np
import pytest

from keras_lk.export import float32_model
from keras_lk.training import TrainConfig, build_model, set_precision, train


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_train_with_mixed_precision(tmp_path, precision):
    config = TrainConfig(
        output_dir=str(tmp_path), backbone="resnet10_narrow", model_options={"k": 3},
        crop_size=32, image_size=48, num_train_images=4, batch_size=2, steps=8,
        steps_per_epoch=4, learning_rate=0.001, precision=precision, checkpoint_every=4,
        tensorboard=False, verbose=0,
    )
    keras.utils.set_random_seed(config.seed)  # the initial weights `train` starts from
    set_precision(precision)
    try:
        initial = [w.numpy() for w in build_model(config).trainable_weights]
    finally:
        keras.mixed_precision.set_global_policy("float32")
    result = train(config)
    model = result.model
    assert result.precision == precision
    # Keras wraps the optimizer in dynamic loss scaling for float16 only; its first steps
    # overflow at the initial scale 2**15 and are skipped (not counted by the optimizer),
    # but they are global steps: the checkpoints and the result count batches. Eight
    # steps leave room for the scale to come down: some must be applied.
    scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (precision == "mixed_float16")
    assert result.step == 8
    assert 1 <= result.optimizer_steps < 8 if scaled else result.optimizer_steps == 8
    changed = [not np.array_equal(a, w.numpy())
               for a, w in zip(initial, model.trainable_weights)]
    assert all(changed), [w.path for w, c in zip(model.trainable_weights, changed) if not c]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "step_000004.keras", "step_000008.keras"]
    assert model.compute_dtype == precision.removeprefix("mixed_")
    assert all(w.dtype == "float32" for w in model.weights if w.trainable)
    assert np.isfinite(result.history["loss"]).all(), result.history
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)
    # The logits: float32, and within 2e-2 (of their range) of the same weights in float32.
    images = np.random.default_rng(0).normal(0, 50, (2, 32, 32, 3)).astype("float32")
    logits = model(images, training=False)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    reference = keras.ops.convert_to_numpy(float32_model(model)(images, training=False))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(logits), reference, rtol=0,
                               atol=2e-2 * np.abs(reference).max())
    restored = keras.saving.load_model(result.model_path, safe_mode=True)
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
