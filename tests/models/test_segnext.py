"""SegNeXt: the family contract, SegNeXt-T's parameters and FLOPs against the paper, the
decoder's wiring and settings, a training step, the trainer, bad arguments."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lk import layers as lk_layers
from keras_lk import models
from keras_lk.papers import segnext as paper
from keras_lk.testing import run_model_test
from keras_lk.training import TrainConfig
from keras_lk.training.trainer import build_model, compile_model
from keras_lk.utils import count_flops

SMALL = {"num_classes": 3, "backbone": "resnet10_narrow", "ham_channels": 32, "channels": 32,
         "nmf_rank": 4, "norm_groups": 8}


def test_family_passes_the_model_test():
    model = run_model_test(models.SegNeXt, {**SMALL, "class_names": ["a", "b", "c"]})
    assert model.class_names == ["a", "b", "c"] and model.score_stride == 8


def test_segnext_t_parameters_match_the_paper():
    """SegNeXt-T on ADE20K (150 classes): 4.26 M trainable parameters (PyTorch's count,
    no BN statistics) against the paper's 4.3 M."""
    model = models.SegNeXt(150)
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert params == 4_263_414
    assert abs(params / 1e6 / paper.PAPER_PARAMS_M["SegNeXt-T"] - 1) < 0.02


def _torchprofile_extras(model):
    """What torchprofile (the official tools/get_flops.py) counts beside convolutions and
    matrix products, as multiply-adds: one per output value of every norm
    (BatchNorm, LayerNorm, GroupNorm) and every element-wise product (MSCA's attn ⊙ u,
    the layer scales, the NMF's C ⊙ XᵀD and D ⊙ XC), four per output value of a
    bilinear resize."""
    total = 0
    for layer in model.layers:
        size = int(np.prod(layer.output.shape[1:])) if not isinstance(
            layer.output, dict) else 0
        if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                              keras.layers.GroupNormalization, lk_layers.LayerScale,
                              lk_layers.StripConvAttention)):
            total += size
        elif isinstance(layer, lk_layers.ResizeToMatch):
            total += 4 * size
        elif isinstance(layer, lk_layers.NMF2D):
            pixels, channels = size // layer.output.shape[-1], layer.output.shape[-1]
            total += (layer.eval_steps + 1) * pixels * layer.rank \
                + layer.eval_steps * channels * layer.rank
    return total


def test_segnext_t_flops_at_512_match_the_paper():
    """The paper's 6.6 GFLOPs of SegNeXt-T at 512² are torchprofile's multiply-adds
    (official README): convolutions and matrix products (the NMF's 7 inference steps)
    make 6.404 G, norms, element-wise products and resizes 0.190 G more: 6.594 G."""
    model = models.SegNeXt(150, input_shape=(512, 512, 3))
    macs = count_flops(model, (512, 512, 3)) // 2
    assert macs == 6_404_341_760
    total = macs + _torchprofile_extras(model)
    assert abs(total / 1e9 / paper.PAPER_GFLOPS_ADE20K["SegNeXt-T"] - 1) < 0.02, total
    assert abs(macs / 1e9 / paper.PAPER_GFLOPS_ADE20K["SegNeXt-T"] - 1) < 0.035


def test_decoder_reads_stages_2_to_4_with_the_official_settings():
    model = models.SegNeXt(150)
    concat = model.get_layer("decoder_concat")
    assert concat.output.shape[-1] == 64 + 160 + 256  # res3..res5, res2 unused
    nmf = model.get_layer("ham_nmf")
    assert (nmf.rank, nmf.train_steps, nmf.eval_steps, nmf.gradient) == (16, 6, 7,
                                                                         "unrolled")
    for name in ("squeeze_gn", "ham_out_gn", "align_gn"):
        norm = model.get_layer(name)
        assert (norm.groups, norm.epsilon) == (32, 1e-5)
    assert not model.get_layer("squeeze_conv").use_bias
    assert model.get_layer("ham_in_conv").use_bias
    assert model.get_layer("dropout").rate == 0.1
    assert isinstance(model.get_layer("dropout"), keras.layers.SpatialDropout2D)
    classifier = np.asarray(model.get_layer("classifier").kernel)
    assert abs(classifier.std() - 0.01) < 0.001
    assert model.normalization == "torch"


def test_a_training_step_on_a_tiny_input_has_a_finite_loss_and_reaches_every_weight():
    keras.utils.set_random_seed(0)
    model = models.SegNeXt(5)
    x = tf.random.uniform((2, 64, 64, 3))
    labels = np.random.default_rng(0).integers(0, 5, (2, 64, 64)).astype("int32")
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    grads = tape.gradient(loss, model.trainable_weights)
    assert np.isfinite(float(loss))
    assert not [w.path for w, g in zip(model.trainable_weights, grads)
                if g is None or not np.any(np.asarray(g))]
    # The official optimizer (AdamW, lr 6e-5, weight decay 0.01), one eager step: a
    # compiled `train_on_batch` of SegNeXt-T traces for ~45 s on 2 cores (the family
    # test above runs one on a small backbone).
    optimizer = keras.optimizers.AdamW(6e-5, weight_decay=0.01)
    before = np.asarray(model.get_layer("classifier").kernel).copy()
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    assert not np.array_equal(np.asarray(model.get_layer("classifier").kernel), before)


def test_segnext_t_saves_and_reloads_with_equal_predictions(tmp_path):
    model = models.SegNeXt(4, nmf_gradient="one_step", nmf_seed=3)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 64, 64, 3)).astype("float32")
    expected = np.asarray(model(x))
    np.testing.assert_array_equal(np.asarray(model(x)), expected)  # reproducible inference
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(restored, models.SegNeXt)
    assert restored.get_config() == model.get_config()
    assert restored.get_layer("ham_nmf").gradient == "one_step"
    np.testing.assert_allclose(np.asarray(restored(x)), expected, rtol=1e-5, atol=1e-5)


def test_the_trainer_builds_and_compiles_it_from_a_config():
    config = TrainConfig(model="segnext", backbone="mscan_t",
                         model_options={"nmf_rank": 8, "nmf_gradient": "one_step"})
    assert TrainConfig.from_json(config.to_json()) == config
    model = build_model(config)
    assert isinstance(model, models.SegNeXt) and model.nmf_rank == 8
    assert model.num_classes == 6  # the built-in scenes
    compile_model(model, config)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['k'\] of model 'segnext'"):
        TrainConfig(model="segnext", model_options={"k": 3})


@pytest.mark.parametrize("kwargs, match", [
    ({"nmf_gradient": "none"}, "`nmf_gradient` must be one of"),
    ({"nmf_rank": 0}, "`rank` must be an integer >= 1"),
    ({"nmf_train_steps": -1}, "`train_steps` must be an integer >= 0"),
    ({"ham_channels": 48}, "`ham_channels` must be a multiple of `norm_groups`=32"),
    ({"channels": 0}, "`channels` must be an integer >= 1"),
    ({"dropout_rate": 1.5}, r"`dropout_rate` must be in \[0, 1\)"),
    ({"backbone": "vgg16"}, "`backbone` must be one of"),
    ({"num_classes": 2, "ignore_label": 1}, "`ignore_label` must be"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.SegNeXt(**{"num_classes": 3, **kwargs})
