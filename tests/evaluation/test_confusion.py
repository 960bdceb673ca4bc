import keras
import numpy as np
import pytest

from keras_lk.evaluation import SegmentationMetrics, confusion_matrix, scores_from_confusion
from keras_lk.losses import SegmentationCrossEntropy

LABELS = np.array([[0, 0, 1, 1], [0, 0, 1, 255], [2, 2, 1, 255]])
PREDICTIONS = np.array([[0, 1, 1, 1], [0, 0, 2, 0], [2, 0, 1, 2]])


def _hand_confusion():
    # Rows: truth, columns: prediction; the two 255 pixels are not counted.
    return np.array([[3, 1, 0], [0, 3, 1], [1, 0, 1]])


def test_confusion_matrix_matches_hand_count():
    np.testing.assert_array_equal(confusion_matrix(LABELS, PREDICTIONS, 3), _hand_confusion())
    # Trailing channel axis and batch axis are accepted.
    batch = confusion_matrix(LABELS[None, ..., None], PREDICTIONS[None], 3)
    np.testing.assert_array_equal(batch, _hand_confusion())


def test_scores_hand_computed():
    scores = scores_from_confusion(_hand_confusion())
    iou = [3 / (4 + 4 - 3), 3 / (4 + 4 - 3), 1 / (2 + 2 - 1)]
    np.testing.assert_allclose(scores["iou"], iou)
    assert scores["mean_iou"] == pytest.approx(np.mean(iou))
    np.testing.assert_allclose(scores["class_accuracy"], [3 / 4, 3 / 4, 1 / 2])
    assert scores["mean_class_accuracy"] == pytest.approx(np.mean([0.75, 0.75, 0.5]))
    assert scores["pixel_accuracy"] == pytest.approx(7 / 10)
    assert scores["frequency_weighted_iou"] == pytest.approx((4 * 0.6 + 4 * 0.6 + 2 / 3) / 10)
    assert scores["num_pixels"] == 10


