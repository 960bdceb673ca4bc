"""`evaluate_segmentation`, which produces every number of the READMEs, recipes and CLI,
against a computation that shares none of its code: a manual argmax of the model's logits,
`np.bincount` confusion counts, and the boundary band from SciPy's min/max filters."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from keras_lk import data, evaluation, models

NUM_CLASSES = 4
# Mixed sizes, in an order where images of one size are not all consecutive.
SIZES = [(32, 32), (32, 32), (40, 48), (32, 32), (24, 40), (24, 40), (40, 48)]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return models.GCNSeg(num_classes=NUM_CLASSES, k=3, backbone="resnet10_narrow",
                         boundary_refine=False)


@pytest.fixture(scope="module")
def split():
    """Images of mixed sizes whose labels are blocks of the four classes, with a band of
    ignore pixels and one image that is all ignore but a corner."""
    rng = np.random.default_rng(0)
    images, masks = [], []
    for i, (h, w) in enumerate(SIZES):
        images.append(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        blocks = rng.integers(0, NUM_CLASSES, (h // 12 + 1, w // 12 + 1))
        mask = np.kron(blocks, np.ones((12, 12), np.int64))[:h, :w].astype(np.uint8)
        mask[5, :] = 255  # a void line, as VOC's band around objects
        mask[rng.uniform(size=(h, w)) < 0.01] = 255
        if i == 3:
            mask[:] = 255
            mask[:4, :4] = 2
        masks.append(mask[..., None])
    return images, masks


def _dataset(images, masks):
    def generate():
        for image, mask in zip(images, masks):
            yield {"image": image, "segmentation_mask": mask}

    return tf.data.Dataset.from_generator(generate, output_signature={
        "image": tf.TensorSpec((None, None, 3), tf.uint8),
        "segmentation_mask": tf.TensorSpec((None, None, 1), tf.uint8)})


def _logits(model, image):
    normalized = np.asarray(data.normalize_image(image[None].astype("float32"),
                                                 model.normalization))
    return keras.ops.convert_to_numpy(model.main_logits(model(normalized, training=False)))[0]


def _band(label, distance):
    """Pixels with another label (void included) within Chebyshev `distance`, the image
    border not a boundary: the window's max and min differ."""
    size = 2 * distance + 1
    return (ndimage.maximum_filter(label, size=size, mode="nearest")
            != ndimage.minimum_filter(label, size=size, mode="nearest"))


DISTANCE = 3  # the boundary band's width here: 12-px blocks keep interior pixels


def _expected_scores(labels, predictions, distance=DISTANCE):
    counts = np.zeros(NUM_CLASSES * NUM_CLASSES, np.int64)
    correct = {"boundary": [0, 0], "internal": [0, 0]}
    for label, prediction in zip(labels, predictions):
        valid = label != 255
        counts += np.bincount(label[valid].astype(np.int64) * NUM_CLASSES + prediction[valid],
                              minlength=NUM_CLASSES * NUM_CLASSES)
        near = _band(label, distance)
        for region, pixels in (("boundary", near & valid), ("internal", ~near & valid)):
            correct[region][0] += int(np.sum((label == prediction) & pixels))
            correct[region][1] += int(pixels.sum())
    matrix = counts.reshape(NUM_CLASSES, NUM_CLASSES)
    truth, predicted, hits = matrix.sum(1), matrix.sum(0), np.diag(matrix)
    union = truth + predicted - hits
    present = union > 0
    return {
        "miou": float(np.mean(hits[present] / union[present])),
        "per_class_iou": [float(h / u) if u else None for h, u in zip(hits, union)],
        "pixel_accuracy": float(hits.sum() / matrix.sum()),
        "mean_class_accuracy": float(np.mean(hits[truth > 0] / truth[truth > 0])),
        "boundary_accuracy": correct["boundary"][0] / correct["boundary"][1],
        "internal_accuracy": correct["internal"][0] / correct["internal"][1],
        "boundary_pixels": correct["boundary"][1],
        "internal_pixels": correct["internal"][1],
        "num_images": len(labels),
    }


def _assert_scores_equal(found, expected):
    assert set(found) == set(expected)
    for key, value in expected.items():
        if key == "per_class_iou":
            assert [v is None for v in found[key]] == [v is None for v in value]
            np.testing.assert_allclose([v for v in found[key] if v is not None],
                                       [v for v in value if v is not None], rtol=1e-12)
        else:
            assert found[key] == pytest.approx(value, rel=1e-12), key


@pytest.mark.parametrize("batch_size", [1, 2, 8])
def test_scores_equal_an_independent_computation_at_every_batch_size(model, split,
                                                                      batch_size):
    images, masks = split
    predictions = [np.argmax(_logits(model, image), axis=-1) for image in images]
    expected = _expected_scores([mask[..., 0] for mask in masks], predictions)
    assert 0 < expected["boundary_accuracy"] < 1 and 0 < expected["internal_accuracy"] < 1
    assert 0 < expected["miou"] < 1
    found = evaluation.evaluate_segmentation(model, _dataset(images, masks),
                                             boundary_distance=DISTANCE,
                                             batch_size=batch_size)
    _assert_scores_equal(found, expected)


def test_multiscale_and_flip_path_equals_predict_multiscale(model, split):
    images, masks = split
    protocol = {"scales": (0.75, 1.0), "flip": True}
    predictions = []
    for image in images:
        normalized = np.asarray(data.normalize_image(image[None].astype("float32"),
                                                     model.normalization))
        probabilities = evaluation.predict_multiscale(model, normalized, **protocol)
        predictions.append(np.argmax(probabilities[0], axis=-1))
    expected = _expected_scores([mask[..., 0] for mask in masks], predictions)
    found = evaluation.evaluate_segmentation(model, _dataset(images, masks), batch_size=2,
                                             boundary_distance=DISTANCE, **protocol)
    _assert_scores_equal(found, expected)


def test_training_miou_equals_segmentation_metrics_on_one_batch(model, split):
    """The `miou` that `fit` logs (Keras's MeanIoU, compiled by the model) is the mIoU
    of `SegmentationMetrics` on the same batch, ignore pixels excluded by both."""
    images, masks = split
    batch = np.stack(images[:2])  # two 32×32 images
    labels = np.stack(masks[:2])
    normalized = np.asarray(data.normalize_image(batch.astype("float32"), model.normalization))
    model.compile()
    logs = model.test_on_batch(normalized, labels, return_dict=True)
    metric = evaluation.SegmentationMetrics(NUM_CLASSES, ignore_label=255)
    metric.update_state(labels, model(normalized, training=False))
    assert logs["miou"] == pytest.approx(float(metric.result()["mean_iou"]), rel=1e-5)
