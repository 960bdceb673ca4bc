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
