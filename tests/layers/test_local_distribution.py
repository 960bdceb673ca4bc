import numpy as np
import pytest

from keras_lk.layers import LocalDistribution
from keras_lk.testing import run_layer_test
from tests import golden


@pytest.mark.parametrize(
    "kwargs,trainable,non_trainable",
    [
        ({}, 3, 0),
        ({"downsample": "bilinear"}, 0, 0),
        ({"downsample": "average", "downsample_rate": 4}, 0, 0),
        ({"batch_norm": True, "relu": True, "downsample_rate": 4}, 6, 4),
    ],
)
def test_contract(kwargs, trainable, non_trainable):
    run_layer_test(
        LocalDistribution,
        kwargs,
        input_shape=(2, 19, 13, 6),
        expected_output_shape=(2, 19, 13, 6),
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=non_trainable,
    )


@pytest.mark.parametrize("downsample", ["depthwise", "bilinear", "average"])
@pytest.mark.parametrize("shape", [(1, 17, 23, 3), (2, 32, 24, 2)])
def test_matches_numpy_equations(downsample, shape):
    f = np.random.default_rng(0).standard_normal(shape).astype("float32")
    layer = LocalDistribution(downsample_rate=8, downsample=downsample)
    out = np.asarray(layer(f))
    kernels = [np.asarray(k, np.float64) for k in layer.weights]
    expected = golden.local_distribution(f.astype(np.float64), kernels, downsample, rate=8)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_mask_range_paper_vs_official_relu():
    """Paper: M in (0, 1). Official code's ReLU before the sigmoid: M >= 0.5."""
    f = np.abs(np.random.default_rng(1).standard_normal((1, 16, 16, 4))).astype("float32") + 0.1
    paper = LocalDistribution(downsample_rate=4, depthwise_initializer="random_normal")
    official = LocalDistribution(downsample_rate=4, relu=True, depthwise_initializer="random_normal")
    official.build(f.shape)
    paper.build(f.shape)
    official.set_weights(paper.get_weights())
    mask_paper = np.asarray(paper(f)) / f - 1
    mask_official = np.asarray(official(f)) / f - 1
    assert mask_paper.min() < 0.5 - 1e-3
    assert mask_official.min() >= 0.5 - 1e-6
    assert mask_official.max() < 1.0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"downsample_rate": 6}, "power of two >= 2, received 6"),
        ({"downsample_rate": 1}, "power of two >= 2, received 1"),
        ({"downsample": "max"}, "`downsample` must be one of"),
        ({"kernel_size": 2}, "`kernel_size` must be an odd integer"),
        ({"downsample": "average", "relu": True}, "apply to the depthwise downsampler only"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LocalDistribution(**kwargs)


# --- variant="official": GALD's official LocalAttenModule, number for number ---

OFFICIAL = {"variant": "official", "batch_norm": True, "relu": True}


def test_official_contract():
    """Config round trip, .keras save/load (safe_mode), jit, training step, mixed precision."""
    layer = run_layer_test(
        LocalDistribution,
        {**OFFICIAL, "downsample_rate": 4},
        input_shape=(2, 19, 13, 6),
        expected_output_shape=(2, 19, 13, 6),
        expected_num_trainable_weights=8,  # 2 × (kernel, bias, gamma, beta)
        expected_num_non_trainable_weights=4,
        # The official code's biases precede a BatchNorm, which subtracts them again.
        without_gradient=("depthwise1_bias", "depthwise2_bias"),
    )
    assert layer.get_config()["variant"] == "official"
    assert all(bn.epsilon == 1e-5 and bn.momentum == 0.9 for bn in layer.norms)


def _randomize_official(layer, rng):
    """Random kernels, biases and BatchNorm statistics; returns them for the golden."""
    stages = []
    for i, (kernel, bias, bn) in enumerate(zip(layer.depthwise_kernels, layer.depthwise_biases,
                                               layer.norms)):
        channels = bias.shape[0]
        # Small running variances make the epsilon (1e-5, not Keras's 1e-3) matter; gamma
        # ~ sqrt(variance) keeps activations O(1), so the mask is not saturated.
        variance = rng.uniform(2e-4, 2e-3, (channels,))
        stage = {
            "kernel": rng.normal(0, 0.5, kernel.shape),
            "bias": rng.normal(0, 0.3, (channels,)),
            "gamma": np.sqrt(variance) * rng.uniform(0.5, 1.5, (channels,)),
            "beta": rng.uniform(0.0, 0.6, (channels,)),  # most values pass the ReLU
            "mean": rng.normal(0, 0.3, (channels,)),
            "variance": variance,
        }
        kernel.assign(stage["kernel"].astype("float32"))
        bias.assign(stage["bias"].astype("float32"))
        for weight, key in ((bn.gamma, "gamma"), (bn.beta, "beta"), (bn.moving_mean, "mean"),
                            (bn.moving_variance, "variance")):
            weight.assign(stage[key].astype("float32"))
        # The golden runs on the float32 values the layer holds.
        stages.append({key: np.asarray(value, np.float32).astype(np.float64)
                       for key, value in stage.items()})
    return stages


def test_official_keras_file_keeps_weights_and_statistics(tmp_path):
    """Rate 8 on 33×47 with random biases and BN statistics survives a .keras round trip."""
    import keras

    rng = np.random.default_rng(4)
    f = rng.standard_normal((2, 33, 47, 3)).astype("float32")
    inputs = keras.Input((33, 47, 3))
    layer = LocalDistribution(**OFFICIAL, name="ld")
    model = keras.Model(inputs, layer(inputs))
    _randomize_official(layer, rng)
    path = str(tmp_path / "official_ld.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    restored_layer = restored.get_layer("ld")
    assert restored_layer.variant == "official" and len(restored_layer.weights) == 18
    np.testing.assert_array_equal(np.asarray(restored(f)), np.asarray(model(f)))


@pytest.mark.parametrize(
    "shape,rate,kernel_size",
    [((2, 33, 47, 3), 8, 3), ((1, 15, 16, 2), 8, 3), ((1, 21, 30, 2), 4, 5), ((1, 9, 7, 2), 4, 1)],
)
def test_official_matches_numpy_transcription(shape, rate, kernel_size):
    rng = np.random.default_rng(0)
    f = rng.standard_normal(shape).astype("float32")
    layer = LocalDistribution(downsample_rate=rate, kernel_size=kernel_size, **OFFICIAL)
    layer.build(f.shape)
    stages = _randomize_official(layer, rng)
    out = np.asarray(layer(f, training=False))
    expected = golden.local_distribution_official(f.astype(np.float64), stages, epsilon=1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=0)
    mask = expected / f - 1
    assert np.mean((mask > 0.55) & (mask < 0.95)) > 0.2  # the comparison sees the sigmoid


def test_official_stage_sizes_have_no_padding():
    """33×47 → 16×23 → 7×11 → 3×5 (floor((n - 3) / 2) + 1), as PyTorch padding=0."""
    f = np.zeros((1, 33, 47, 2), "float32")
    official = LocalDistribution(**OFFICIAL)
    official.build(f.shape)
    assert tuple(official._downsample(f, training=False).shape) == (1, 3, 5, 2)
    paper = LocalDistribution(batch_norm=True, relu=True)
    paper.build(f.shape)
    assert tuple(paper._downsample(f, training=False).shape) == (1, 5, 6, 2)  # ceil(n / 8)
    sizes, x = [], f.astype(np.float64)
    for _ in range(3):
        x = golden.depthwise_conv2d_valid(x, np.zeros((3, 3, 2, 1)), np.zeros(2), stride=2)
        sizes.append(x.shape[1:3])
    assert sizes == [(16, 23), (7, 11), (3, 5)]


def test_paper_variant_with_bn_relu_is_not_the_official_module():
    """The same weights give other outputs: padding, bias, epsilon and resize differ."""
    rng = np.random.default_rng(3)
    f = rng.standard_normal((1, 33, 47, 3)).astype("float32")
    official = LocalDistribution(**OFFICIAL)
    official.build(f.shape)
    stages = _randomize_official(official, rng)
    paper = LocalDistribution(batch_norm=True, relu=True)
    paper.build(f.shape)
    for stage, kernel, bn in zip(stages, paper.depthwise_kernels, paper.norms):
        kernel.assign(stage["kernel"].astype("float32"))
        bn.set_weights([stage[k].astype("float32") for k in ("gamma", "beta", "mean", "variance")])
    difference = np.abs(np.asarray(paper(f)) - np.asarray(official(f))).max()
    assert difference > 1e-2


@pytest.mark.parametrize("size_in,size_out", [((3, 5), (33, 47)), ((1, 4), (5, 1)), ((7, 2), (7, 2))])
def test_align_corners_resize_matches_pytorch_definition(size_in, size_out):
    from keras_lk.layers._resize import resize_bilinear_align_corners

    x = np.random.default_rng(1).standard_normal((2, *size_in, 3)).astype("float32")
    out = np.asarray(resize_bilinear_align_corners(x, *size_out))
    expected = golden.resize_bilinear_align_corners(x.astype(np.float64), *size_out)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    # Corners are copied exactly (what align_corners means).
    np.testing.assert_array_equal(out[:, 0, 0], x[:, 0, 0])
    if size_out[0] > 1 and size_out[1] > 1:
        np.testing.assert_array_equal(out[:, -1, -1], x[:, -1, -1])


def test_official_mask_at_least_one_half():
    rng = np.random.default_rng(2)
    f = np.abs(rng.standard_normal((1, 33, 47, 4))).astype("float32") + 0.1
    layer = LocalDistribution(**OFFICIAL)
    layer.build(f.shape)
    _randomize_official(layer, rng)
    mask = np.asarray(layer(f)) / f - 1
    assert mask.min() >= 0.5 - 1e-6 and mask.max() <= 1.0 + 1e-6
    assert mask.min() < 0.6 and mask.max() > 0.9  # not a constant mask


def test_default_variant_unchanged():
    layer = LocalDistribution()
    assert layer.get_config()["variant"] == "paper"
    config = layer.get_config()
    del config["variant"]  # a config saved before `variant` existed
    assert LocalDistribution.from_config(config).variant == "paper"
    layer.build((1, 16, 16, 2))
    assert [w.path.split("/")[-1] for w in layer.weights] == [
        "depthwise1_kernel", "depthwise2_kernel", "depthwise3_kernel"]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"variant": "pytorch"}, r"`variant` must be one of \('paper', 'official'\)"),
        ({"variant": "official"}, r"pass batch_norm=True and relu=True, received batch_norm=False"),
        ({"variant": "official", "batch_norm": True}, r"received batch_norm=True, relu=False"),
        ({"variant": "official", "downsample": "average"}, r"received downsample='average'"),
    ],
)
def test_official_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LocalDistribution(**kwargs)


def test_official_input_too_small():
    layer = LocalDistribution(**OFFICIAL)
    with pytest.raises(ValueError, match=r"needs height and width >= 15 .* \(1, 14, 20, 2\)"):
        layer(np.zeros((1, 14, 20, 2), "float32"))


@pytest.mark.parametrize("kwargs", [{}, {**OFFICIAL, "downsample_rate": 4}])
def test_mask_is_what_the_layer_multiplies(kwargs):
    f = np.random.default_rng(3).standard_normal((2, 16, 20, 4)).astype("float32")
    layer = LocalDistribution(**kwargs)
    out = np.asarray(layer(f))
    mask = np.asarray(layer.mask(f))
    assert mask.shape == f.shape and 0 < mask.min() and mask.max() < 1
    np.testing.assert_allclose(mask * f + f, out, rtol=1e-6, atol=1e-6)
