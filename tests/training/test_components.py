"""Schedules, optimizer, loss, config and callbacks of keras_lk.training (no big model)."""

import dataclasses

import keras
import numpy as np
import pytest

from keras_lk.training import (
    DivergenceGuard,
    PolyDecay,
    SegmentationCrossEntropy,
    SegmentationSGD,
    StepDecay,
    TrainConfig,
    TrainingDivergedError,
    resolve_precision,
    set_precision,
)


def test_poly_decay_matches_formula_and_round_trips():
    schedule = PolyDecay(0.01, decay_steps=100, power=0.9)
    for step in (0, 10, 50, 99, 100, 150):
        expected = 0.01 * (1 - min(step, 100) / 100) ** 0.9
        np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-5, atol=1e-9)
    clone = PolyDecay.from_config(schedule.get_config())
    assert float(clone(37)) == pytest.approx(float(schedule(37)))


def test_step_decay_and_warmup():
    schedule = StepDecay(0.1, step_size=10, gamma=0.1, warmup_steps=4, warmup_factor=0.25)
    np.testing.assert_allclose(float(schedule(0)), 0.1 * 0.25, rtol=1e-6)
    np.testing.assert_allclose(float(schedule(2)), 0.1 * (0.25 + 0.75 * 0.5), rtol=1e-6)
    np.testing.assert_allclose(float(schedule(4)), 0.1, rtol=1e-6)
    np.testing.assert_allclose(float(schedule(25)), 0.001, rtol=1e-5)
    with pytest.raises(ValueError, match="step_size"):
        StepDecay(0.1, step_size=0)


def _dense_bn_model():
    inputs = keras.Input((3,))
    x = keras.layers.Dense(4, name="conv2_block1_1_conv")(inputs)  # a "backbone" name
    x = keras.layers.BatchNormalization(name="bn")(x)
    outputs = keras.layers.Dense(2, name="head")(x)
    return keras.Model(inputs, outputs)


def test_sgd_l2_on_kernels_only_and_lr_multipliers_golden():
    keras.utils.set_random_seed(0)
    model = _dense_bn_model()
    lr, momentum, l2, head_factor = 0.1, 0.9, 0.01, 10.0
    optimizer = SegmentationSGD(lr, momentum=momentum, l2=l2,
                                lr_multipliers={"^head/": head_factor})
    grads = [np.full(w.shape, 0.5, "float32") for w in model.trainable_weights]
    before = [w.numpy() for w in model.trainable_weights]
    optimizer.apply(grads, model.trainable_weights)
    for w, w0, g in zip(model.trainable_weights, before, grads):
        decayed = "kernel" in w.path
        factor = head_factor if w.path.startswith("head/") else 1.0
        expected = w0 - lr * factor * (g + (l2 * w0 if decayed else 0))
        np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6, atol=1e-7, err_msg=w.path)
    assert optimizer.decays("bn/gamma") is False and optimizer.decays("head/kernel")


def test_sgd_serializes_with_schedule():
    optimizer = SegmentationSGD(PolyDecay(0.01, 100), momentum=0.99, l2=5e-4,
                                lr_multipliers={"head": 10.0})
    config = keras.optimizers.serialize(optimizer)
    clone = keras.optimizers.deserialize(config)
    assert isinstance(clone, SegmentationSGD)
    assert clone.l2 == 5e-4 and clone.lr_multipliers == {"head": 10.0} and clone.momentum == 0.99
    with pytest.raises(ValueError, match="weight_decay"):
        SegmentationSGD(0.1, weight_decay=1e-4)


def _numpy_ce(labels, logits, ignore):
    valid = labels != ignore
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, np.where(valid, labels, 0)[..., None], -1)[..., 0]
    return -(picked * valid).sum() / max(valid.sum(), 1)


def test_cross_entropy_ignores_label_golden_and_float32():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (3, 6, 7, 1))
    labels[0, :3] = 255
    logits = rng.normal(0, 3, (3, 6, 7, 5)).astype("float32")
    loss = SegmentationCrossEntropy(ignore_label=255)
    expected = _numpy_ce(labels[..., 0], logits, 255)
    np.testing.assert_allclose(float(loss(labels, logits)), expected, rtol=1e-5)
    half = loss(labels, logits.astype("float16"))
    assert keras.backend.standardize_dtype(half.dtype) == "float32"
    np.testing.assert_allclose(float(half), expected, rtol=1e-2)
    assert float(loss(np.full((1, 2, 2, 1), 255), np.zeros((1, 2, 2, 5)))) == 0.0
    assert SegmentationCrossEntropy.from_config(loss.get_config()).ignore_label == 255


