import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lk.losses import OHEMLoss
from tests import golden


def random_case(seed, shape=(2, 6, 7), classes=5, ignore_fraction=0.2):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, shape)
    labels[rng.random(shape) < ignore_fraction] = 255
    logits = (2 * rng.standard_normal(shape + (classes,))).astype("float32")
    return labels, logits


@pytest.mark.parametrize("mode", ["fcrn", "gald"])
@pytest.mark.parametrize("per_image", [True, False])
@pytest.mark.parametrize("threshold,min_kept", [(0.0, 5), (0.3, 5), (0.7, 20), (0.5, 1), (0.9, 200)])
def test_matches_numpy(mode, per_image, threshold, min_kept):
    labels, logits = random_case(0)
    loss = OHEMLoss(mode=mode, threshold=threshold, min_kept=min_kept, per_image=per_image)
    expected = golden.ohem_loss(labels, logits, mode, threshold, min_kept, per_image)
    np.testing.assert_allclose(float(loss(labels, logits)), expected, rtol=1e-5)


def test_fcrn_threshold_zero_keeps_exactly_the_k_hardest():
    labels, logits = random_case(1, ignore_fraction=0.0)
    loss = OHEMLoss(mode="fcrn", threshold=0.0, min_kept=4)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.take_along_axis(log_probs, labels[..., None], -1)[..., 0].reshape(2, -1)
    expected = np.sort(ce, axis=1)[:, -4:].mean()
    np.testing.assert_allclose(float(loss(labels, logits)), expected, rtol=1e-5)


def test_ties_at_the_kth_probability_are_all_kept():
    """Uniform logits: every pixel has p = 1/C, so all tie with p_K and all are kept."""
    labels = np.zeros((1, 4, 4), "int32")
    logits = np.zeros((1, 4, 4, 3), "float32")
    for mode in ("fcrn", "gald"):
        loss = OHEMLoss(mode=mode, threshold=0.0, min_kept=3)
        np.testing.assert_allclose(float(loss(labels, logits)), np.log(3.0), rtol=1e-6)


def test_all_ignored_gives_zero_not_nan():
    labels = np.full((2, 5, 5), 255)
    logits = np.random.default_rng(0).standard_normal((2, 5, 5, 4)).astype("float32")
    for mode in ("fcrn", "gald"):
        value = float(OHEMLoss(mode=mode)(labels, logits))
        assert value == 0.0
    # And the gradient is zero, not NaN.
    x = tf.Variable(logits)
    with tf.GradientTape() as tape:
        value = OHEMLoss()(labels, x)
    assert np.all(tape.gradient(value, x).numpy() == 0)


@pytest.mark.parametrize("mode", ["fcrn", "gald"])
def test_fewer_valid_pixels_than_k_keeps_all_valid(mode):
    labels, logits = random_case(2, ignore_fraction=0.9)
    loss = OHEMLoss(mode=mode, threshold=0.0, min_kept=1000)  # K larger than the pixels too
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)
    np.testing.assert_allclose(float(loss(labels, logits)), float(plain(labels, logits)), rtol=1e-5)


@pytest.mark.parametrize("per_image", [True, False])
def test_keeping_everything_equals_plain_cross_entropy(per_image):
    labels, logits = random_case(3)
    loss = OHEMLoss(mode="fcrn", threshold=1.0, min_kept=1, per_image=per_image)
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)
    np.testing.assert_allclose(float(loss(labels, logits)), float(plain(labels, logits)), rtol=1e-5)


def test_label_shapes_and_mixed_precision_logits():
    labels, logits = random_case(4)
    loss = OHEMLoss(mode="gald", threshold=0.7, min_kept=10)
    reference = float(loss(labels, logits))
    np.testing.assert_allclose(float(loss(labels[..., None], logits)), reference, rtol=1e-6)
    for dtype in ("bfloat16", "float16"):
        value = loss(labels, tf.cast(logits, dtype))
        assert value.dtype == tf.float32
        np.testing.assert_allclose(float(value), reference, rtol=2e-2)


