"""LayerScale: MSCAN's per-channel scale of a residual branch."""

import numpy as np
import pytest

from keras_lk.layers import LayerScale
from keras_lk.testing import run_layer_test


def test_contract():
    run_layer_test(LayerScale, {"init_value": 0.5}, input_shape=(2, 3, 4, 5),
                   expected_output_shape=(2, 3, 4, 5), expected_num_trainable_weights=1)


def test_scales_each_channel_and_starts_at_init_value():
    layer = LayerScale(1e-2)
    x = np.random.default_rng(0).standard_normal((1, 2, 2, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(x)), x * 1e-2, rtol=1e-6)
    layer.scale.assign([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(layer(x)), x * np.array([1, 2, 3]), rtol=1e-6)


def test_bad_init_value_raises():
    with pytest.raises(TypeError, match="`init_value` must be a number"):
        LayerScale("small")
