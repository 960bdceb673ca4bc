import numpy as np
import pytest

from keras_lk.layers import ConvStack3x3, LargeKernelConv
from keras_lk.testing import run_layer_test
from tests import golden


def test_large_kernel_conv_contract():
    run_layer_test(
        LargeKernelConv,
        {"filters": 3, "kernel_size": 5},
        input_shape=(2, 7, 5, 4),
        expected_output_shape=(2, 7, 5, 3),
        expected_num_trainable_weights=2,
    )


def test_conv_stack_contract():
    run_layer_test(
        ConvStack3x3,
        {"filters": 3, "kernel_size": 7, "intermediate_filters": 6},
        input_shape=(2, 7, 5, 4),
        expected_output_shape=(2, 7, 5, 3),
        expected_num_trainable_weights=6,
    )


def test_large_kernel_conv_matches_numpy():
    x = np.random.default_rng(0).standard_normal((1, 6, 7, 3)).astype("float32")
    layer = LargeKernelConv(2, kernel_size=5, bias_initializer="random_normal")
    out = np.asarray(layer(x))
    kernel, bias = (np.asarray(w, np.float64) for w in layer.weights)
    np.testing.assert_allclose(out, golden.conv2d(x.astype(np.float64), kernel, bias), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("k,layers", [(3, 1), (5, 2), (9, 4)])
def test_conv_stack_is_linear_chain_of_3x3(k, layers):
    """No nonlinearity inside the stack: output equals chained NumPy convolutions."""
    x = np.random.default_rng(1).standard_normal((1, 9, 8, 3)).astype("float32")
    layer = ConvStack3x3(2, kernel_size=k, intermediate_filters=4, bias_initializer="random_normal")
    out = np.asarray(layer(x))
    assert layer.num_layers == layers
    ref = x.astype(np.float64)
    for i in range(layers):
        w = {v.name: np.asarray(v, np.float64) for v in layer.weights}
        ref = golden.conv2d(ref, w[f"conv{i + 1}_kernel"], w[f"conv{i + 1}_bias"])
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_conv_stack_rejects_k1():
    with pytest.raises(ValueError, match="odd integer >= 3, received 1"):
        ConvStack3x3(2, kernel_size=1)
