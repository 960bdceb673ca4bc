"""ReparamLargeKernelConv (RepLKNet) and DilatedReparamConv (UniRepLKNet): forward and
merge, number for number against NumPy transcriptions of their official code."""

import math

import keras
import numpy as np
import pytest

from keras_lk.layers import DILATED_BRANCHES, DilatedReparamConv, ReparamLargeKernelConv
from keras_lk.testing import assert_sample_moments, run_layer_test
from tests import golden

BN_KEYS = (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
           ("moving_variance", "running_var"))


def randomize(layer, rng):
    """Random kernels and non-trivial BatchNorm statistics (variances near epsilon make
    1e-5 against Keras's 1e-3 matter); returns the official state dict (NCHW layout) of
    the float32 values the layer holds."""
    if isinstance(layer, ReparamLargeKernelConv):
        names = {"large": ("lkb_origin.conv", "lkb_origin.bn"),
                 "small": ("small_conv.conv", "small_conv.bn")}
    else:
        names = {"large": ("lk_origin", "origin_bn")}
        names.update({f"dilated_k{k}_r{r}": (f"dil_conv_k{k}_{r}", f"dil_bn_k{k}_{r}")
                      for k, r in layer.branches})
    state = {}
    kernels = [layer.large_kernel, *layer.branch_kernels]
    norms = [layer.large_bn, *layer.branch_bns]
    for kernel, bn, name in zip(kernels, norms, ["large", *layer.branch_names]):
        conv_name, bn_name = names[name]
        channels = kernel.shape[2]
        kernel.assign(rng.normal(0, 0.3, kernel.shape).astype("float32"))
        variance = rng.uniform(1e-4, 2.0, channels)
        values = {"gamma": rng.uniform(0.5, 1.5, channels), "beta": rng.normal(0, 0.5, channels),
                  "moving_mean": rng.normal(0, 0.5, channels), "moving_variance": variance}
        for keras_key, torch_key in BN_KEYS:
            getattr(bn, keras_key).assign(values[keras_key].astype("float32"))
            state[f"{bn_name}.{torch_key}"] = np.asarray(getattr(bn, keras_key), np.float64)
        state[f"{conv_name}.weight"] = np.asarray(kernel, np.float64).transpose(2, 3, 0, 1)
    return state


def nchw(x):
    return x.transpose(0, 3, 1, 2).astype(np.float64)


def nhwc(x):
    return x.transpose(0, 2, 3, 1)


def assert_close(actual, expected, rtol=1e-5):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


# --- ReparamLargeKernelConv -------------------------------------------------------------

@pytest.mark.parametrize("kwargs,shape,out_shape,trainable,non_trainable", [
    ({"kernel_size": 7, "small_kernel_size": 3}, (2, 7, 9, 4), (2, 7, 9, 4), 6, 4),
    ({"kernel_size": 5, "small_kernel_size": 3, "strides": 2}, (2, 9, 10, 3), (2, 5, 5, 3), 6, 4),
    ({"kernel_size": 7, "merged": True}, (2, 7, 9, 4), (2, 7, 9, 4), 2, 0),
])
def test_replk_contract(kwargs, shape, out_shape, trainable, non_trainable):
    """Config round trip, .keras save/load (safe_mode), jit, training step, mixed precision."""
    run_layer_test(ReparamLargeKernelConv, kwargs, input_shape=shape,
                   expected_output_shape=out_shape, expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=non_trainable)


REPLK_CASES = [
    (31, 5, 1, (1, 12, 12, 4)),    # RepLKNet-31B's block on a map smaller than the kernel
    (7, 3, 2, (2, 10, 8, 3)),      # stride 2 on even sizes: PyTorch's padding, not "same"
    (7, 3, 2, (1, 9, 11, 2)),
    (5, None, 1, (1, 7, 6, 3)),    # RepLKNet-XL: no small kernel
]


