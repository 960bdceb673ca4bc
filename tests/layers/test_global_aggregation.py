import keras
import numpy as np
import pytest

from keras_lk import layers as lk_layers

GA_CASES = [
    (lk_layers.CGNL, {"groups": 4}),
    (lk_layers.NonLocal, {}),
    (lk_layers.PyramidPooling, {}),
    (lk_layers.ASPP, {"rates": (2, 3), "branch_filters": 8}),
]


@pytest.mark.parametrize("cls, kwargs", GA_CASES)
def test_ga_module_shapes_config_save_load_and_train_step(cls, kwargs, tmp_path):
    keras.utils.set_random_seed(0)
    layer = cls(**kwargs)
    assert cls.from_config(layer.get_config()).get_config() == layer.get_config()
    inputs = keras.Input((None, None, 16))
    model = keras.Model(inputs, layer(inputs))
    x = np.random.RandomState(0).normal(size=(2, 11, 7, 16)).astype("float32")
    y = keras.ops.convert_to_numpy(model(x))
    assert y.shape == (2, 11, 7, 16) and np.all(np.isfinite(y))
    path = str(tmp_path / "ga.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(restored(x)), y, rtol=1e-5,
                               atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    loss = model.train_on_batch(x, np.zeros_like(y))
    assert np.isfinite(loss)


def test_cgnl_matches_numpy_formula():
    keras.utils.set_random_seed(0)
    layer = lk_layers.CGNL(inter_filters=8, groups=2)
    x = np.random.RandomState(1).normal(size=(1, 5, 3, 4)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    theta, phi, g = (x @ keras.ops.convert_to_numpy(c.kernel)[0, 0]
                     for c in (layer.theta, layer.phi, layer.g))
    out = np.zeros_like(theta)
    for i in range(2):
        sl = slice(4 * i, 4 * i + 4)
        affinity = np.sum(phi[..., sl] * g[..., sl]) / np.sqrt(5 * 3 * 4)
        out[..., sl] = theta[..., sl] * affinity
    z = keras.ops.convert_to_numpy(layer.z(out))
    expected = x + keras.ops.convert_to_numpy(layer.norm(z))
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def test_cgnl_grouped_matmul_equals_grouped_conv2d():
    """W_z runs as per-group matmuls on the kernel of a grouped Conv2D (same variable,
    path and shape); its output equals Keras's grouped Conv2D with that kernel."""
    keras.utils.set_random_seed(0)
    layer = lk_layers.CGNL(inter_filters=8, groups=4, name="cgnl")
    x = np.random.RandomState(2).normal(size=(2, 5, 7, 16)).astype("float32")
    layer(x)
    assert {w.path: tuple(w.shape) for w in layer.weights}["cgnl/z/kernel"] == (1, 1, 2, 16)
    kernel = np.random.RandomState(3).normal(size=(1, 1, 2, 16)).astype("float32")
    layer.z.kernel.assign(kernel)
    conv = keras.layers.Conv2D(16, 1, groups=4, use_bias=False)
    conv.build((None, None, None, 8))
    conv.kernel.assign(kernel)
    y = np.random.RandomState(4).normal(size=(2, 35, 4, 2)).astype("float32")
    got = keras.ops.convert_to_numpy(layer._grouped_pointwise(y, 2, 5, 7))
    expected = keras.ops.convert_to_numpy(conv(y.reshape(2, 5, 7, 8)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_pyramid_pooling_bins_are_adaptive_averages():
    from keras_lk.layers.global_aggregation import _adaptive_pool_matrix

    m = keras.ops.convert_to_numpy(_adaptive_pool_matrix(7, 3, "float32"))
    # PSP / adaptive_avg_pool bins for length 7, 3 bins: [0,3), [2,5), [4,7).
    expected = np.zeros((3, 7), "float32")
    expected[0, 0:3] = 1 / 3
    expected[1, 2:5] = 1 / 3
    expected[2, 4:7] = 1 / 3
    np.testing.assert_allclose(m, expected, rtol=1e-6)


@pytest.mark.parametrize("cls, kwargs, match", [
    (lk_layers.CGNL, {"groups": 0}, "groups"),
    (lk_layers.PyramidPooling, {"bins": ()}, "bins"),
    (lk_layers.ASPP, {"rates": (0,)}, "rates"),
    (lk_layers.NonLocal, {"inter_filters": -1}, "inter_filters"),
])
def test_ga_invalid_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)
