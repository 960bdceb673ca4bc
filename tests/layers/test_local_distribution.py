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
