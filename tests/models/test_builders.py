"""Behaviour shared by the three builders: weight-name snapshots, gradients, `.keras`
round-trip, mixed precision and a MirroredStrategy train step."""

import os
import pathlib
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lk import models

SNAPSHOT_DIR = pathlib.Path(__file__).parent / "weight_names"
DEFAULT_BUILDERS = {
    "gcn_seg": lambda: models.GCNSeg(),
    "gald_net": lambda: models.GALDNet(19),
    "fcrn": lambda: models.FCRN(21),
}
SMALL_BUILDERS = {
    "gcn_seg": lambda: models.GCNSeg(num_classes=4, k=5, backbone="resnet18"),
    "gald_net": lambda: models.GALDNet(4, backbone="resnet18", head_channels=32),
    "fcrn": lambda: models.FCRN(4, backbone="resnet18", kernel_size=3, dilation=2),
}


def _sum_outputs(outputs, weights):
    if isinstance(outputs, dict):
        return sum(_sum_outputs(v, weights) for v in outputs.values())
    return tf.reduce_sum(tf.cast(outputs, "float32") * weights)


@pytest.mark.parametrize("name", sorted(DEFAULT_BUILDERS))
def test_weight_names_of_default_builders_match_snapshot(name):
    """Renames must be deliberate: regenerate with UPDATE_WEIGHT_NAMES=1."""
    model = DEFAULT_BUILDERS[name]()
    names = sorted(w.path for w in model.weights)
    assert len(names) == len(set(names)), "duplicate weight paths"
    path = SNAPSHOT_DIR / f"{name}.txt"
    if os.environ.get("UPDATE_WEIGHT_NAMES"):
        path.write_text("\n".join(names) + "\n")
    assert names == path.read_text().split(), f"weight names of {name} changed"


@pytest.mark.parametrize("name", sorted(SMALL_BUILDERS))
def test_gradient_reaches_every_trainable_weight(name):
    keras.utils.set_random_seed(0)
    model = SMALL_BUILDERS[name]()
    x = tf.random.uniform((2, 48, 40, 3))
    with tf.GradientTape() as tape:
        outputs = model(x, training=True)
        loss = _sum_outputs(outputs, tf.random.normal((2, 48, 40, 4)))
    grads = tape.gradient(loss, model.trainable_weights)
    missing = [w.path for w, g in zip(model.trainable_weights, grads)
               if g is None or not np.any(keras.ops.convert_to_numpy(g))]
    assert not missing


@pytest.mark.parametrize("name", sorted(SMALL_BUILDERS))
def test_keras_save_load_safe_mode_round_trip(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = SMALL_BUILDERS[name]()
    x = np.random.RandomState(0).uniform(size=(1, 37, 45, 3)).astype("float32")
    expected = keras.tree.map_structure(keras.ops.convert_to_numpy, model(x))
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    got = keras.tree.map_structure(keras.ops.convert_to_numpy, restored(x))
    keras.tree.map_structure(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5), expected, got)


@pytest.mark.parametrize("name", sorted(SMALL_BUILDERS))
def test_mixed_precision_forward_and_train_step(name):
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(0)
        model = SMALL_BUILDERS[name]()
        x = np.random.RandomState(0).uniform(size=(2, 32, 32, 3)).astype("float32")
        y = np.random.RandomState(1).randint(0, 4, size=(2, 32, 32)).astype("int32")
        outputs = model(x)
        for out in keras.tree.flatten(outputs):
            assert out.dtype == "float32"
            assert np.all(np.isfinite(keras.ops.convert_to_numpy(out)))
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if isinstance(outputs, dict):
            model.compile(optimizer="sgd", loss={"logits": loss, "aux_logits": loss},
                          loss_weights={"logits": 1.0, "aux_logits": models.AUX_LOSS_WEIGHT})
            result = model.train_on_batch(x, {"logits": y, "aux_logits": y})
        else:
            model.compile(optimizer="sgd", loss=loss)
            result = model.train_on_batch(x, y)
        assert np.all(np.isfinite(result))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from keras_lk import models

    def build():
        model = models.GCNSeg(num_classes=3, k=5, backbone="resnet18", use_sync_bn=True)
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    keras.utils.set_random_seed(0)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        mirrored = build()
    single = build()
    single.set_weights(mirrored.get_weights())
    x = np.random.RandomState(0).uniform(size=(4, 32, 32, 3)).astype("float32")
    y = np.random.RandomState(1).randint(0, 3, size=(4, 32, 32)).astype("int32")
    before = [w.numpy().copy() for w in mirrored.trainable_weights]
    losses = [m.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False).history["loss"][0]
              for m in (mirrored, single)]
    assert np.isfinite(losses[0]) and abs(losses[0] - losses[1]) < 1e-4, losses
    for old, m, s in zip(before, mirrored.trainable_weights, single.trainable_weights):
        # Every weight moved, and exactly as one device with the whole batch moved it:
        # two replicas of 2 images with synchronised BatchNorm are one batch of 4.
        assert not np.array_equal(old, m.numpy()), f"{m.path} did not change"
        np.testing.assert_allclose(m.numpy(), s.numpy(), atol=1e-4, err_msg=m.path)
    for m, s in zip(mirrored.non_trainable_weights, single.non_trainable_weights):
        np.testing.assert_allclose(m.numpy(), s.numpy(), atol=1e-5, err_msg=m.path)
    print("MIRRORED_OK", losses[0])
    """
)


@pytest.mark.slow
def test_a_mirrored_train_step_on_two_cpu_devices_equals_one_device_with_the_whole_batch():
    # A subprocess: logical devices must be configured before TF initialises.
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(__file__).parents[2]),
               TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True,
                            text=True, env=env, timeout=300, check=False)
    assert "MIRRORED_OK" in result.stdout, result.stderr[-3000:]
