"""SegmentationAdamW against a NumPy transcription of torch.optim.AdamW under mmcv's
paramwise_cfg, and its wiring from TrainConfig (SegNeXt's official optimizer)."""

import re

import keras
import numpy as np
import pytest

from keras_lk.training import PolyDecay, SegmentationAdamW, SegmentationSGD, TrainConfig
from keras_lk.training.optimizers import L2_TARGETS, make_optimizer
from keras_lk.training.schedules import make_schedule


def _torch_adamw(params, grads_per_step, lrs, weight_decays, betas=(0.9, 0.999), eps=1e-8):
    """``torch.optim.AdamW.step`` (amsgrad False), one lr and weight decay per parameter
    (mmcv puts each parameter in its own group with lr · lr_mult, wd · decay_mult)."""
    params = [p.astype(np.float64).copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t, grads in enumerate(grads_per_step, start=1):
        for i, g in enumerate(grads):
            params[i] *= 1 - lrs[i] * weight_decays[i]
            m[i] = betas[0] * m[i] + (1 - betas[0]) * g
            v[i] = betas[1] * v[i] + (1 - betas[1]) * g * g
            bias_1, bias_2 = 1 - betas[0] ** t, 1 - betas[1] ** t
            denominator = np.sqrt(v[i]) / np.sqrt(bias_2) + eps
            params[i] -= lrs[i] / bias_1 * m[i] / denominator
    return params


def _model():
    inputs = keras.Input((3,))
    x = keras.layers.Dense(4, name="backbone_stage1_block1_mlp_fc1")(inputs)
    x = keras.layers.LayerNormalization(name="backbone_stage1_norm")(x)
    outputs = keras.layers.Dense(2, name="classifier")(x)
    return keras.Model(inputs, outputs)


def test_adamw_matches_torch_with_lr_multipliers_and_no_decay_norms():
    keras.utils.set_random_seed(0)
    model = _model()
    lr, wd, head = 6e-5 * 1000, 0.01, 10.0  # a large lr, so the steps show
    optimizer = SegmentationAdamW(lr, weight_decay=wd, decay_pattern=L2_TARGETS["segnext"],
                                  lr_multipliers={"^(?!backbone_)": head})
    variables = model.trainable_variables
    before = [w.numpy() for w in variables]
    rng = np.random.default_rng(1)
    # Gradients of mixed scales: ε matters where |g| is small.
    steps = [[(rng.normal(size=w.shape) * 10.0 ** rng.integers(-6, 1)).astype("float32")
              for w in variables] for _ in range(4)]
    for grads in steps:
        optimizer.apply(grads, variables)
    lrs = [lr * (1.0 if w.path.startswith("backbone_") else head) for w in variables]
    decays = [0.0 if w.path.startswith("backbone_stage1_norm/") else wd for w in variables]
    expected = _torch_adamw(before, steps, lrs, decays)
    for w, e in zip(variables, expected):
        np.testing.assert_allclose(w.numpy(), e, rtol=1e-4, atol=5e-6, err_msg=w.path)
    # The norm's scale moved by Adam alone, the head's kernel by 10× the lr and decay.
    assert decays[2] == 0.0 and lrs[-1] == pytest.approx(10 * lr)


def test_segnext_decay_rule_is_the_official_paramwise_cfg():
    """'norm' in the official PyTorch name → no decay; the stem's BatchNorms
    (``patch_embed1.proj.1``) and the decoder's GroupNorms ('head' matches first) decay."""
    from keras_lk.models import SegNeXt

    official = {  # keras_lk path → the official parameter name
        "backbone_stem_bn1/gamma": "backbone.patch_embed1.proj.1.weight",
        "backbone_stem_conv2/bias": "backbone.patch_embed1.proj.3.bias",
        "backbone_stage2_embed_bn/beta": "backbone.patch_embed2.norm.bias",
        "backbone_stage2_embed_conv/kernel": "backbone.patch_embed2.proj.weight",
        "backbone_stage1_block1_norm1/gamma": "backbone.block1.0.norm1.weight",
        "backbone_stage3_block5_norm2/beta": "backbone.block3.4.norm2.bias",
        "backbone_stage4_norm/gamma": "backbone.norm4.weight",
        "backbone_stage1_block1_attn_scale/scale": "backbone.block1.0.layer_scale_1",
        "backbone_stage2_block1_attn_msca/strip3_21x1_kernel":
            "backbone.block2.0.attn.spatial_gating_unit.conv2_2.weight",
        "squeeze_gn/gamma": "decode_head.squeeze.gn.weight",
        "ham_out_gn/beta": "decode_head.hamburger.ham_out.gn.bias",
        "classifier/bias": "decode_head.conv_seg.bias",
    }

    def mmcv_rule(name):  # custom_keys sorted by length, the first key in the name wins
        for key, rule in (("pos_block", (1.0, 0.0)), ("head", (10.0, 1.0)),
                          ("norm", (1.0, 0.0))):
            if key in name:
                return rule
        return 1.0, 1.0

    config = TrainConfig(model="segnext", backbone="mscan_t", optimizer="adamw",
                         learning_rate=6e-5, l2=0.01, l2_on="segnext", head_lr_multiplier=10.0,
                         schedule="poly", poly_power=1.0, warmup_steps=1500,
                         warmup_factor=1e-6, steps=160_000, steps_per_epoch=1000)
    optimizer = make_optimizer(config)
    assert isinstance(optimizer, SegmentationAdamW)
    assert optimizer.decoupled_weight_decay == 0.01
    paths = {w.path for w in SegNeXt(150).trainable_variables}
    assert set(official) <= paths
    for path, name in official.items():
        lr_mult, decay_mult = mmcv_rule(name)
        assert optimizer.multiplier_for(path) == lr_mult, path
        assert optimizer.decays(path) == bool(decay_mult), path
    # Every norm of MSCAN is exempt, nothing else of the model.
    exempt = {p for p in paths if not optimizer.decays(p)}
    assert exempt == {p for p in paths if re.search(
        r"^backbone_stage\d_(embed_bn|block\d+_norm[12]|norm)/", p)}
    # 3 embedding BNs (stage 1 has the stem), 2 per block (3 + 3 + 5 + 2), 4 stage norms.
    assert len(exempt) == 2 * (3 + 2 * (3 + 3 + 5 + 2) + 4)
    schedule = make_schedule(config)
    assert isinstance(schedule, PolyDecay) and schedule.warmup_factor == 1e-6
    np.testing.assert_allclose(float(schedule(0)), 6e-5 * 1e-6, rtol=1e-4)
    # mmcv: warm-up lr = poly lr · (1 − (1 − t / 1500)(1 − 1e-6)), poly power 1.0.
    t = 750
    poly = 6e-5 * (1 - t / 160_000)
    np.testing.assert_allclose(float(schedule(t)), poly * (1 - (1 - t / 1500) * (1 - 1e-6)),
                               rtol=1e-5)


def test_adamw_round_trips_and_keeps_sgd_unchanged():
    optimizer = SegmentationAdamW(PolyDecay(6e-5, 100), weight_decay=0.01,
                                  decay_pattern=L2_TARGETS["segnext"],
                                  lr_multipliers={"^(?!backbone_)": 10.0})
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert isinstance(clone, SegmentationAdamW)
    assert clone.decoupled_weight_decay == 0.01 and clone.epsilon == 1e-8
    assert clone.lr_multipliers == {"^(?!backbone_)": 10.0}
    assert clone.decay_pattern == L2_TARGETS["segnext"]
    assert clone.weight_decay is None  # Keras's own decay stays off: ours is decoupled
    with pytest.raises(ValueError, match="`weight_decay` must be ≥ 0, received -1"):
        SegmentationAdamW(0.1, weight_decay=-1)
    with pytest.raises(ValueError, match="no AMSGrad"):
        SegmentationAdamW(0.1, amsgrad=True)
    # The SGD configs recorded before keep their optimizer and their fingerprints.
    sgd = make_optimizer(TrainConfig(learning_rate=0.01, steps=100))
    assert isinstance(sgd, SegmentationSGD)
    assert make_schedule(TrainConfig()).warmup_factor == 0.1
    assert TrainConfig(warmup_factor=0.1).fingerprint() == TrainConfig().fingerprint()
    assert TrainConfig(warmup_factor=1e-6).fingerprint() != TrainConfig().fingerprint()
    with pytest.raises(ValueError, match=r"`warmup_factor` must be in \[0, 1\], received 2"):
        TrainConfig(warmup_factor=2)
