import keras
import numpy as np
import pytest

from keras_lk import models

# GALD Table 1: (a) GA modules, (b) +LD, (c) arrangements, (d) ResNet101, (e) LD
# downsampling. One call per row (small backbone here; the rows differ only in the head).
TABLE_1_ROWS = {
    "FCN": {"ga": None, "ld": False},
    "+LD": {"ga": None, "ld": True},
    "+NonLocal": {"ga": "nonlocal", "ld": False},
    "+ASPP": {"ga": "aspp", "ld": False},
    "+PSP": {"ga": "psp", "ld": False},
    "+CGNL": {"ga": "cgnl", "ld": False},
    "+PSP+LD": {"ga": "psp", "ld": True},
    "+ASPP+LD": {"ga": "aspp", "ld": True},
    "+NonLocal+LD": {"ga": "nonlocal", "ld": True},
    "+CGNL+LD": {"ga": "cgnl", "ld": True},
    "+LDGA": {"ga": "cgnl", "ld": True, "arrangement": "ldga"},
    "+Parallel": {"ga": "cgnl", "ld": True, "arrangement": "parallel"},
    "LD bilinear": {"ga": "cgnl", "ld": True, "ld_downsample": "bilinear"},
    "LD average": {"ga": "cgnl", "ld": True, "ld_downsample": "average"},
}


@pytest.mark.parametrize("row", sorted(TABLE_1_ROWS))
def test_gald_table_1_rows_build_and_run(row):
    kwargs = TABLE_1_ROWS[row]
    model = models.GALDNet(7, backbone="resnet18", head_channels=32, **kwargs)
    x = np.random.RandomState(0).uniform(size=(2, 41, 57, 3)).astype("float32")
    out = model(x)
    for key in ("logits", "aux_logits"):
        y = keras.ops.convert_to_numpy(out[key])
        assert y.shape == (2, 41, 57, 7) and np.all(np.isfinite(y)), key
    names = {layer.name for layer in model.layers}
    assert ("ld" in names) == kwargs["ld"]
    if kwargs["ga"]:
        assert f"ga_{kwargs['ga']}" in names


def test_gald_arrangement_order_and_dilated_backbone():
    model = models.GALDNet(7, backbone="resnet18", head_channels=32, arrangement="ldga")
    ld, ga = model.get_layer("ld"), model.get_layer("ga_downsample_conv")
    assert ga.input is ld.output  # LD then GA
    model = models.GALDNet(7, backbone="resnet18", head_channels=32)
    assert model.get_layer("ld").input is model.get_layer("ga_crop").output  # GA then LD
    assert model.get_layer("conv5_block1_1_conv").dilation_rate == (4, 4)
    assert model.get_layer("ga_cgnl").groups == 8
    assert models.AUX_LOSS_WEIGHT == 0.4


def test_gald_invalid_arguments():
    for kwargs, match in [({"ga": "se"}, "ga"), ({"arrangement": "serial"}, "arrangement"),
                          ({"ld_downsample": "max"}, "ld_downsample")]:
        with pytest.raises(ValueError, match=match):
            models.GALDNet(7, backbone="resnet18", **kwargs)


# --- variant="official": the head of GALD's public code (GALDHead + GALDBlock) ---


def test_official_head_is_the_public_codes_block_number_for_number():
    """GALDBlock returns LD(G) + G with G the upsampled (align corners) CGNL output of a
    valid, biased, stride-2 depthwise convolution; LD is the official LocalAttenModule.
    Checked in inference mode against the NumPy transcriptions of `tests/golden.py`."""
    from tests import golden

    keras.utils.set_random_seed(3)
    model = models.GALDNet(5, backbone="resnet10_narrow", variant="official",
                           head_channels=16, cgnl_groups=4)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # random BN statistics: a wrong epsilon or mean would show
        if isinstance(layer, keras.layers.BatchNormalization) and layer.name.startswith(
                ("ga_", "head_")):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c),
                               rng.normal(0, 0.1, c), rng.uniform(1e-4, 1e-3, c)])
    ld = model.get_layer("ld")
    stages = []
    for kernel, bias, bn in zip(ld.depthwise_kernels, ld.depthwise_biases, ld.norms):
        c = bias.shape[0]
        bias.assign(rng.normal(0, 0.3, c).astype("float32"))
        bn.set_weights([rng.uniform(0.5, 1.5, c), rng.uniform(0, 0.5, c),
                        rng.normal(0, 0.1, c), rng.uniform(1e-4, 1e-3, c)])
        stages.append({"kernel": np.asarray(kernel, np.float64),
                       "bias": np.asarray(bias, np.float64),
                       **dict(zip(("gamma", "beta", "mean", "variance"),
                                  (np.asarray(w, np.float64) for w in bn.get_weights())))})
    names = ("head_reduce_relu", "ga_downsample_conv", "ga_cgnl", "ga_upsample", "ld",
             "gald_residual")
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    x = np.random.RandomState(0).uniform(0, 255, (1, 257, 250, 3)).astype("float32")
    head, down, cgnl, upsampled, local, block = (
        np.asarray(t, np.float64) for t in probe(x, training=False))

    conv = model.get_layer("ga_downsample_conv")
    np.testing.assert_allclose(
        down, golden.depthwise_conv2d_valid(head, np.asarray(conv.kernel, np.float64),
                                            np.asarray(conv.bias, np.float64), stride=2),
        rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        upsampled, golden.resize_bilinear_align_corners(cgnl, *head.shape[1:3]),
        rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(local, golden.local_distribution_official(upsampled, stages),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(block, local + upsampled, rtol=1e-5, atol=1e-5)  # M⊙G + 2G

    batch_norms = [layer for layer in model.layers
                   if isinstance(layer, keras.layers.BatchNormalization)
                   and not layer.name.startswith("conv")]
    assert batch_norms and all(bn.epsilon == 1e-5 and bn.momentum == 0.9 for bn in batch_norms)
    assert model.get_layer("ga_cgnl").use_scale is False
    assert not any(type(layer) is keras.layers.Dropout for layer in model.layers)  # main head
    assert isinstance(model.get_layer("aux_dropout"), keras.layers.SpatialDropout2D)
    assert model.get_layer("aux_conv").use_bias and not model.get_layer("head_fuse_conv").use_bias


def test_official_variant_round_trips_and_refuses_other_heads(tmp_path):
    model = models.GALDNet(5, backbone="resnet10_narrow", variant="official",
                           head_channels=16, cgnl_groups=4, aux_head=False)
    x = np.random.RandomState(1).uniform(0, 255, (1, 250, 263, 3)).astype("float32")
    logits = model(x, training=False)
    assert tuple(logits.shape) == (1, 250, 263, 5)
    model.save(tmp_path / "official.keras")
    restored = keras.saving.load_model(tmp_path / "official.keras", safe_mode=True)
    assert restored.variant == "official"
    np.testing.assert_allclose(restored(x, training=False), logits, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="variant='official'.*ga='psp'"):
        models.GALDNet(5, backbone="resnet18", variant="official", ga="psp")
    with pytest.raises(ValueError, match="`variant` must be one of"):
        models.GALDNet(5, backbone="resnet18", variant="pytorch")
