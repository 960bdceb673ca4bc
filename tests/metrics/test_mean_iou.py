"""SegmentationMeanIoU: keras.metrics.MeanIoU's confusion matrix and value, counted by one
bincount per batch."""

import keras
import numpy as np
import pytest

from keras_lk.metrics import SegmentationMeanIoU


def _keras_miou(num_classes, ignore_label):
    return keras.metrics.MeanIoU(num_classes, ignore_class=ignore_label, sparse_y_true=True,
                                 sparse_y_pred=False)


@pytest.mark.parametrize("num_classes, ignore_label", [(6, 255), (21, 255), (3, None),
                                                       (4, 0)])
def test_same_confusion_matrix_and_value_as_keras_over_batches(num_classes, ignore_label):
    rng = np.random.default_rng(num_classes)
    ours, theirs = SegmentationMeanIoU(num_classes, ignore_label), _keras_miou(
        num_classes, ignore_label)
    for _ in range(3):  # accumulated over batches
        labels = rng.integers(0, num_classes, size=(2, 9, 7, 1)).astype("int32")
        labels[:, :2] = 255  # ignored, or out of range where nothing is ignored
        labels[0, 3, :2] = -1  # out of range: left out by both
        scores = rng.normal(size=(2, 9, 7, num_classes)).astype("float32")
        ours.update_state(labels, scores)
        theirs.update_state(labels, scores)
    np.testing.assert_array_equal(np.asarray(ours.total_cm), np.asarray(theirs.total_cm))
    assert np.asarray(ours.total_cm).sum() > 0
    assert float(ours.result()) == float(theirs.result())
    ours.reset_state()
    assert not np.asarray(ours.total_cm).any()


def test_labels_without_a_channel_axis_and_inside_an_xla_compiled_function():
    import tensorflow as tf

    metric = SegmentationMeanIoU(3, ignore_label=255)
    labels = np.array([[[0, 1, 2, 255]]], "int32")
    scores = np.eye(3, dtype="float32")[[0, 2, 2, 1]][None, None]
    tf.function(metric.update_state, jit_compile=True)(labels, scores)  # XLA: static sizes
    # Class 0 right, one 1 read as 2, one 2 right, the 255 pixel left out.
    np.testing.assert_array_equal(np.asarray(metric.total_cm),
                                  [[1, 0, 0], [0, 0, 1], [0, 0, 1]])
    assert float(metric.result()) == pytest.approx((1 + 0 + 0.5) / 3)


def test_sample_weights_take_keras_update():
    labels = np.array([[[0, 1]]], "int32")
    scores = np.eye(2, dtype="float32")[None, None]
    ours, theirs = SegmentationMeanIoU(2), _keras_miou(2, 255)
    weights = np.array([[[1, 0]]], "int32")
    ours.update_state(labels, scores, sample_weight=weights)
    theirs.update_state(labels, scores, sample_weight=weights)
    np.testing.assert_array_equal(np.asarray(ours.total_cm), np.asarray(theirs.total_cm))


def test_config_round_trip_and_a_compiled_model_saves_and_loads(tmp_path):
    metric = SegmentationMeanIoU(5, ignore_label=None, name="iou")
    config = metric.get_config()
    assert config == {"num_classes": 5, "ignore_label": None, "name": "iou",
                      "dtype": metric.dtype}
    assert SegmentationMeanIoU.from_config(config).get_config() == config
    from keras_lk import models

    model = models.GCNSeg(num_classes=3, k=3, backbone="resnet10_narrow",
                          boundary_refine=False)
    model.compile()  # the family's "auto" metric
    [compiled] = model.get_compile_config()["metrics"]
    assert compiled["registered_name"] == "keras_lk>SegmentationMeanIoU"
    assert compiled["config"]["num_classes"] == 3 and compiled["config"]["ignore_label"] == 255
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_compile_config()["metrics"] == [compiled]


@pytest.mark.parametrize("kwargs, match", [
    ({"num_classes": 0}, "`num_classes` must be an integer >= 1, received 0"),
    ({"num_classes": 3, "ignore_label": "255"},
     "`ignore_label` must be an integer or None, received '255'"),
])
def test_bad_arguments_name_what_was_expected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SegmentationMeanIoU(**kwargs)
