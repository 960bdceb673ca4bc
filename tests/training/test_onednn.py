"""The warning before training a strided 1x1 convolution on few channels (oneDNN bug)."""

import warnings

import keras
import pytest

from keras_lk.training import TrainConfig, onednn, train
from keras_lk.training import trainer as trainer_module


def _model(channels, strides=2, kernel=1, dtype=None):
    inputs = keras.Input((16, 16, channels))
    x = keras.layers.Conv2D(8, kernel, strides=strides, dtype=dtype, name="probe")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(2, 1, name="logits")(x), name="user_net")


def test_finds_only_trainable_float32_strided_1x1_convs_on_fewer_than_16_channels():
    assert [layer.name for layer in onednn.strided_pointwise_convolutions(_model(4))] == ["probe"]
    assert [layer.name for layer in onednn.strided_pointwise_convolutions(_model(15))] == ["probe"]
    for safe in (_model(16), _model(4, strides=1), _model(4, kernel=3),
                 _model(4, dtype="mixed_bfloat16")):
        assert not onednn.strided_pointwise_convolutions(safe)
    frozen = _model(4)
    frozen.get_layer("probe").trainable = False
    assert not onednn.strided_pointwise_convolutions(frozen)
    nested_inputs = keras.Input((16, 16, 4))
    nested = keras.Model(nested_inputs, _model(4)(nested_inputs))
    assert [layer.name for layer in onednn.strided_pointwise_convolutions(nested)] == ["probe"]


def test_warns_naming_the_layer_and_the_ways_out(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    with pytest.warns(RuntimeWarning, match=r"'user_net'.*\(probe\).*oneDNN#6035.*"
                                            r"at least 16 input channels.*TF_ENABLE_ONEDNN_OPTS=0"):
        assert onednn.check_onednn_pointwise_gradients(_model(4)) == ["probe"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert onednn.check_onednn_pointwise_gradients(_model(16)) == []
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
        assert onednn.check_onednn_pointwise_gradients(_model(4)) == []


def test_train_checks_the_model_it_built(tmp_path, monkeypatch):
    checked = []

    class Stop(Exception):
        pass

    def spy(model):
        checked.append(model.name)
        raise Stop

    monkeypatch.setattr(trainer_module, "check_onednn_pointwise_gradients", spy)
    config = TrainConfig(output_dir=str(tmp_path), model="gcn", backbone="resnet10_narrow",
                         model_options={"k": 3}, crop_size=32, batch_size=2, steps=2,
                         steps_per_epoch=1, tensorboard=False, verbose=0)
    with pytest.raises(Stop):
        train(config)
    assert len(checked) == 1
