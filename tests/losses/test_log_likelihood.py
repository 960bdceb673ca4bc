"""pixel_log_likelihood: the label's log-softmax and its gradient, with the class axis
first for few classes and the plain log-softmax above CLASS_AXIS_FIRST_UP_TO."""

import numpy as np
import pytest
import tensorflow as tf

from keras_lk.losses.log_likelihood import CLASS_AXIS_FIRST_UP_TO, pixel_log_likelihood


def _reference(logits, labels):
    log_probs = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(
        -1, keepdims=True)) - logits.max(-1, keepdims=True)
    return np.take_along_axis(log_probs, labels[..., None], -1)[..., 0], log_probs


@pytest.mark.parametrize("shape", [(2, 5, 7, 6), (3, 11, 21), (2, 4, 4, 40),
                                   (2, 3, 3, CLASS_AXIS_FIRST_UP_TO)])
def test_values_and_gradient_are_the_labels_log_softmax(shape):
    rng = np.random.default_rng(len(shape) * shape[-1])
    logits = (rng.normal(size=shape) * 5).astype("float32")
    logits[0, 0] += 80.0  # large logits: the shift keeps exp finite
    labels = rng.integers(0, shape[-1], size=shape[:-1]).astype("int32")
    expected, log_probs = _reference(logits.astype("float64"), labels)
    variable = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(variable)
        got = pixel_log_likelihood(variable, tf.constant(labels))
        total = tf.reduce_sum(got)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
    onehot = np.eye(shape[-1])[labels]
    np.testing.assert_allclose(tape.gradient(total, variable).numpy(),
                               onehot - np.exp(log_probs), atol=1e-5)


def test_inside_an_xla_compiled_function():
    logits = np.random.default_rng(0).normal(size=(2, 4, 4, 6)).astype("float32")
    labels = np.zeros((2, 4, 4), "int32")
    got = tf.function(pixel_log_likelihood, jit_compile=True)(logits, labels)
    np.testing.assert_allclose(got.numpy(), _reference(logits, labels)[0], atol=1e-5)
