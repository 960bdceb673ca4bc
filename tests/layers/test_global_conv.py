import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lk.layers import ConvStack3x3, GlobalConv, LargeKernelConv
from keras_lk.testing import run_layer_test
from tests import golden

IMPLEMENTATIONS = ["conv", "transpose", "matmul"]


def weights_by_name(layer):
    return {w.name: np.asarray(w, np.float64) for w in layer.weights}


def kernel_params(layer):
    """Kernel weights only: how the GCN paper counts (biases excluded)."""
    return sum(int(np.prod(w.shape)) for w in layer.weights if w.name.endswith("kernel"))


@pytest.mark.parametrize("implementation", ["auto", *IMPLEMENTATIONS])
def test_layer_contract(implementation):
    run_layer_test(
        GlobalConv,
        {"filters": 5, "kernel_size": 5, "implementation": implementation},
        input_shape=(2, 7, 9, 16),
        expected_output_shape=(2, 7, 9, 5),
        expected_num_trainable_weights=8,
    )


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("shape,k", [((2, 7, 9, 6), 5), ((1, 4, 3, 30), 7), ((1, 5, 6, 3), 1)])
def test_matches_numpy_formula(implementation, shape, k):
    x = np.random.default_rng(1).standard_normal(shape).astype("float32")
    layer = GlobalConv(4, kernel_size=k, implementation=implementation, bias_initializer="random_normal")
    out = np.asarray(layer(x))
    expected = golden.global_conv(x.astype(np.float64), weights_by_name(layer))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize("implementation", ["transpose", "matmul"])
@pytest.mark.parametrize("shape,k", [((2, 6, 6, 64), 15), ((1, 9, 13, 24), 7), ((1, 16, 11, 8), 5)])
def test_outputs_and_gradients_equal_stock(implementation, shape, k):
    """Every fast formulation computes the stock conv pair: outputs and all gradients."""
    rng = np.random.default_rng(2)
    x = tf.constant(rng.standard_normal(shape).astype("float32"))
    stock = GlobalConv(6, kernel_size=k, implementation="conv", bias_initializer="random_normal")
    fast = GlobalConv(6, kernel_size=k, implementation=implementation)
    stock.build(shape)
    fast.build(shape)
    fast.set_weights(stock.get_weights())
    upstream = tf.constant(rng.standard_normal(shape[:-1] + (6,)).astype("float32"))

    def grads(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * upstream)
        return [y] + tape.gradient(loss, [x] + layer.trainable_weights)

    for a, b in zip(grads(stock), grads(fast)):
        scale = np.abs(a.numpy()).max()
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-5 * scale)


def test_untuned_auto_follows_the_rule_of_the_cpu(monkeypatch):
    """Matmul for small wide maps; else transpose with AVX-512, matmul without it (the
    tuner's tests: tests/layers/test_global_conv_tuning.py)."""
    from keras_lk.layers import global_conv_choice

    layer = GlobalConv(3, kernel_size=3)
    for avx512, large in ((True, "transpose"), (False, "matmul")):
        monkeypatch.setattr(global_conv_choice, "has_cpu_extension",
                            lambda name, avx512=avx512: avx512 and name == "avx512f")
        assert layer._resolve_implementation(keras.KerasTensor((1, 16, 16, 2048))) == "matmul"
        assert layer._resolve_implementation(keras.KerasTensor((1, 64, 64, 512))) == large
        assert layer._resolve_implementation(keras.KerasTensor((1, None, None, 2048))) == large


def test_kernel_larger_than_feature_map_and_dynamic_shapes():
    """k = 25 (Cityscapes) on a 3×5 map, through a model with unknown spatial size."""
    inputs = keras.Input((None, None, 8))
    model = keras.Model(inputs, GlobalConv(3, kernel_size=25)(inputs))
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 8)).astype("float32")
    layer = model.layers[-1]
    expected = golden.global_conv(x.astype(np.float64), weights_by_name(layer))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)


# GCN Table 2: kernel parameters after res-5 (C_in = 2048, 21 classes).
# Ours: GCN 2·k·21·(2048+21); k×k conv k²·2048·21. The paper's "K" rounds
# to the nearest thousand except 3,483,648 → "3484K"; we check within 1K.
TABLE_2 = {3: (260, 387), 5: (434, 1075), 7: (608, 2107), 9: (782, 3484)}
# GCN Table 4: stack of 3×3 for k = 7 with width m; last column is GCN k = 7.
TABLE_4 = {2048: 75885, 1024: 28505, 210: 4307}


@pytest.mark.parametrize("k", sorted(TABLE_2))
def test_gcn_table_2_parameter_counts(k):
    gcn_k, conv_k = TABLE_2[k]
    gcn = GlobalConv(21, kernel_size=k, kernel_initializer="zeros")
    conv = LargeKernelConv(21, kernel_size=k, kernel_initializer="zeros")
    gcn.build((None, 16, 16, 2048))
    conv.build((None, 16, 16, 2048))
    assert abs(kernel_params(gcn) - gcn_k * 1000) <= 1000, kernel_params(gcn)
    assert abs(kernel_params(conv) - conv_k * 1000) <= 1000, kernel_params(conv)
    assert kernel_params(gcn) == 2 * k * 21 * (2048 + 21)


@pytest.mark.parametrize("m", sorted(TABLE_4))
def test_gcn_table_4_parameter_counts(m):
    stack = ConvStack3x3(21, kernel_size=7, intermediate_filters=m, kernel_initializer="zeros")
    stack.build((None, 16, 16, 2048))
    assert abs(kernel_params(stack) - TABLE_4[m] * 1000) <= 1000, kernel_params(stack)
    gcn = GlobalConv(21, kernel_size=7)
    gcn.build((None, 16, 16, 2048))
    assert abs(kernel_params(gcn) - 608_000) <= 1000


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"filters": 21, "kernel_size": 4}, "`kernel_size` must be an odd integer >= 1, received 4"),
        ({"filters": 21, "kernel_size": 0}, "`kernel_size`"),
        ({"filters": 0}, "`filters` must be an integer >= 1, received 0"),
        ({"filters": 21, "implementation": "fft"}, "`implementation` must be one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GlobalConv(**kwargs)


def test_wrong_rank_input_is_rejected():
    with pytest.raises(ValueError, match="ndim=4"):
        GlobalConv(3)(np.zeros((2, 8, 8), "float32"))
