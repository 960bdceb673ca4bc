"""MSCAN-T: SegNeXt's encoder against a NumPy transcription of the official MSCAN, its
per-stage shapes and parameters, initialisation, stochastic depth, bad arguments."""

import re

import keras
import numpy as np
import pytest

from keras_lk.backbones import BACKBONES, MSCANT, MSCANBackbone, get_backbone
from keras_lk.backbones.mscan import LAYER_PREFIX
from keras_lk.training import BACKBONE_PATTERN
from tests import golden

SMALL = {"embed_dims": (8, 16, 24, 32), "depths": (1, 1, 2, 1), "mlp_ratios": (2, 3, 2, 2)}


def _torch_bn(weights, prefix):
    return {f"{prefix}.weight": weights["gamma"], f"{prefix}.bias": weights["beta"],
            f"{prefix}.running_mean": weights["moving_mean"],
            f"{prefix}.running_var": weights["moving_variance"]}


def _conv(layer, prefix):
    kernel, bias = (np.asarray(w, np.float64) for w in layer.weights)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return {f"{prefix}.weight": kernel.transpose(2, 3, 0, 1), f"{prefix}.bias": bias}
    return {f"{prefix}.weight": kernel.transpose(3, 2, 0, 1), f"{prefix}.bias": bias}


def official_state(model):
    """The backbone's weights as the official MSCAN's state dict (NCHW layout)."""
    def weights(name):
        return {w.path.split("/")[-1]: np.asarray(w, np.float64)
                for w in model.get_layer(LAYER_PREFIX + name).weights}

    def layer(name):
        return model.get_layer(LAYER_PREFIX + name)

    state = {**_conv(layer("stem_conv1"), "patch_embed1.proj.0"),
             **_torch_bn(weights("stem_bn1"), "patch_embed1.proj.1"),
             **_conv(layer("stem_conv2"), "patch_embed1.proj.3"),
             **_torch_bn(weights("stem_bn2"), "patch_embed1.proj.4")}
    for stage, depth in enumerate(model.depths, start=1):
        if stage > 1:
            state.update(_conv(layer(f"stage{stage}_embed_conv"), f"patch_embed{stage}.proj"))
            state.update(_torch_bn(weights(f"stage{stage}_embed_bn"),
                                   f"patch_embed{stage}.norm"))
        for j in range(depth):
            ours, theirs = f"stage{stage}_block{j + 1}", f"block{stage}.{j}"
            state.update(_torch_bn(weights(f"{ours}_norm1"), f"{theirs}.norm1"))
            state.update(_torch_bn(weights(f"{ours}_norm2"), f"{theirs}.norm2"))
            for keras_name, torch_name in (("attn_proj1", "attn.proj_1"),
                                           ("attn_proj2", "attn.proj_2"),
                                           ("mlp_fc1", "mlp.fc1"), ("mlp_fc2", "mlp.fc2"),
                                           ("mlp_dwconv", "mlp.dwconv.dwconv")):
                state.update(_conv(layer(f"{ours}_{keras_name}"), f"{theirs}.{torch_name}"))
            state[f"{theirs}.layer_scale_1"] = weights(f"{ours}_attn_scale")["scale"]
            state[f"{theirs}.layer_scale_2"] = weights(f"{ours}_mlp_scale")["scale"]
            msca = weights(f"{ours}_attn_msca")
            unit = f"{theirs}.attn.spatial_gating_unit"
            state[f"{unit}.conv0.weight"] = msca["depthwise_kernel"].transpose(2, 3, 0, 1)
            state[f"{unit}.conv0.bias"] = msca["depthwise_bias"]
            state[f"{unit}.conv3.weight"] = msca["pointwise_kernel"].transpose(3, 2, 0, 1)
            state[f"{unit}.conv3.bias"] = msca["pointwise_bias"]
            for i, k in enumerate((7, 11, 21)):
                for part, name in ((1, f"strip{i + 1}_1x{k}"), (2, f"strip{i + 1}_{k}x1")):
                    state[f"{unit}.conv{i}_{part}.weight"] = \
                        msca[f"{name}_kernel"].transpose(2, 3, 0, 1)
                    state[f"{unit}.conv{i}_{part}.bias"] = msca[f"{name}_bias"]
        norm = weights(f"stage{stage}_norm")
        state[f"norm{stage}.weight"], state[f"norm{stage}.bias"] = norm["gamma"], norm["beta"]
    return state