def test_runs_under_xla_and_distribution():
    labels, logits = random_case(5, shape=(4, 6, 6))
    loss = OHEMLoss(mode="fcrn", threshold=0.3, min_kept=8)
    reference = float(loss(labels, logits))
    jitted = tf.function(loss.__call__, jit_compile=True)
    np.testing.assert_allclose(float(jitted(tf.constant(labels), tf.constant(logits))), reference, rtol=1e-5)



def test_per_image_selection_does_not_depend_on_the_batch_split():
    """What replicas see: the kept pixels of an image are the same in any batch."""
    rng = np.random.default_rng(8)
    prob = rng.random((4, 30)).astype("float32")
    valid = rng.random((4, 30)) > 0.3
    loss = OHEMLoss(mode="fcrn", threshold=0.2, min_kept=6)
    whole = np.asarray(loss._kept_mask(prob, valid))
    halves = np.concatenate([np.asarray(loss._kept_mask(prob[i : i + 2], valid[i : i + 2])) for i in (0, 2)])
    np.testing.assert_array_equal(whole, halves)
    assert np.all(whole.sum(1) >= np.minimum(6, valid.sum(1)))


def test_trains_in_a_compiled_model():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 3, (4, 8, 8))
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(inputs))
    model.compile(keras.optimizers.SGD(0.5), loss=OHEMLoss(mode="fcrn", threshold=0.0, min_kept=16))
    history = model.fit(x, y, epochs=3, batch_size=2, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]


def test_config_round_trip_and_saving(tmp_path):
    loss = OHEMLoss(mode="gald", threshold=0.6, min_kept=77, per_image=False, ignore_label=0)
    clone = OHEMLoss.from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    model.compile(loss=loss)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert restored.loss.get_config() == loss.get_config()


def test_out_of_range_label_raises():
    labels, logits = random_case(7)
    labels[0, 0, 0] = 9
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels outside \\[0, 5\\)"):
        OHEMLoss()(labels, logits)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"mode": "topk"}, "`mode` must be one of"),
        ({"threshold": 1.5}, "`threshold` must be a number in \\[0, 1\\], received 1.5"),
        ({"min_kept": 0}, "`min_kept` must be an integer >= 1, received 0"),
        ({"ignore_label": "void"}, "`ignore_label` must be an integer or None"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OHEMLoss(**kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match="`y_pred` must be logits of rank 4"):
        OHEMLoss()(np.zeros((2, 4, 4), "int32"), np.zeros((2, 4, 4), "float32"))
    with pytest.raises(ValueError, match="`y_true` must be integer labels"):
        OHEMLoss()(np.zeros((2, 4, 4, 3), "int32"), np.zeros((2, 4, 4, 3), "float32"))


@pytest.mark.parametrize("mode,threshold,min_kept", [("fcrn", 0.0, 6), ("fcrn", 0.3, 5),
                                                     ("gald", 0.7, 20)])
def test_kept_pixels_are_the_ones_the_loss_averages(mode, threshold, min_kept):
    labels, logits = random_case(2)
    loss = OHEMLoss(mode=mode, threshold=threshold, min_kept=min_kept)
    kept = np.asarray(loss.kept_pixels(labels, logits))
    assert kept.shape == labels.shape and kept.dtype == bool
    assert not kept[labels == 255].any()
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    ce = -np.take_along_axis(log_probs, np.where(labels == 255, 0, labels)[..., None], -1)[..., 0]
    np.testing.assert_allclose(ce[kept].mean(), float(loss(labels, logits)), rtol=1e-5)
    if threshold == 0.0:  # exactly the K hardest valid pixels of each image
        assert kept.sum(axis=(1, 2)).tolist() == [min_kept] * len(labels)
        for image in range(len(labels)):
            valid = labels[image] != 255
            assert ce[image][kept[image]].min() >= ce[image][valid & ~kept[image]].max()
