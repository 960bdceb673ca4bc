"""NMF2D: the Hamburger's NMF against a NumPy transcription of the official NMF2D, its
multiplicative updates (non-negative, reconstruction error falling), train/eval steps,
the one-step gradient, seeded bases, bad arguments."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lk.layers import NMF2D
from tests import golden


def _data(shape=(2, 6, 5, 12), rank=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, shape).astype("float32")  # non-negative, as after the ReLU
    bases = rng.uniform(0, 1, (shape[0], shape[-1], rank))
    bases = (bases / np.linalg.norm(bases, axis=1, keepdims=True)).astype("float32")
    return x, bases


def _official(x, bases, steps):
    out, final_bases, coef = golden.nmf2d_official(
        x.transpose(0, 3, 1, 2).astype(np.float64), bases.astype(np.float64), steps)
    return out.transpose(0, 2, 3, 1), final_bases, coef


def test_contract(tmp_path):
    """Config round trip, .keras save/load (safe_mode), jit and mixed precision, on the
    non-negative inputs NMF takes (`run_layer_test` feeds signed ones, on which the
    multiplicative updates divide by near-zero sums and XLA and eager part ways)."""
    kwargs = {"rank": 3, "train_steps": 2, "eval_steps": 3, "gradient": "one_step",
              "seed": 1}
    layer = NMF2D(**kwargs)
    assert {k: layer.get_config()[k] for k in kwargs} == kwargs
    assert NMF2D.from_config(layer.get_config()).get_config() == layer.get_config()
    x, _ = _data((2, 5, 7, 8))
    inputs = keras.Input((None, None, 8))
    model = keras.Model(inputs, NMF2D(**kwargs)(inputs))
    assert model.output.shape == (None, None, None, 8)
    reference = np.asarray(model(x))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(restored(x)), reference, rtol=1e-6, atol=1e-6)
    model.compile(jit_compile=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), reference, rtol=1e-4,
                               atol=1e-5)
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = NMF2D(**kwargs)
        out = mixed(x)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    np.testing.assert_allclose(np.asarray(out, "float32"), reference,
                               atol=2e-2 * np.abs(reference).max())


@pytest.mark.parametrize("training, steps", [(True, 6), (False, 7)])
def test_matches_official_transcription_with_its_step_counts(training, steps):
    x, bases = _data()
    layer = NMF2D(rank=4, train_steps=6, eval_steps=7)
    out = np.asarray(layer(x, training=training, bases=bases))
    expected, _, _ = _official(x, bases, steps)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    other, _, _ = _official(x, bases, 13 - steps)  # the other mode's count differs
    assert not np.allclose(out, other, rtol=1e-4, atol=1e-5)


def test_factors_stay_non_negative_and_the_reconstruction_error_falls():
    x, bases = _data((1, 8, 8, 16), rank=3, seed=2)
    errors = []
    for steps in range(9):
        layer = NMF2D(rank=3, train_steps=steps)
        out = np.asarray(layer(x, training=True, bases=bases))
        assert out.min() >= 0.0
        factors = layer.factorize(x.reshape(1, 64, 16), bases, steps)
        assert all(np.asarray(f).min() >= 0.0 for f in factors)
        errors.append(np.linalg.norm(out - x))
    assert all(b <= a * (1 + 1e-5) for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] < 0.9 * errors[0], errors


def _gradient(layer, x, bases, weights, training=True):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x, training=training, bases=bases) * weights)
    return tape.gradient(loss, x).numpy()


def test_one_step_gradient_flows_through_the_last_update_only():
    """With the factors D, C the updates reach held constant, the output D·C'ᵀ with
    C' = C ⊙ XᵀD / (C DᵀD + ε) is linear in X: ∂L/∂X[n, c] = Σ_r (W D)[n, r] ·
    C[n, r] / den[n, r] · D[c, r]. The unrolled gradient (the official code's) differs."""
    x, bases = _data()
    weights = np.random.default_rng(3).standard_normal(x.shape).astype("float32")
    layer = NMF2D(rank=4, train_steps=6, gradient="one_step")
    ours = _gradient(layer, x, bases, weights)
    _, d, c = _official(x, bases, 6)  # (B, C, R), (B, N, R)
    den = c @ (d.transpose(0, 2, 1) @ d) + 1e-6
    w = weights.reshape(2, -1, 12).astype(np.float64)
    expected = ((w @ d) * c / den) @ d.transpose(0, 2, 1)
    np.testing.assert_allclose(ours, expected.reshape(x.shape), rtol=1e-3, atol=1e-5)
    unrolled = _gradient(NMF2D(rank=4, train_steps=6), x, bases, weights)
    assert not np.allclose(unrolled, ours, rtol=1e-2, atol=1e-3)
    # Forward values are the same whichever gradient is taken.
    np.testing.assert_allclose(np.asarray(layer(x, training=True, bases=bases)),
                               np.asarray(NMF2D(rank=4)(x, training=True, bases=bases)),
                               rtol=1e-6)


def test_unrolled_gradient_matches_finite_differences():
    x, bases = _data((1, 3, 3, 6), rank=2, seed=4)
    weights = np.random.default_rng(5).standard_normal(x.shape)
    layer = NMF2D(rank=2, train_steps=3)
    grad = _gradient(layer, x.astype("float64"), bases.astype("float64"), weights)

    def loss(values):
        return float(np.sum(_official(values, bases, 3)[0] * weights))

    h, index = 1e-6, (0, 1, 2, 3)
    step = np.zeros_like(x, dtype=np.float64)
    step[index] = h
    numeric = (loss(x + step) - loss(x - step)) / (2 * h)
    np.testing.assert_allclose(grad[index], numeric, rtol=1e-4)


def test_random_bases_are_seeded_reproducible_and_never_nan():
    x, _ = _data()
    keras.utils.set_random_seed(7)
    first = NMF2D(rank=4)
    a, b = (np.asarray(first(x, training=True)) for _ in range(2))
    keras.utils.set_random_seed(7)
    second = NMF2D(rank=4)
    np.testing.assert_array_equal(np.asarray(second(x, training=True)), a)
    assert not np.array_equal(a, b)  # fresh bases at every training call, as official
    inference = [np.asarray(NMF2D(rank=4, seed=3)(x)) for _ in range(2)]
    np.testing.assert_array_equal(*inference)  # fixed at inference
    bases = np.asarray(first.random_bases(2, 12))
    assert bases.min() >= 0 and np.allclose(np.linalg.norm(bases, axis=1), 1.0)
    for values in (np.zeros_like(x), np.full_like(x, 1e-20), x * 1e6):
        out = np.asarray(first(values, training=True))
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("kwargs, match", [
    ({"rank": 0}, "`rank` must be an integer >= 1"),
    ({"train_steps": -1}, "`train_steps` must be an integer >= 0"),
    ({"eval_steps": 2.5}, "`eval_steps` must be an integer >= 0"),
    ({"gradient": "none"}, "`gradient` must be one of"),
    ({"seed": "a"}, "`seed` must be an integer or None"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NMF2D(**kwargs)