def _randomize(model, seed=0):
    """Random weights everywhere (BN statistics, layer scales, biases included)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        name = w.path.split("/")[-1]
        if name == "moving_variance":
            value = rng.uniform(0.5, 2.0, w.shape)
        elif name in ("gamma", "scale"):
            value = rng.uniform(0.5, 1.5, w.shape)
        else:
            value = rng.normal(0.0, 0.3, w.shape)
        w.assign(value.astype("float32"))


@pytest.mark.parametrize("shape", [(2, 35, 29, 3), (1, 32, 32, 3)])
def test_forward_matches_the_official_mscan_transcription(shape):
    """A small MSCAN (every part of MSCAN-T: stem, embeds, blocks, norms) against the
    official forward in NumPy, odd sizes included (PyTorch's stride-2 padding)."""
    model = MSCANBackbone(**SMALL)
    _randomize(model)
    x = np.random.default_rng(1).standard_normal(shape).astype("float32")
    ours = model(x, training=False)
    expected = golden.mscan_official(x.transpose(0, 3, 1, 2).astype(np.float64),
                                     official_state(model), SMALL["depths"])
    for key, reference in zip(("res2", "res3", "res4", "res5"), expected):
        reference = reference.transpose(0, 2, 3, 1)
        np.testing.assert_allclose(np.asarray(ours[key]), reference, rtol=1e-4,
                                   atol=1e-4 * np.abs(reference).max(), err_msg=key)


# The parameters of the official mscan.py's modules, counted from their definitions:
# a block is norm1, norm2 (BN: 2C each), proj_1 and proj_2 (C² + C each), MSCA (5×5 and
# six strip depth-wise convs with biases, a 1×1), fc1, dwconv 3×3, fc2 (with biases) and
# two layer scales (C each); an embedding is a 3×3 conv with bias and a BN.
def _block_params(c, ratio):
    msca = (25 + 1) * c + sum(2 * (k + 1) * c for k in (7, 11, 21)) + c * c + c
    attention = 2 * (c * c + c) + msca
    hidden = c * ratio
    mlp = (c * hidden + hidden) + (9 * hidden + hidden) + (hidden * c + c)
    return 2 * 2 * c + attention + mlp + 2 * c  # norms, attention, MLP, layer scales


def _embed_params(c_in, c):
    return 9 * c_in * c + c + 2 * c


MSCAN_T_STAGES = {  # output: (stride, channels, parameters of its embedding, blocks, norm)
    "res2": (4, 32, _embed_params(3, 16) + _embed_params(16, 32) + 3 * _block_params(32, 8)
             + 2 * 32),
    "res3": (8, 64, _embed_params(32, 64) + 3 * _block_params(64, 8) + 2 * 64),
    "res4": (16, 160, _embed_params(64, 160) + 5 * _block_params(160, 4) + 2 * 160),
    "res5": (32, 256, _embed_params(160, 256) + 2 * _block_params(256, 4) + 2 * 256),
}


def test_mscan_t_stage_shapes_and_parameters():
    model = MSCANT()
    outputs = model(np.zeros((1, 64, 96, 3), "float32"))
    for key, (stride, channels, _) in MSCAN_T_STAGES.items():
        assert tuple(outputs[key].shape) == (1, 64 // stride, 96 // stride, channels), key
    trainable = {}
    for w in model.trainable_weights:
        stage = "res2" if "stem" in w.path or "stage1" in w.path else \
            f"res{int(w.path.split('stage')[1][0]) + 1}"
        trainable[stage] = trainable.get(stage, 0) + int(np.prod(w.shape))
    assert trainable == {key: params for key, (_, _, params) in MSCAN_T_STAGES.items()}
    # What PyTorch's parameter count of the official MSCAN-T is (no BN statistics).
    assert sum(trainable.values()) == 3_903_584 == model.count_params() - sum(
        int(np.prod(w.shape)) for w in model.non_trainable_weights)


def test_registered_with_its_facts_and_names_the_backbone_pattern_reaches():
    info = BACKBONES["mscan_t"]
    assert info.normalization == "torch" and not info.imagenet_weights
    model = get_backbone("mscan_t")
    assert isinstance(model, MSCANBackbone) and model.depths == (3, 3, 5, 2)
    pattern = re.compile(BACKBONE_PATTERN)
    assert all(pattern.match(w.path) for w in model.weights)


def test_initialisation_follows_the_official_init_weights():
    keras.utils.set_random_seed(0)
    model = MSCANT()
    layer = model.get_layer(LAYER_PREFIX + "stage3_block1_mlp_fc1")  # 1×1, 160 → 640
    kernel = np.asarray(layer.kernel)
    assert abs(kernel.std() - np.sqrt(2.0 / 640)) < 0.02 * np.sqrt(2.0 / 640)
    assert not np.any(np.asarray(layer.bias))
    dw = np.asarray(model.get_layer(LAYER_PREFIX + "stage3_block1_mlp_dwconv").kernel)
    assert abs(dw.std() - np.sqrt(2.0 / 9)) < 0.03 * np.sqrt(2.0 / 9)  # fan_out 9 / groups
    scale = np.asarray(model.get_layer(LAYER_PREFIX + "stage1_block1_attn_scale").scale)
    np.testing.assert_array_equal(scale, np.full(32, 1e-2, "float32"))
    bn = model.get_layer(LAYER_PREFIX + "stage1_block1_norm1")
    assert (bn.epsilon, bn.momentum) == (1e-5, 0.9)
    assert model.get_layer(LAYER_PREFIX + "stage1_norm").epsilon == 1e-5


def test_stochastic_depth_rates_grow_linearly_and_drop_whole_samples():
    model = MSCANT()
    rates = [layer.rate for layer in model.layers if layer.name.endswith("attn_drop_path")]
    np.testing.assert_allclose(rates, np.linspace(0, 0.1, 13)[1:], rtol=1e-6)
    assert not any(layer.name.endswith("block1_attn_drop_path") and "stage1" in layer.name
                   for layer in model.layers)  # the first block's rate is 0: no layer
    drop = model.get_layer(LAYER_PREFIX + "stage4_block2_mlp_drop_path")
    out = np.asarray(drop(np.ones((64, 2, 2, 3), "float32"), training=True))
    per_sample = out.reshape(64, -1)
    assert np.all((per_sample == 0).all(1) | np.isclose(per_sample, 1 / 0.9).all(1))


def test_gradient_reaches_every_trainable_weight():
    import tensorflow as tf
    keras.utils.set_random_seed(0)
    model = MSCANBackbone(**SMALL)
    x = tf.random.normal((2, 64, 64, 3))
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        loss = sum(tf.reduce_sum(v * tf.random.normal(v.shape)) for v in out.values())
    grads = tape.gradient(loss, model.trainable_weights)
    assert not [w.path for w, g in zip(model.trainable_weights, grads)
                if g is None or not np.any(np.asarray(g))]


def test_saves_and_reloads_as_itself(tmp_path):
    model = MSCANBackbone(**SMALL, drop_path_rate=0.2)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(restored, MSCANBackbone) and restored.get_config() == model.get_config()
    x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(restored(x)["res5"]), np.asarray(model(x)["res5"]),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"output_stride": 16}, "`output_stride` must be 32"),
    ({"dropout_rate": 0.5, "num_dropout_blocks": 1}, "stochastic depth"),
    ({"depths": (3, 3, 5)}, "`depths` must hold 4"),
    ({"embed_dims": (32, 64, 160, 0)}, "`embed_dims` must hold 4"),
    ({"drop_path_rate": 1.0}, r"`drop_path_rate` must be in \[0, 1\)"),
    ({"weights": "mscan_t.pth"}, "'.weights.h5'"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MSCANT(**kwargs)
