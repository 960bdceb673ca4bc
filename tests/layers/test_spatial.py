"""The shape layers the model builders use."""
import numpy as np
import tensorflow as tf

from keras_lk.layers import CropToMatch


def test_crop_to_match_crops_top_left_at_static_and_dynamic_sizes():
    x = np.random.default_rng(0).normal(size=(1, 40, 48, 5)).astype("float32")
    reference = np.zeros((1, 37, 45, 3), "float32")
    expected = x[:, :37, :45]
    crop = CropToMatch()
    np.testing.assert_array_equal(crop([x, reference]), expected)
    dynamic = tf.function(lambda a, b: crop([a, b]), input_signature=[
        tf.TensorSpec((None, None, None, 5)), tf.TensorSpec((None, None, None, 3))])
    np.testing.assert_array_equal(dynamic(x, reference), expected)


def test_crop_to_match_of_equal_static_sizes_is_the_input_itself_with_no_slice_op():
    crop = CropToMatch()
    graph = tf.function(lambda a, b: crop([a, b])).get_concrete_function(
        tf.TensorSpec((1, 64, 64, 21)), tf.TensorSpec((1, 64, 64, 3))).graph
    assert not [op.type for op in graph.get_operations() if "Slice" in op.type]
    x = np.ones((1, 64, 64, 21), "float32")
    np.testing.assert_array_equal(crop([x, np.zeros((1, 64, 64, 3))]), x)
