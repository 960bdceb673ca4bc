"""A run started from another run's whole model (`init_from`, GCN's stages), and a
backbone whose BatchNorm statistics stay fixed (`freeze_batch_norm`, FCRN Sec. 3.2)."""

import numpy as np
import pytest

from keras_lk.training import TrainConfig, train
from keras_lk.training.trainer import build_model, seed_everything

TINY = {"model": "gcn", "backbone": "resnet10_narrow", "model_options": {"k": 3},
        "image_size": 32, "crop_size": 32, "num_train_images": 4, "batch_size": 2,
        "steps": 2, "steps_per_epoch": 1, "tensorboard": False, "verbose": 0}


def _config(output_dir, **changes):
    return TrainConfig(**{**TINY, **changes}, output_dir=str(output_dir))


@pytest.mark.slow
def test_a_stage_starts_from_the_previous_stage_model(tmp_path):
    first = train(_config(tmp_path / "stage1", learning_rate=0.01))
    # lr so small that one SGD step moves no weight measurably: the second stage's
    # weights are then the first stage's, not a fresh initialisation.
    second = train(_config(tmp_path / "stage2", init_from=str(tmp_path / "stage1"),
                           learning_rate=1e-12, momentum=0.0, l2=0.0, seed=7))
    seed_everything(7)
    fresh = build_model(_config(tmp_path / "fresh"))
    pairs = list(zip(first.model.weights, second.model.weights, strict=True))
    assert all(a.path == b.path for a, b in pairs)
    trainable = [(a, b) for a, b in pairs if b.trainable]
    for a, b in trainable:
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-6, err_msg=b.path)
    assert any(not np.allclose(a.numpy(), f.numpy())
               for (a, _), f in zip(pairs, fresh.weights, strict=True))
    assert TrainConfig.from_json(
        (tmp_path / "stage2" / "config.json").read_text()).init_from == str(tmp_path / "stage1")


@pytest.mark.slow
def test_init_from_another_configuration_names_the_weights(tmp_path):
    train(_config(tmp_path / "k3"))
    with pytest.raises(ValueError, match="not a model of this configuration.*other shapes: "
                                         "res5_gcn"):
        train(_config(tmp_path / "k5", model_options={"k": 5},
                      init_from=str(tmp_path / "k3" / "model.keras")))
    with pytest.raises(ValueError, match="does not exist"):
        train(_config(tmp_path / "x", init_from=str(tmp_path / "missing.keras")))
    with pytest.raises(ValueError, match="must be a .keras file"):
        train(_config(tmp_path / "y", init_from=str(tmp_path / "k3" / "config.json")))


@pytest.mark.slow
def test_frozen_backbone_batch_norm_keeps_its_statistics(tmp_path):
    import keras

    result = train(_config(tmp_path / "frozen", freeze_batch_norm=True, learning_rate=0.05))
    layers = [layer for layer in result.model._flatten_layers(include_self=False)
              if isinstance(layer, keras.layers.BatchNormalization)]
    backbone = [layer for layer in layers if layer.name.startswith(("conv", "pool1"))]
    assert backbone and all(not layer.trainable for layer in backbone)
    for layer in backbone:  # their initial values: nothing updated them
        np.testing.assert_array_equal(layer.moving_mean.numpy(), 0.0, err_msg=layer.name)
        np.testing.assert_array_equal(layer.moving_variance.numpy(), 1.0, err_msg=layer.name)
        np.testing.assert_array_equal(layer.gamma.numpy(), 1.0, err_msg=layer.name)
    moving = train(_config(tmp_path / "trained", learning_rate=0.05)).model
    assert any(np.any(layer.moving_mean.numpy() != 0.0)
               for layer in moving._flatten_layers(include_self=False)
               if isinstance(layer, keras.layers.BatchNormalization)
               and layer.name.startswith("conv"))