def test_gald_compiles_its_aux_loss_weight():
    from keras_lk import models

    model = models.GALDNet(3, backbone="resnet10_narrow", head_channels=8, ga="psp",
                           aux_loss_weight=0.25)
    assert model.output_loss_weights() == {"logits": 1.0, "aux_logits": 0.25}
    model.compile(loss=SegmentationCrossEntropy())
    x = np.zeros((2, 32, 32, 3), "float32")
    y = np.ones((2, 32, 32), "int32")
    logs = model.train_on_batch(x, model.targets(y), return_dict=True)
    # total = main + 0.25 * aux, both cross-entropies of the same labels.
    expected = logs["logits_loss"] + 0.25 * logs["aux_logits_loss"]
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-5)


def test_ohem_mines_the_main_output_and_the_aux_output_takes_cross_entropy(tmp_path):
    from keras_lk import losses, models
    from keras_lk.training.trainer import compile_model

    model = models.GALDNet(3, backbone="resnet10_narrow", head_channels=8, ga="psp")
    config = TrainConfig(output_dir=str(tmp_path), model="gald", loss="ohem",
                         ohem_min_kept=64)
    compile_model(model, config)
    assert isinstance(model.loss["logits"], losses.OHEMLoss)
    assert model.loss["logits"].min_kept == 64
    assert isinstance(model.loss["aux_logits"], SegmentationCrossEntropy)
    single = models.GCNSeg(3, backbone="resnet10_narrow", k=3)
    compile_model(single, dataclasses.replace(config, model="gcn", model_options={}))
    assert isinstance(single.loss, losses.OHEMLoss)


def test_loss_at_score_map_reads_the_loss_at_the_models_output_stride(tmp_path):
    from keras_lk import losses, models
    from keras_lk.training.trainer import compile_model

    model = models.FCRN(3, backbone="resnet10_narrow", output_stride=8)
    config = TrainConfig(output_dir=str(tmp_path), model="fcrn", loss="ohem",
                         ohem_mode="fcrn", ohem_min_kept=4, loss_at_score_map=True)
    compile_model(model, config)
    assert isinstance(model.loss, losses.OHEMLoss) and model.loss.stride == 8
    compile_model(model, dataclasses.replace(config, loss="cross_entropy"))
    assert model.loss.stride == 8
    compile_model(model, dataclasses.replace(config, loss_at_score_map=False))
    assert model.loss.stride == 1
    assert models.GALDNet(3, backbone="resnet10_narrow", head_channels=8,
                          ga="psp").score_stride == 8
    gcn = models.GCNSeg(3, backbone="resnet10_narrow", k=3)
    with pytest.raises(ValueError, match="needs a model whose logits upsample a score map"):
        compile_model(gcn, dataclasses.replace(config, model="gcn", model_options={}))
    with pytest.raises(ValueError, match="`loss_at_score_map` must be True or False"):
        TrainConfig(loss_at_score_map=1)
    # Added after runs were recorded: its default leaves their fingerprints unchanged.
    assert "loss_at_score_map" in TrainConfig.LATER_FIELDS


def test_config_validation_messages():
    with pytest.raises(ValueError, match="`model` must be one of"):
        TrainConfig(model="unet")
    with pytest.raises(ValueError, match="multiple of `steps_per_epoch`"):
        TrainConfig(steps=10, steps_per_epoch=3)
    with pytest.raises(ValueError, match="jit_compile"):
        TrainConfig(jit_compile=True, precision="mixed_bfloat16")
    with pytest.raises(ValueError, match="data_dir"):
        TrainConfig(dataset="voc_sbd")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['depth'\] of model 'gcn'"):
        TrainConfig(model_options={"depth": 3})
    with pytest.raises(ValueError, match="takes neither `l2` nor `head_lr_multiplier`"):
        TrainConfig(optimizer="adam")
    config = TrainConfig(scale_range=(0.5, 2.0), model="gald",
                         model_options={"ga": "psp", "ld": False, "aux_loss_weight": 0.3})
    assert TrainConfig.from_json(config.to_json()) == config


def test_precision_flags():
    assert resolve_precision("mixed_float16") == "mixed_float16"
    assert resolve_precision("auto") in ("float32", "mixed_bfloat16")
    with pytest.raises(ValueError, match="jit_compile"):
        set_precision("mixed_bfloat16", jit_compile=True)
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp8")
    assert keras.mixed_precision.global_policy().name == "float32"


def test_divergence_guard_raises_with_step():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = np.array([[np.nan, 1.0]] * 4, "float32")
    with pytest.raises(TrainingDivergedError, match="loss is nan at step 1"):
        model.fit(x, np.ones((4, 1)), batch_size=2, epochs=1, verbose=0,
                  callbacks=[DivergenceGuard()])


