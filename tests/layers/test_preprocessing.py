"""Input normalization: one formula for the data pipelines and the model-side layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lk import data, layers


def test_preprocess_input_matches_keras_caffe_mode():
    x = np.random.RandomState(0).uniform(0, 255, size=(2, 5, 7, 3)).astype("float32")
    expected = keras.applications.resnet.preprocess_input(x.copy())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layers.preprocess_input(x)),
                               expected, rtol=1e-6, atol=1e-4)
    layer_out = layers.CaffePreprocessing()(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer_out), expected, atol=1e-4)


@pytest.mark.parametrize("normalization", layers.NORMALIZATIONS)
def test_the_pipeline_and_the_layer_formula_agree_in_float32(normalization):
    x = np.random.RandomState(1).uniform(0, 255, size=(2, 5, 7, 3)).astype("float32")
    in_pipeline = tf.data.Dataset.from_tensors(x.astype("uint8")).map(
        lambda image: data.normalize_image(image, normalization))
    (piped,) = list(in_pipeline.as_numpy_iterator())
    np.testing.assert_array_equal(
        piped, layers.normalize_image(x.astype("uint8").astype("float32"), normalization))


def test_the_formula_keeps_the_dtype_of_half_precision_tensors():
    x = keras.ops.cast(np.full((1, 2, 2, 3), 128.0), "float16")
    y = layers.normalize_image(x, "caffe")
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    with pytest.raises(TypeError, match="must be a float tensor"):
        layers.normalize_image(np.zeros((1, 2, 2, 3), np.uint8))
