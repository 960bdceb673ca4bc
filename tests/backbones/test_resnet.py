import math

import h5py
import keras
import numpy as np
import pytest

from keras_lk import backbones
from keras_lk.utils import count_flops


def _spatial(model, name):
    return tuple(model.get_layer(name).output.shape[1:3])


@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_resnet18_feature_shapes_odd_size_batch(output_stride):
    model = backbones.ResNet18(output_stride=output_stride)
    x = np.random.RandomState(0).uniform(size=(2, 97, 131, 3)).astype("float32")
    features = model(x, training=False)
    assert sorted(features) == ["res2", "res3", "res4", "res5"]
    strides = {"res2": 4, "res3": 8, "res4": min(16, output_stride), "res5": output_stride}
    channels = {"res2": 64, "res3": 128, "res4": 256, "res5": 512}
    for key, stride in strides.items():
        expected = (2, math.ceil(97 / stride), math.ceil(131 / stride), channels[key])
        assert tuple(features[key].shape) == expected, key
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(features[key])))


def test_resnet50_matches_keras_applications_by_copy_and_legacy_h5(tmp_path):
    keras.utils.set_random_seed(1)
    reference = keras.applications.ResNet50(
        weights=None, include_top=False, input_shape=(None, None, 3)
    )
    # Random BN statistics so that a misplaced moving mean/variance would show.
    rng = np.random.RandomState(0)
    for layer in reference.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                gamma, beta + 0.1 * rng.randn(*beta.shape).astype("float32"),
                0.1 * rng.randn(*mean.shape).astype("float32"),
                rng.uniform(0.5, 1.5, var.shape).astype("float32"),
            ])
    ours = backbones.ResNet50()
    ours_names = {layer.name for layer in ours.layers if layer.weights}
    ref_names = {layer.name for layer in reference.layers if layer.weights}
    assert ours_names == ref_names
    for name in ours_names:
        ours.get_layer(name).set_weights(reference.get_layer(name).get_weights())
    x = rng.uniform(-100, 100, size=(2, 64, 64, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(reference(x, training=False))
    features = ours(x, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(features["res5"]), expected,
                               rtol=1e-5, atol=1e-5)
    res4_ref = keras.Model(reference.input, reference.get_layer("conv4_block6_out").output)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(features["res4"]),
                               keras.ops.convert_to_numpy(res4_ref(x, training=False)),
                               rtol=1e-5, atol=1e-5)

    # The official ImageNet files are legacy Keras 2 `.h5`: loaded by layer name.
    from keras.src.legacy.saving import legacy_h5_format

    path = tmp_path / "resnet50_notop.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    loaded = backbones.ResNet50(weights=str(path))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x, training=False)["res5"]), expected,
        rtol=1e-5, atol=1e-5,
    )


def test_imagenet_weights_fail_clearly_offline(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("URL fetch failure: no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(OSError, match="offline.*weights="):
        backbones.ResNet50(weights="imagenet")
    with pytest.raises(ValueError, match="No ImageNet weights"):
        backbones.ResNet18(weights="imagenet")


def test_local_keras3_weights_file_round_trip(tmp_path):
    keras.utils.set_random_seed(2)
    first = backbones.ResNet18()
    path = str(tmp_path / "r18.weights.h5")
    first.save_weights(path)
    second = backbones.ResNet18(weights=path)
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))
    with pytest.raises(ValueError, match="weights"):
        backbones.ResNet18(weights=str(tmp_path / "missing.weights.h5"))


def test_output_stride_and_multi_grid_dilations():
    model = backbones.ResNet50(output_stride=8, multi_grid=(1, 2, 4))
    assert model.get_layer("conv4_block1_1_conv").strides == (1, 1)
    assert model.get_layer("conv4_block3_2_conv").dilation_rate == (2, 2)
    rates = [model.get_layer(f"conv5_block{i}_2_conv").dilation_rate[0] for i in (1, 2, 3)]
    assert rates == [4, 8, 16]
    assert _spatial(backbones.ResNet50(input_shape=(64, 64, 3), output_stride=16),
                    "conv5_block3_out") == (4, 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"output_stride": 4}, "output_stride"), ({"multi_grid": (1, 2, 4)}, "multi_grid"),
     ({"dropout_rate": 1.5}, "dropout_rate")],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        backbones.ResNet18(**kwargs)
    with pytest.raises(ValueError, match="backbone"):
        backbones.get_backbone("vgg16")


def test_sync_bn_dropout_and_preprocessing_switches():
    model = backbones.ResNet18(use_sync_bn=True, include_preprocessing=True,
                               dropout_rate=0.5, num_dropout_blocks=2)
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert bns and all(bn.synchronized for bn in bns)
    dropouts = [l.name for l in model.layers if isinstance(l, keras.layers.Dropout)]
    assert dropouts == ["conv5_block1_dropout", "conv5_block2_dropout"]
    assert model.layers[1].name == "preprocessing"


def test_resnet50_gcn_table11_structure_and_flops():
    """GCN Table 11: ResNet50-GCN conv FLOPs at 224x224 equal ResNet50's (3700 M)."""
    gcn = backbones.ResNet50GCN()
    base = backbones.ResNet50()
    ratio = count_flops(gcn, (224, 224, 3)) / count_flops(base, (224, 224, 3))
    assert abs(ratio - 1) < 0.05, ratio
    assert gcn.get_layer("conv4_block6_gcn_left_1_conv").kernel_size == (1, 5)
    assert gcn.get_layer("conv4_block6_gcn_right_1_conv").kernel_size == (5, 1)
    assert gcn.get_layer("conv4_block6_gcn_left_2_conv").filters == 85
    assert gcn.get_layer("conv5_block3_gcn_right_2_conv").kernel_size == (1, 7)
    assert gcn.get_layer("conv5_block3_gcn_left_1_conv").filters == 128
    assert gcn.get_layer("conv5_block3_gcn_left_1_bn") is not None  # BN+ReLU after each conv
    features = gcn(np.zeros((1, 65, 33, 3), "float32"))
    assert tuple(features["res5"].shape) == (1, 3, 2, 2048)
    assert tuple(features["res4"].shape) == (1, 5, 3, 1024)


@pytest.mark.parametrize("name", backbones.BACKBONES.names())
def test_no_backbone_has_a_strided_1x1_conv_on_fewer_than_16_channels(name):
    # Its gradient can corrupt the heap through oneDNN (keras_lk.training.onednn).
    from keras_lk.training.onednn import strided_pointwise_convolutions

    model = backbones.BACKBONES[name].build(weights=None, input_shape=(64, 64, 3))
    assert not strided_pointwise_convolutions(model)
