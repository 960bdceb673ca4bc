import numpy as np

from keras_lk.layers import BoundaryRefine
from keras_lk.testing import run_layer_test
from tests import golden


def test_contract():
    run_layer_test(
        BoundaryRefine,
        {},
        input_shape=(2, 9, 7, 5),
        expected_output_shape=(2, 9, 7, 5),
        expected_num_trainable_weights=4,
    )


def test_matches_numpy_formula():
    s = np.random.default_rng(0).standard_normal((2, 6, 9, 4)).astype("float32")
    layer = BoundaryRefine(bias_initializer="random_normal")
    out = np.asarray(layer(s))
    w = {v.name: np.asarray(v, np.float64) for v in layer.weights}
    expected = golden.boundary_refine(s.astype(np.float64), w)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_zero_residual_is_identity():
    s = np.random.default_rng(1).standard_normal((1, 5, 5, 3)).astype("float32")
    layer = BoundaryRefine(kernel_initializer="zeros")
    np.testing.assert_array_equal(np.asarray(layer(s)), s)