def test_make_optimizer_sgd_and_adam():
    from keras_lk.training.optimizers import make_optimizer

    sgd = make_optimizer(TrainConfig(learning_rate=0.01, steps=100))
    assert isinstance(sgd, SegmentationSGD) and sgd.l2 == 5e-4
    adam = make_optimizer(TrainConfig(optimizer="adam", l2=0.0, learning_rate=0.002, steps=100))
    assert isinstance(adam, keras.optimizers.Adam)
    assert float(adam.learning_rate) == pytest.approx(0.002)


def test_backup_epochs_and_roll_back(tmp_path):
    from keras_lk.training.callbacks import backup_epoch, roll_back_backup

    def write(name, text):
        (tmp_path / name).write_text(text)

    assert backup_epoch(tmp_path) == 0 and backup_epoch(tmp_path, previous=True) == 0
    write("latest.weights.h5", "weights 1")
    write("training_metadata.json", '{"epoch": 1, "batch": 0}')
    assert backup_epoch(tmp_path) == 1 and backup_epoch(tmp_path, previous=True) == 0
    write("latest.weights.h5.bkp", "weights 1")  # the next backup copies these first
    write("training_metadata.json.bkp", '{"epoch": 1, "batch": 0}')
    write("latest.weights.h5", "weights 2")
    write("training_metadata.json", '{"epoch": 2, "batch": 0}')
    assert backup_epoch(tmp_path) == 2 and backup_epoch(tmp_path, previous=True) == 1

    roll_back_backup(tmp_path)
    assert backup_epoch(tmp_path) == 1
    assert (tmp_path / "latest.weights.h5").read_text() == "weights 1"
    for name in ("latest.weights.h5.bkp", "training_metadata.json.bkp"):
        (tmp_path / name).unlink()
    roll_back_backup(tmp_path)  # no previous backup: none at all, start from scratch
    assert backup_epoch(tmp_path) == 0 and not (tmp_path / "latest.weights.h5").exists()

    write("training_metadata.json", "{not json")
    with pytest.raises(ValueError, match="Corrupt backup metadata .*training_metadata.json"):
        backup_epoch(tmp_path)


def test_jit_compile_refused_with_several_cpu_replicas():
    import types

    import tensorflow as tf

    from keras_lk.training.strategy import check_jit_compile

    def strategy(*devices):
        return types.SimpleNamespace(num_replicas_in_sync=len(devices),
                                     extended=types.SimpleNamespace(worker_devices=devices))

    cpus = strategy("/job:localhost/replica:0/task:0/device:CPU:0",
                    "/job:localhost/replica:0/task:0/device:CPU:1")
    with pytest.raises(ValueError, match="cannot train 2 replicas on CPU devices"):
        check_jit_compile(cpus, True)
    check_jit_compile(cpus, False)
    check_jit_compile(strategy("/job:localhost/replica:0/task:0/device:CPU:0"), True)
    check_jit_compile(strategy("/device:GPU:0", "/device:GPU:1"), True)
    check_jit_compile(tf.distribute.get_strategy(), True)  # the default strategy


@pytest.mark.parametrize("bad_label", [-1, 3])
def test_segmentation_cross_entropy_refuses_labels_out_of_range(bad_label):
    import tensorflow as tf

    loss = SegmentationCrossEntropy(ignore_label=255)
    labels = np.array([[[0, 255, bad_label]]])
    logits = np.zeros((1, 1, 3, 3), "float32")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be in \[0, 2\]"):
        loss(labels, logits)
    # The same inside a tf.function (graph mode), as Keras' fit runs it.
    with pytest.raises(tf.errors.InvalidArgumentError, match="ignore label 255"):
        tf.function(lambda y, p: loss(y, p))(labels, logits)
    assert np.isfinite(float(loss(np.array([[[0, 255, 2]]]), logits)))


def test_a_batch_too_large_for_memory_is_refused_before_it_is_built():
    from keras_lk.models import GCNSeg
    from keras_lk.training.memory import activation_bytes_per_crop, check_batch_fits

    model = GCNSeg(num_classes=3, k=3, backbone="resnet10_local", boundary_refine=False)
    per_crop = activation_bytes_per_crop(model, 32)
    # At least the logits and the stem's 16-channel output of one 32² crop, float32.
    assert per_crop > (32 * 32 * 3 + 16 * 16 * 16) * 4
    gib = 2**30
    with pytest.raises(ValueError, match=r"a batch of 100000 crops of 32² needs about .* GiB"
                                         r".* this machine has 4.0 GiB available"):
        check_batch_fits(model, 32, 100_000, available=4 * gib)
    assert check_batch_fits(model, 32, 4, available=4 * gib) is None   # not even traced
    input_bytes = 3000 * 32 * 32 * 3 * 4
    enough = 2 * (input_bytes + 3000 * per_crop)
    assert check_batch_fits(model, 32, 3000, available=enough) == input_bytes + 3000 * per_crop