@pytest.mark.parametrize("kernel_size,small,strides,shape", REPLK_CASES)
def test_replk_matches_official_and_merges_exactly(kernel_size, small, strides, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    layer = ReparamLargeKernelConv(kernel_size, small, strides=strides)
    layer.build(shape)
    state = randomize(layer, rng)
    before = np.asarray(layer(x, training=False))
    expected = nhwc(golden.replk_conv_official(nchw(x), state, kernel_size, small, strides))
    assert_close(before, expected)

    kernel, bias = golden.replk_equivalent_kernel_bias_official(state, kernel_size, small)
    layer.merge()
    assert [w.path.split("/")[-1] for w in layer.weights] == ["kernel", "bias"]
    assert_close(np.asarray(layer.kernel), kernel.transpose(2, 3, 0, 1), rtol=1e-6)
    assert_close(np.asarray(layer.bias), bias, rtol=1e-6)
    after = np.asarray(layer(x))
    assert_close(after, before)
    # The official merged convolution (lkb_reparam: bias, padding K//2, the same stride).
    merged = golden.torch_conv2d(nchw(x), kernel, bias, stride=strides,
                                 padding=kernel_size // 2, groups=shape[-1])
    assert_close(after, nhwc(merged))


def test_replk_initialisation_is_pytorchs_default():
    """U(±1/√(k·k)) for both depth-wise kernels (fan-in k·k, not k·k·C); BN γ = 1, β = 0,
    epsilon 1e-5, momentum 0.1 (Keras 0.9)."""
    keras.utils.set_random_seed(0)
    layer = ReparamLargeKernelConv(31, 5)
    layer.build((None, 16, 16, 32))
    for kernel, size in ((layer.large_kernel, 31), (layer.branch_kernels[0], 5)):
        values = np.asarray(kernel)
        bound = 1.0 / size
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
        assert_sample_moments(values, bound / math.sqrt(3.0), distribution="uniform",
                              name=kernel.path)
    for bn in (layer.large_bn, *layer.branch_bns):
        assert (bn.epsilon, bn.momentum) == (1e-5, 0.9)
        assert np.all(np.asarray(bn.gamma) == 1) and not np.any(np.asarray(bn.beta))


def test_replk_shape_inference():
    layer = ReparamLargeKernelConv(7, 3, strides=2)
    assert layer.compute_output_shape((None, 9, None, 4)) == (None, 5, None, 4)
    assert tuple(layer(keras.Input((10, None, 4))).shape) == (None, 5, None, 4)


@pytest.mark.parametrize("kwargs,match", [
    ({"kernel_size": 4}, "`kernel_size` must be an odd integer >= 1, received 4"),
    ({"small_kernel_size": 6}, "`small_kernel_size` must be an odd integer >= 1, received 6"),
    ({"kernel_size": 5, "small_kernel_size": 7},
     r"`small_kernel_size` must be <= `kernel_size` \(5\).*received 7"),
    ({"strides": 0}, "`strides` must be an integer >= 1, received 0"),
    ({"norm": "layer_norm"}, "`norm` must be one of"),
])
def test_replk_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReparamLargeKernelConv(**kwargs)


# --- DilatedReparamConv -----------------------------------------------------------------

def test_dilated_table_is_the_official_one():
    assert sorted(DILATED_BRANCHES) == sorted(golden.UNIREPLKNET_DILATED_TABLE)
    for size, (kernel_sizes, dilates) in golden.UNIREPLKNET_DILATED_TABLE.items():
        assert DILATED_BRANCHES[size] == tuple(zip(kernel_sizes, dilates)), size
    layer = DilatedReparamConv()
    assert layer.kernel_size == 13
    assert layer.get_config()["kernel_sizes"] == [5, 7, 3, 3, 3]
    assert layer.get_config()["dilation_rates"] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("kwargs,trainable,non_trainable", [
    ({"kernel_size": 7}, 12, 8),     # 4 kernels, 4 BN (γ, β; μ, σ²)
    ({"kernel_size": 7, "merged": True}, 2, 0),
])
def test_dilated_contract(kwargs, trainable, non_trainable):
    run_layer_test(DilatedReparamConv, kwargs, input_shape=(2, 7, 9, 4),
                   expected_output_shape=(2, 7, 9, 4), expected_num_trainable_weights=trainable,
                   expected_num_non_trainable_weights=non_trainable)


@pytest.mark.parametrize("kernel_size", [5, 13, 17])  # the others differ only in the table
def test_dilated_matches_official_and_merges_exactly(kernel_size):
    rng = np.random.default_rng(kernel_size)
    shape = (1, 12, 11, 3)
    x = rng.standard_normal(shape).astype("float32")
    layer = DilatedReparamConv(kernel_size)
    layer.build(shape)
    state = randomize(layer, rng)
    sizes, dilates = golden.UNIREPLKNET_DILATED_TABLE[kernel_size]
    before = np.asarray(layer(x, training=False))
    expected = golden.dilated_reparam_official(nchw(x), state, kernel_size, sizes, dilates)
    assert_close(before, nhwc(expected))

    kernel, bias = golden.dilated_reparam_merge_official(state, kernel_size, sizes, dilates)
    layer.merge()
    assert_close(np.asarray(layer.kernel), kernel.transpose(2, 3, 0, 1), rtol=1e-6)
    assert_close(np.asarray(layer.bias), bias, rtol=1e-6)
    after = np.asarray(layer(x))
    assert_close(after, before)
    merged = golden.torch_conv2d(nchw(x), kernel, bias, padding=kernel_size // 2, groups=3)
    assert_close(after, nhwc(merged))


def test_dilated_kernel_becomes_sparse_centred_taps():
    """A lone 3×3 branch of dilation 3 in a 9×9 kernel: its taps at rows/columns 1, 4, 7."""
    layer = DilatedReparamConv(9, kernel_sizes=[3], dilation_rates=[3])
    layer.build((None, 8, 8, 1))
    layer.large_kernel.assign(np.zeros((9, 9, 1, 1), "float32"))
    layer.branch_kernels[0].assign(np.arange(1, 10, dtype="float32").reshape(3, 3, 1, 1))
    kernel, bias = layer.equivalent_kernel_bias()
    scale = 1 / math.sqrt(1 + 1e-5)  # the fresh BNs: γ = 1, μ = 0, σ² = 1
    expected = np.zeros((9, 9))
    expected[1::3, 1::3] = np.arange(1, 10).reshape(3, 3) * scale
    np.testing.assert_allclose(kernel[..., 0, 0], expected, rtol=1e-7)
    assert not np.any(bias)


def test_dilated_initialisation_is_unireplknets():
    """Every conv N(0, 0.02²) (timm's trunc_normal_(std=.02) cuts at ±2, i.e. ±100σ); BN
    γ = 1, β = 0, epsilon 1e-5, momentum 0.1 (Keras 0.9)."""
    keras.utils.set_random_seed(0)
    layer = DilatedReparamConv(13)
    layer.build((None, 16, 16, 64))
    for kernel in (layer.large_kernel, *layer.branch_kernels):
        assert_sample_moments(kernel, 0.02, name=kernel.path)
    # Not Keras's TruncatedNormal, which would cut at 2σ (1.2 % of 10,816 lie beyond 2.5σ).
    assert np.abs(np.asarray(layer.large_kernel)).max() > 2.5 * 0.02
    for bn in (layer.large_bn, *layer.branch_bns):
        assert (bn.epsilon, bn.momentum) == (1e-5, 0.9)
        assert np.all(np.asarray(bn.gamma) == 1) and not np.any(np.asarray(bn.beta))


@pytest.mark.parametrize("kwargs,match", [
    ({"kernel_size": 19}, r"`kernel_size` must be one of \(5, 7, 9, 11, 13, 15, 17\).*received 19"),
    ({"kernel_size": 4}, "`kernel_size` must be an odd integer >= 1, received 4"),
    ({"kernel_sizes": [3]}, "`kernel_sizes` and `dilation_rates` go together"),
    ({"kernel_sizes": [3, 5], "dilation_rates": [1]}, "lists of the same length"),
    ({"kernel_sizes": [4], "dilation_rates": [1]}, "`kernel_sizes` must be an odd integer"),
    ({"kernel_sizes": [3], "dilation_rates": [0]}, "`dilation_rates` must be an integer >= 1"),
    ({"kernel_sizes": [5], "dilation_rates": [4]}, r"spans 17 pixels, more than `kernel_size` \(13\)"),
    ({"kernel_sizes": [3, 3], "dilation_rates": [2, 2]}, "must be unique"),
    ({"norm": "group_norm"}, "`norm` must be one of"),
])
def test_dilated_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DilatedReparamConv(**kwargs)


# --- Both: saving, merging in a model, mixed precision ----------------------------------

@pytest.mark.parametrize("layer_cls,kwargs", [
    (ReparamLargeKernelConv, {"kernel_size": 7, "small_kernel_size": 3, "strides": 2}),
    (DilatedReparamConv, {"kernel_size": 7}),
])
def test_keras_file_before_and_after_merge(tmp_path, layer_cls, kwargs):
    """Random statistics survive a .keras round trip; the merged model reloads merged."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 10, 9, 3)).astype("float32")
    inputs = keras.Input((10, 9, 3))
    layer = layer_cls(**kwargs, name="reparam")
    model = keras.Model(inputs, layer(inputs))
    randomize(layer, rng)
    expected = np.asarray(model(x))

    model.save(tmp_path / "branches.keras")
    restored = keras.saving.load_model(tmp_path / "branches.keras", safe_mode=True)
    np.testing.assert_array_equal(np.asarray(restored(x)), expected)

    layer.merge()
    assert layer.get_config()["merged"] is True
    model.save(tmp_path / "merged.keras")
    restored = keras.saving.load_model(tmp_path / "merged.keras", safe_mode=True)
    restored_layer = restored.get_layer("reparam")
    assert restored_layer.merged and len(restored_layer.weights) == 2
    np.testing.assert_array_equal(np.asarray(restored(x)), np.asarray(model(x)))
    assert_close(np.asarray(restored(x)), expected)


@pytest.mark.parametrize("layer_cls", [ReparamLargeKernelConv, DilatedReparamConv])
def test_merge_errors(layer_cls):
    layer = layer_cls(kernel_size=7)
    with pytest.raises(ValueError, match="must be built before it is merged"):
        layer.merge()
    layer.build((None, 8, 8, 2))
    layer.merge()
    with pytest.raises(ValueError, match="is already merged"):
        layer.merge()


@pytest.mark.parametrize("layer_cls", [ReparamLargeKernelConv, DilatedReparamConv])
def test_merge_under_mixed_precision(layer_cls):
    """Float32 variables are folded in float64; the merged layer computes in float16."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 9, 9, 3)).astype("float32")
    layer = layer_cls(kernel_size=7, dtype="mixed_float16")
    layer.build(x.shape)
    randomize(layer, rng)
    before = np.asarray(keras.ops.cast(layer(x, training=False), "float32"))
    layer.merge()
    out = layer(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert all(w.dtype == "float32" for w in layer.weights)
    np.testing.assert_allclose(np.asarray(keras.ops.cast(out, "float32")), before, rtol=0,
                               atol=1e-2 * np.abs(before).max())