def test_absent_class_is_nan_and_excluded():
    # Class 1 absent from labels and predictions: NaN, not in the means.
    labels = np.array([[0, 0], [2, 2]])
    predictions = np.array([[0, 2], [2, 2]])
    scores = scores_from_confusion(confusion_matrix(labels, predictions, 3))
    assert np.isnan(scores["iou"][1]) and np.isnan(scores["class_accuracy"][1])
    assert scores["mean_iou"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert scores["mean_class_accuracy"] == pytest.approx((1 / 2 + 1) / 2)
    # A class that is only predicted (false positives) has IoU 0 and counts.
    scores = scores_from_confusion(confusion_matrix([[0, 0]], [[0, 1]], 2))
    np.testing.assert_allclose(scores["iou"], [0.5, 0.0])
    assert scores["mean_iou"] == pytest.approx(0.25)
    assert np.isnan(scores["class_accuracy"][1]) and scores["mean_class_accuracy"] == 0.5
    empty = scores_from_confusion(np.zeros((2, 2)))
    assert np.isnan(empty["mean_iou"]) and np.isnan(empty["pixel_accuracy"])


@pytest.mark.parametrize(
    "labels, predictions, error, match",
    [
        (LABELS, PREDICTIONS[:, :3], ValueError, "same shape"),
        (LABELS.astype(float), PREDICTIONS, TypeError, "`labels` must hold integer"),
        (LABELS, np.zeros((3, 4, 3), np.float32), TypeError, "`predictions` must hold integer"),
        (np.where(LABELS == 2, 7, LABELS), PREDICTIONS, ValueError, r"`labels` values .*\[7\]"),
        (LABELS, np.where(PREDICTIONS == 2, -1, PREDICTIONS), ValueError, "`predictions` values"),
        (np.zeros((1, 2, 3, 4, 5), int), np.zeros((1, 2, 3, 4, 5), int), ValueError, "shape"),
    ],
)
def test_confusion_matrix_bad_input(labels, predictions, error, match):
    with pytest.raises(error, match=match):
        confusion_matrix(labels, predictions, 3)


def test_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        SegmentationMetrics(1)
    with pytest.raises(TypeError, match="num_classes"):
        confusion_matrix(LABELS, PREDICTIONS, 2.5)


def test_metric_streaming_equals_numpy():
    metric = SegmentationMetrics(3)
    logits = np.eye(3, dtype=np.float32)[PREDICTIONS] * 5.0
    # Two batches: first two rows, then the last one (labels with a channel axis).
    metric.update_state(LABELS[None, :2, :, None], logits[None, :2])
    metric.update_state(LABELS[None, 2:], PREDICTIONS[None, 2:])
    np.testing.assert_array_equal(metric.confusion(), _hand_confusion())
    expected = scores_from_confusion(_hand_confusion())
    result = {k: float(v) for k, v in metric.result().items()}
    for key in ("mean_iou", "pixel_accuracy", "mean_class_accuracy"):
        assert result[key] == pytest.approx(expected[key], rel=1e-6)
    np.testing.assert_allclose(metric.scores()["iou"], expected["iou"])
    metric.reset_state()
    assert metric.confusion().sum() == 0
    assert np.isnan(float(metric.result()["mean_iou"]))


def test_metric_absent_class_matches_numpy():
    metric = SegmentationMetrics(3)
    metric.update_state(np.array([[[0, 0], [2, 2]]]), np.array([[[0, 2], [2, 2]]]))
    assert float(metric.result()["mean_iou"]) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_metric_bad_input_messages():
    metric = SegmentationMetrics(3)
    with pytest.raises(ValueError, match=r"`y_true` values .*\[5\]"):
        metric.update_state(np.array([[[0, 5]]]), np.array([[[0, 1]]]))
    with pytest.raises(ValueError, match="N×H×W"):
        metric.update_state(np.zeros((1, 2, 3), int), np.zeros((1, 2, 4), int))
    with pytest.raises(ValueError, match="num_classes=3 channels"):
        metric.update_state(np.zeros((1, 2, 2), int), np.zeros((1, 2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="`y_true` must be labels"):
        metric.update_state(np.zeros((2, 2), int), np.zeros((2, 2), int))


def test_metric_in_compiled_fit_and_evaluate():
    """In model.compile, inside tf.function: same numbers as NumPy; config round-trip."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    metric = SegmentationMetrics(3, name="seg")
    model.compile("sgd", SegmentationCrossEntropy(ignore_label=255), metrics=[metric])
    rng = np.random.RandomState(0)
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    y = rng.randint(0, 3, size=(4, 8, 8, 1))
    y[0, :2] = 255  # ignored by the loss and the metric
    logs = model.evaluate(x, y, batch_size=2, return_dict=True, verbose=0)
    assert set(logs) >= {"mean_iou", "pixel_accuracy", "mean_class_accuracy"}
    predictions = keras.ops.convert_to_numpy(model(x)).argmax(-1)
    expected = scores_from_confusion(confusion_matrix(y, predictions, 3, ignore_label=255))
    counted = scores_from_confusion(confusion_matrix(np.where(y == 255, 0, y), predictions, 3))
    assert expected["pixel_accuracy"] != pytest.approx(counted["pixel_accuracy"])
    assert logs["mean_iou"] == pytest.approx(expected["mean_iou"], rel=1e-5)
    assert logs["pixel_accuracy"] == pytest.approx(expected["pixel_accuracy"], rel=1e-5)
    clone = SegmentationMetrics.from_config(metric.get_config())
    assert clone.num_classes == 3 and clone.ignore_label == 255 and clone.name == "seg"


def test_metric_counts_out_of_range_labels_when_traced():
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.function check")
    metric = SegmentationMetrics(2)
    tf.function(metric.update_state)(tf.constant([[[0, 9]]]), tf.constant([[[0, 1]]]))
    np.testing.assert_array_equal(metric.confusion(), [[1, 0], [0, 0]])
    with pytest.raises(ValueError, match="1 pixels with labels outside"):
        metric.scores()
