"""`train` end to end under each mixed-precision policy: float32 logits/loss, loadable."""

import keras
import numpy as np
import pytest

from keras_lk.training import TrainConfig, train


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_train_with_mixed_precision(tmp_path, precision):
    config = TrainConfig(
        output_dir=str(tmp_path), backbone="resnet18", model_options={"k": 3}, crop_size=32, image_size=48,
        num_train_images=4, batch_size=2, steps=2, steps_per_epoch=2, learning_rate=0.001,
        precision=precision, checkpoint_every=1, tensorboard=False, verbose=0,
    )
    result = train(config)
    model = result.model
    assert result.precision == precision
    # Keras wraps the optimizer in dynamic loss scaling for float16 only; its first steps
    # overflow at the initial scale 2**15 and are skipped (not counted by the optimizer),
    # but they are global steps: the checkpoints and the result count batches.
    scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (precision == "mixed_float16")
    assert result.step == 2
    assert result.optimizer_steps <= 2 if scaled else result.optimizer_steps == 2
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "step_000001.keras", "step_000002.keras"]
    assert model.compute_dtype == precision.removeprefix("mixed_")
    assert all(w.dtype == "float32" for w in model.weights if w.trainable)
    assert np.isfinite(result.history["loss"]).all(), result.history
    assert all(np.isfinite(w.numpy()).all() for w in model.weights)
    logits = model(np.zeros((1, 32, 32, 3), "float32"))
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    restored = keras.saving.load_model(result.model_path, safe_mode=True)
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
