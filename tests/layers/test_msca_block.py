"""MSCABlock: SegNeXt's attention half-block, number for number against its official code."""

import math

import keras
import numpy as np
import pytest

from keras_lk.layers import MSCABlock
from keras_lk.testing import assert_sample_moments, randomise_batch_norms, run_layer_test
from tests import golden
from tests.layers.test_strip_conv_attention import official_state as msca_state


def official_state(block, prefix="block"):
    """The block's weights as the official `Block`'s attention half (NCHW layout)."""
    def weights(layer):
        return {w.path.split("/")[-1]: np.asarray(w, np.float64) for w in layer.weights}

    norm = weights(block.norm)
    state = {f"{prefix}.norm1.weight": norm["gamma"], f"{prefix}.norm1.bias": norm["beta"],
             f"{prefix}.norm1.running_mean": norm["moving_mean"],
             f"{prefix}.norm1.running_var": norm["moving_variance"],
             f"{prefix}.layer_scale_1": weights(block.scale)["scale"]}
    for ours, theirs in ((block.proj1, "proj_1"), (block.proj2, "proj_2")):
        conv = weights(ours)
        state[f"{prefix}.attn.{theirs}.weight"] = conv["kernel"].transpose(3, 2, 0, 1)
        state[f"{prefix}.attn.{theirs}.bias"] = conv["bias"]
    for key, value in msca_state(block.attention).items():
        state[f"{prefix}.attn.spatial_gating_unit.{key}"] = value
    return state


def test_contract():
    """Config round trip, .keras save/load (safe_mode), jit, training step, mixed precision."""
    run_layer_test(
        MSCABlock,
        {"kernel_size": 3, "strip_kernel_sizes": [5, 7], "layer_scale_init": 0.5},
        input_shape=(2, 7, 9, 4),
        expected_output_shape=(2, 7, 9, 4),
        # BN γ, β; proj1, proj2 (kernel, bias); MSCA 12; LayerScale γ.
        expected_num_trainable_weights=2 + 4 + 12 + 1,
        expected_num_non_trainable_weights=2,  # BN's moving statistics
    )


@pytest.mark.parametrize("strips, shape", [((7, 11, 21), (1, 12, 12, 4)),
                                           ((5, 7, 15), (2, 9, 11, 3))])
def test_matches_the_official_attention_half(strips, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    block = MSCABlock(strip_kernel_sizes=strips, layer_scale_init=0.7)
    block.build(shape)
    for w in block.weights:  # biases and scales away from their zero / constant starts
        name = w.path.split("/")[-1]
        if name.endswith("bias") or name == "scale":
            w.assign(rng.normal(0.0, 0.3, w.shape).astype("float32"))
    randomise_batch_norms(block)
    out = np.asarray(block(x, training=False))
    expected = golden.mscan_attention_half_official(
        x.transpose(0, 3, 1, 2).astype(np.float64), official_state(block), "block",
        strip_kernel_sizes=strips).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_it_starts_near_the_identity():
    """The LayerScale starts at 1e-2: the block adds 1 % of its branch to the input; with
    0 it is the identity."""
    x = np.random.default_rng(1).standard_normal((2, 8, 8, 6)).astype("float32")
    np.testing.assert_array_equal(np.asarray(MSCABlock(layer_scale_init=0.0)(x)), x)
    block = MSCABlock()
    started = np.asarray(block(x)) - x
    assert np.asarray(block.scale.scale).tolist() == pytest.approx([0.01] * 6)
    block.scale.scale.assign(np.ones(6, "float32"))
    branch = np.asarray(block(x)) - x
    assert np.abs(branch).max() > 0
    np.testing.assert_allclose(started, 0.01 * branch, rtol=1e-3, atol=1e-6)


def test_initialisation_follows_mscan_init_weights():
    """The projections as every MSCAN convolution: N(0, 2 / fan_out), fan_out = C for a
    C → C 1×1 kernel; zero biases; BatchNorm with PyTorch's epsilon and momentum."""
    keras.utils.set_random_seed(0)
    channels = 64
    block = MSCABlock()
    block.build((None, 16, 16, channels))
    for conv in (block.proj1, block.proj2):
        kernel, bias = (np.asarray(w) for w in conv.weights)
        assert_sample_moments(kernel, math.sqrt(2.0 / channels), name=conv.name)
        assert not np.any(bias)
    assert (block.norm.epsilon, block.norm.momentum) == (1e-5, 0.9)


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="strip_kernel_sizes"):
        MSCABlock(strip_kernel_sizes=(4,))
    with pytest.raises(TypeError, match="init_value"):
        MSCABlock(layer_scale_init="small")
