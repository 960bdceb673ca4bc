"""keras-hub backbones under GCNSeg, GALDNet and FCRN (randomly initialised backbones)."""

import math

import keras
import numpy as np
import pytest

import keras_lk
from keras_lk.backbones import hub
from keras_lk.training import TrainConfig, initialization

keras_hub = pytest.importorskip("keras_hub", reason="needs the optional `hub` extra")


def _resnet(block_type="basic_block", pre_activation=False):
    vd = block_type.endswith("_vd")
    keras.utils.set_random_seed(0)
    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[32, 32, 64] if vd else [64],
        input_conv_kernel_sizes=[3, 3, 3] if vd else [7],
        stackwise_num_filters=[64, 16, 16, 16], stackwise_num_blocks=[1, 2, 1, 2],
        stackwise_num_strides=[1, 2, 2, 2], block_type=block_type,
        use_pre_activation=pre_activation)


@pytest.fixture(scope="module")
def backbone():
    return _resnet()


def _images(height=70, width=90, batch=1):
    return np.random.RandomState(0).uniform(0, 255, (batch, height, width, 3)).astype("float32")


@pytest.mark.parametrize(("block_type", "pre_activation"), [
    ("basic_block", False), ("bottleneck_block", False), ("bottleneck_block_vd", False),
    ("basic_block", True)])
@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_pyramid_copies_the_backbone_and_dilates_past_the_output_stride(
        block_type, pre_activation, output_stride):
    backbone = _resnet(block_type, pre_activation)
    x = _images(97, 131)
    reference = keras.Model(backbone.input, backbone.pyramid_outputs)(x)
    features = hub.build(backbone, output_stride=output_stride)(x)
    for key, level in hub.PYRAMID_LEVELS.items():
        stride = min(2 ** int(level[1]), output_stride)
        assert tuple(features[key].shape[1:3]) == (math.ceil(97 / stride),
                                                   math.ceil(131 / stride)), key
        if 2 ** int(level[1]) <= output_stride:  # stages before the dilation: the same
            np.testing.assert_allclose(features[key], reference[level], rtol=1e-5, atol=1e-5)
        assert np.all(np.isfinite(features[key]))


def test_dilation_rates_follow_deeplab(backbone):
    """Output stride 8: res-4 at rate 2, res-5 at rate 4, each stage's first (formerly
    strided) convolution at the rate before it, as `keras_lk.backbones.ResNetBackbone`."""
    model = hub.build(backbone, output_stride=8)
    rates = {layer.name: layer.dilation_rate[0] for layer in model.layers
             if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size[0] > 1}
    assert rates["backbone_stack1_block0_1_conv"] == 1  # res-3 keeps its stride
    assert rates["backbone_stack2_block0_1_conv"] == 1
    assert rates["backbone_stack2_block0_2_conv"] == 2
    assert rates["backbone_stack3_block0_1_conv"] == 2
    assert rates["backbone_stack3_block1_2_conv"] == 4
    assert model.get_layer("backbone_stack3_block0_1_pad").padding == ((2, 2), (2, 2))
    assert len(model.weights) == len(backbone.weights) > 0
    for weight in model.weights:
        source = backbone.get_layer(weight.path.split("/")[0][len(hub.LAYER_PREFIX):])
        match = [w for w in source.weights if w.name == weight.name]
        np.testing.assert_array_equal(weight, match[0])


@pytest.mark.parametrize(("family", "options"), [
    ("GCNSeg", {"k": 7}), ("GALDNet", {"ga": "cgnl", "ld": True}),
    ("FCRN", {})])
def test_every_family_takes_a_hub_backbone_and_reloads_offline(backbone, tmp_path, family,
                                                              options):
    model = getattr(keras_lk.models, family)(5, backbone=backbone, **options)
    assert model.normalization == "torch"
    x = _images()
    logits = model.main_logits(model(x, training=False))
    assert tuple(logits.shape) == (1, 70, 90, 5)
    config = model.get_config()["backbone"]
    assert config["class_name"] == "ResNetBackbone" and config["module"].startswith("keras_hub")
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded.main_logits(reloaded(x, training=False)), logits,
                               rtol=1e-5, atol=1e-5)


def test_preset_directory_on_disk_loads_its_weights(backbone, tmp_path):
    backbone.save_to_preset(str(tmp_path / "preset"))
    model = keras_lk.models.GCNSeg(3, k=5, backbone=f"keras_hub:{tmp_path / 'preset'}")
    copy = model.get_layer("backbone_stack3_block1_2_conv").kernel
    np.testing.assert_array_equal(copy, backbone.get_layer("stack3_block1_2_conv").kernel)


def test_training_config_cli_choice_lr_multiplier_and_frozen_batch_norm(backbone, tmp_path):
    backbone.save_to_preset(str(tmp_path / "preset"))
    name = f"keras_hub:{tmp_path / 'preset'}"
    assert TrainConfig(backbone=name).backbone == name
    with pytest.raises(ValueError, match="keras_hub:<preset"):
        TrainConfig(backbone="resnet_unknown")
    model = keras_lk.models.FCRN(3, backbone=name, output_stride=16)
    batch_norms = [layer for layer in model.layers
                   if isinstance(layer, keras.layers.BatchNormalization)]
    assert initialization.freeze_backbone_batch_norm(model) == len(batch_norms) > 0
    import re

    pattern = re.compile(keras_lk.training.BACKBONE_PATTERN)
    assert all(pattern.match(w.path) for w in model.weights if "classifier" not in w.path)
    assert not any(pattern.match(w.path) for w in model.weights if "classifier" in w.path)


def test_bad_hub_backbones_are_refused_with_the_reason(backbone):
    with pytest.raises(ValueError, match="backbone_weights"):
        keras_lk.models.GCNSeg(3, backbone=backbone, backbone_weights="imagenet")
    with pytest.raises(ValueError, match="dropout=False"):
        keras_lk.models.FCRN(3, backbone=backbone, dropout=True)
    with pytest.raises(ValueError, match="names no preset"):
        keras_lk.models.GCNSeg(3, backbone="keras_hub:")
    no_pyramid = keras_hub.models.Backbone(
        inputs := keras.Input((None, None, 3)), keras.layers.Conv2D(4, 3)(inputs))
    with pytest.raises(ValueError, match="pyramid outputs P2..P5"):
        keras_lk.models.GCNSeg(3, backbone=no_pyramid)


def test_mixed_precision_model_exports_to_onnx_in_float32(tmp_path):
    pytest.importorskip("onnxruntime", reason="needs the optional `export` extra")
    from keras_lk import export

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = keras_lk.models.GALDNet(5, backbone=_resnet(), ga="cgnl", ld=True)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("backbone_conv1_conv").compute_dtype == "bfloat16"
    export.export_model(model, tmp_path / "model.onnx", format="onnx")
    x = _images()
    exported = export.load_exported(tmp_path / "model.onnx")(x)
    reference = export.float32_model(model)
    expected = keras.ops.convert_to_numpy(reference.main_logits(reference(x)))
    np.testing.assert_allclose(exported, expected, rtol=1e-4, atol=1e-4)
