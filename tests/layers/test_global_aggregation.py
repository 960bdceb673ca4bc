import keras
import numpy as np
import pytest

from keras_lk import layers as lk_layers
from tests import golden

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


# === NumPy references with random weights and random BatchNorm statistics ===


def _randomize(layer, seed):
    """Every weight of `layer` random; BatchNorm variances positive and far from 1, so a
    missing or misplaced normalization shows."""
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        if weight.path.endswith("moving_variance"):
            value = rng.uniform(0.5, 2.0, weight.shape)
        else:
            value = rng.normal(0.0, 0.5, weight.shape)
        weight.assign(value.astype("float32"))


def _np(weight):
    return keras.ops.convert_to_numpy(weight).astype(np.float64)


def _block(x, block, dilation=1):
    """A `conv_norm_act_block` (Conv2D no bias 'same' → BN → ReLU) in NumPy, inference."""
    conv, bn = block.layers[0], block.layers[1]
    kernel = _np(conv.kernel)
    if dilation > 1:  # a dilated kernel is the kernel with dilation − 1 zeros between taps
        kh, kw, c, f = kernel.shape
        dilated = np.zeros(((kh - 1) * dilation + 1, (kw - 1) * dilation + 1, c, f))
        dilated[::dilation, ::dilation] = kernel
        kernel = dilated
    y = golden.batch_norm_inference(golden.conv2d(x, kernel), _np(bn.gamma), _np(bn.beta),
                                    _np(bn.moving_mean), _np(bn.moving_variance), bn.epsilon)
    return np.maximum(y, 0.0)


def test_non_local_matches_numpy_with_trained_batch_norm():
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 8)).astype("float32")
    layer = lk_layers.NonLocal(inter_filters=4)
    layer.build(x.shape)
    _randomize(layer, 1)
    assert abs(_np(layer.norm.gamma)).min() > 0  # not the identity it starts as
    xd = x.astype(np.float64)

    def pointwise(conv):
        return golden.conv2d(xd, _np(conv.kernel), _np(conv.bias)).reshape(2, 30, 4)

    theta, phi, g = pointwise(layer.theta), pointwise(layer.phi), pointwise(layer.g)
    logits = theta @ phi.transpose(0, 2, 1)
    attention = np.exp(logits - logits.max(-1, keepdims=True))
    attention /= attention.sum(-1, keepdims=True)
    z = golden.conv2d((attention @ g).reshape(2, 5, 6, 4), _np(layer.z.kernel))
    bn = layer.norm
    expected = xd + golden.batch_norm_inference(z, _np(bn.gamma), _np(bn.beta),
                                                _np(bn.moving_mean), _np(bn.moving_variance),
                                                bn.epsilon)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x, training=False)), expected,
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rates", [(2, 3), (12,)])
def test_aspp_matches_numpy_with_dilated_branches(rates):
    """Rate 12 on a 9×7 map: the dilated taps fall in the zero padding but the centre's."""
    x = np.random.default_rng(2).normal(size=(2, 9, 7, 6)).astype("float32")
    layer = lk_layers.ASPP(rates=rates, branch_filters=4, filters=5)
    layer.build(x.shape)
    _randomize(layer, 3)
    xd = x.astype(np.float64)
    outputs = [_block(xd, layer.branches[0])]
    outputs += [_block(xd, branch, dilation=rate)
                for rate, branch in zip(rates, layer.branches[1:])]
    pooled = _block(xd.mean(axis=(1, 2), keepdims=True), layer.image_pool)
    outputs.append(np.broadcast_to(pooled, outputs[0].shape))
    expected = _block(np.concatenate(outputs, axis=-1), layer.projection)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x, training=False)), expected,
                               rtol=1e-4, atol=1e-4)


def test_pyramid_pooling_matches_numpy_with_bilinear_upsampling():
    """PSP's adaptive bins, then each level's block and a half-pixel bilinear upsampling
    back to the map (`tf.image.resize`'s), on a 13×9 map that no level divides."""
    x = np.random.default_rng(4).normal(size=(2, 13, 9, 8)).astype("float32")
    bins = (1, 2, 3, 6)
    layer = lk_layers.PyramidPooling(bins=bins, branch_filters=3, filters=5)
    layer.build(x.shape)
    _randomize(layer, 5)
    xd = x.astype(np.float64)
    outputs = [xd]
    for b, block in zip(bins, layer.branches):
        pooled = np.zeros((2, b, b, 8))
        for i in range(b):
            for j in range(b):
                rows = slice(i * 13 // b, -(-(i + 1) * 13 // b))
                columns = slice(j * 9 // b, -(-(j + 1) * 9 // b))
                pooled[:, i, j] = xd[:, rows, columns].mean(axis=(1, 2))
        outputs.append(golden.resize_bilinear(_block(pooled, block), 13, 9))
    expected = _block(np.concatenate(outputs, axis=-1), layer.bottleneck)
    got = keras.ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    reference = keras.ops.convert_to_numpy(keras.ops.image.resize(
        np.ones((1, 3, 3, 1), "float32") * np.arange(3.0)[:, None, None], (13, 9)))
    np.testing.assert_allclose(golden.resize_bilinear(
        np.ones((1, 3, 3, 1)) * np.arange(3.0)[:, None, None], 13, 9), reference, atol=1e-6)
