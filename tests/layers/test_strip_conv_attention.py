"""StripConvAttention: SegNeXt's MSCA, number for number against its official code."""

import math

import keras
import numpy as np
import pytest

from keras_lk.layers import StripConvAttention
from keras_lk.testing import assert_sample_moments, run_layer_test
from tests import golden


def official_state(layer):
    """The layer's weights as the official AttentionModule's state dict (NCHW layout)."""
    weights = {w.path.split("/")[-1]: np.asarray(w, np.float64) for w in layer.weights}
    state = {"conv0.weight": weights["depthwise_kernel"].transpose(2, 3, 0, 1),
             "conv0.bias": weights["depthwise_bias"],
             "conv3.weight": weights["pointwise_kernel"].transpose(3, 2, 0, 1),
             "conv3.bias": weights["pointwise_bias"]}
    for i, k in enumerate(layer.strip_kernel_sizes):
        for part, name in ((1, f"strip{i + 1}_1x{k}"), (2, f"strip{i + 1}_{k}x1")):
            state[f"conv{i}_{part}.weight"] = weights[f"{name}_kernel"].transpose(2, 3, 0, 1)
            state[f"conv{i}_{part}.bias"] = weights[f"{name}_bias"]
    return state


def test_contract():
    """Config round trip, .keras save/load (safe_mode), jit, training step, mixed precision."""
    run_layer_test(
        StripConvAttention,
        {"kernel_size": 3, "strip_kernel_sizes": [5, 7]},
        input_shape=(2, 7, 9, 4),
        expected_output_shape=(2, 7, 9, 4),
        expected_num_trainable_weights=12,  # (kernel, bias) × (3×3, 2 × 2 strips, 1×1)
    )


@pytest.mark.parametrize(
    "kwargs,shape",
    [({}, (1, 12, 12, 4)),                                   # the paper's 5, (7, 11, 21)
     ({"kernel_size": 3, "strip_kernel_sizes": (5, 9)}, (2, 7, 10, 3)),
     ({"strip_kernel_sizes": ()}, (1, 6, 5, 2))],            # the local term alone
)
def test_matches_official_transcription(kwargs, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    layer = StripConvAttention(**kwargs, bias_initializer="random_normal")
    out = np.asarray(layer(x))
    expected = golden.msca_attention_official(
        x.transpose(0, 3, 1, 2).astype(np.float64), official_state(layer),
        layer.kernel_size, layer.strip_kernel_sizes).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_output_is_the_input_weighed_by_the_attention():
    """attn ⊙ u: a zero input pixel gives a zero output, whatever the attention."""
    x = np.random.default_rng(1).standard_normal((1, 8, 8, 3)).astype("float32")
    x[0, 2, 5] = 0.0
    out = np.asarray(StripConvAttention(bias_initializer="ones")(x))
    assert np.all(out[0, 2, 5] == 0.0) and np.all(out[0, 2, 4] != 0.0)


def test_initialisation_follows_mscan_init_weights():
    """N(0, 2 / fan_out), fan_out = kh·kw·C_out / groups; zero biases (MSCAN.init_weights)."""
    keras.utils.set_random_seed(0)
    channels = 64
    layer = StripConvAttention()
    layer.build((None, 16, 16, channels))
    fans = {"depthwise_kernel": 25, "strip3_1x21_kernel": 21, "strip1_7x1_kernel": 7,
            "pointwise_kernel": channels}
    weights = {w.path.split("/")[-1]: np.asarray(w) for w in layer.weights}
    for name, fan_out in fans.items():
        assert_sample_moments(weights[name], math.sqrt(2.0 / fan_out), name=name)
    assert all(not np.any(w) for name, w in weights.items() if name.endswith("bias"))


def test_shape_inference_and_config():
    layer = StripConvAttention(strip_kernel_sizes=(3,))
    assert layer.compute_output_shape((None, None, 7, 5)) == (None, None, 7, 5)
    symbolic = layer(keras.Input((None, None, 5)))
    assert tuple(symbolic.shape) == (None, None, None, 5)
    config = layer.get_config()
    assert config["strip_kernel_sizes"] == [3] and config["kernel_size"] == 5
    assert StripConvAttention.from_config(config).get_config() == config


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"kernel_size": 4}, ValueError, "`kernel_size` must be an odd integer >= 1, received 4"),
        ({"kernel_size": 0}, ValueError, "`kernel_size`"),
        ({"strip_kernel_sizes": (7, 10)}, ValueError,
         "`strip_kernel_sizes` must be an odd integer >= 1, received 10"),
        ({"strip_kernel_sizes": 7}, TypeError,
         "`strip_kernel_sizes` must be a list of odd integers >= 1, received 7"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        StripConvAttention(**kwargs)


def test_unknown_channels_are_rejected():
    with pytest.raises(ValueError, match="needs a known channel dimension"):
        StripConvAttention().build((None, 8, 8, None))
