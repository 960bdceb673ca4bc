import keras
import numpy as np
import pytest

from keras_lk import models

# FCRN Table 1 (PASCAL VOC) and Table 2 (Cityscapes): depth, resolution, kernel,
# dilation, FoV. The FoV column does not depend on depth.
FCRN_TABLE_ROWS = [
    (depth, res, k, d, fov)
    for depth in (50, 101, 152)
    for res, k, d, fov in [(16, 3, 6, 208), (8, 3, 6, 104), (8, 3, 12, 200), (8, 3, 18, 296),
                           (8, 5, 6, 200), (8, 5, 12, 392), (8, 7, 6, 296)]
]


@pytest.mark.parametrize("output_stride, kernel_size, dilation, fov",
                         sorted({row[1:] for row in FCRN_TABLE_ROWS}))
def test_fov_column_of_fcrn_tables_1_and_2_through_builder(
        output_stride, kernel_size, dilation, fov):
    model = models.FCRN(21, backbone="resnet18", output_stride=output_stride, kernel_size=kernel_size,
                        dilation=dilation, upsample_logits=False)
    assert model.field_of_view == fov
    assert models.fcrn_field_of_view(output_stride, kernel_size, dilation) == fov
    # The score map really has the stated resolution.
    assert tuple(model(np.zeros((1, 64, 64, 3), "float32")).shape) == (
        1, 64 // output_stride, 64 // output_stride, 21)


def test_fcrn_101_best_row_fov_and_dropout():
    model = models.FCRN(21, backbone="resnet101", output_stride=8, kernel_size=5, dilation=12,
                        dropout=True)
    assert model.field_of_view == 392
    dropouts = [l.name for l in model.layers if isinstance(l, keras.layers.Dropout)]
    assert dropouts == [f"conv5_block{i}_dropout" for i in (1, 2, 3)]
    assert model.get_layer("conv5_block1_2_conv").dilation_rate == (4, 4)


def test_fcrn_logits_at_input_resolution_odd_size_and_gradients():
    keras.utils.set_random_seed(0)
    model = models.FCRN(5, backbone="resnet18", output_stride=8, kernel_size=3, dilation=6)
    x = np.random.RandomState(0).uniform(size=(2, 45, 37, 3)).astype("float32")
    y = model(x)
    assert tuple(y.shape) == (2, 45, 37, 5)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(y)))


@pytest.mark.parametrize("kwargs, match", [({"kernel_size": 4}, "kernel_size"),
                                           ({"backbone": "resnet34"}, "backbone"),
                                           ({"dilation": 0}, "dilation")])
def test_fcrn_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.FCRN(21, **kwargs)


def test_high_resolution_simulation_is_exact_for_a_subsampling_network():
    """A stride-8 'network' that reads pixel (8i, 8j): four shifted passes must give
    exactly the stride-4 reading of pixel (4i, 4j) (FCRN Fig. 1)."""
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(3, 1, strides=8, use_bias=False)(inputs)
    stride8 = keras.Model(inputs, outputs)
    stride8.layers[-1].set_weights([np.eye(3, dtype="float32")[None, None]])
    wrapper = models.HighResolutionSimulation(stride8, output_stride=8)
    x = np.random.RandomState(0).uniform(size=(2, 32, 48, 3)).astype("float32")
    fine = keras.ops.convert_to_numpy(wrapper(x))
    np.testing.assert_array_equal(fine, x[:, ::4, ::4])


def test_high_resolution_simulation_of_fcrn_shapes_and_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    fcrn = models.FCRN(4, backbone="resnet18", output_stride=8, kernel_size=3, dilation=2,
                       upsample_logits=False)
    wrapper = models.HighResolutionSimulation(fcrn, output_stride=8)
    x = np.random.RandomState(1).uniform(size=(1, 64, 32, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(wrapper(x))
    assert y.shape == (1, 16, 8, 4)
    # Pass (0, 0) is the plain model at even positions.
    np.testing.assert_allclose(y[:, ::2, ::2], keras.ops.convert_to_numpy(fcrn(x)),
                               rtol=1e-5, atol=1e-5)
    path = str(tmp_path / "wrapper.keras")
    wrapper.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(x)), y, rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match="factor"):
        models.HighResolutionSimulation(fcrn, output_stride=8, factor=3)
