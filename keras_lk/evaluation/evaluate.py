"""`evaluate_segmentation`: a model's scores on a dataset split, as the papers report them.

One function behind `keras-lk evaluate` and the recipes: mean IoU, per-class IoU, pixel
and mean class accuracy, and GCN Table 5's boundary / internal accuracy, accumulated in
one confusion matrix over the whole split (the PASCAL VOC and Cityscapes protocol, not a
mean of per-image scores). The test-time protocol is an argument: single scale (default),
multi-scale + flip and sliding window through `predict_multiscale`, and dense CRF.
"""

from __future__ import annotations

import numpy as np

from keras_lk.evaluation.boundary import BoundaryInternalAccuracy
from keras_lk.evaluation.confusion import confusion_matrix, scores_from_confusion


def evaluate_segmentation(model, examples, *, scales=(1.0,), flip=False, tile=None,
                          overlap=1 / 3, crf=None, boundary_distance=7,
                          batch_size=8):
    """Scores of a keras_lk segmentation model on a split.

    Args:
        model: a `keras_lk.models.SegmentationModel` (its classes, ignore label and input
            normalization are used).
        examples: a `tf.data.Dataset` of ``{"image", "segmentation_mask"}`` examples of
            any size (what `keras_lk.data.DATASETS[name].load(split)` returns).
        scales, flip, tile, overlap: the test-time protocol of
            `keras_lk.evaluation.predict_multiscale`; the defaults are one forward pass.
        crf: None, or a dict of `keras_lk.evaluation.dense_crf` keyword arguments
            applied to the probabilities with the un-normalized image.
        boundary_distance: pixels within this distance of a label change are the
            "boundary" region of GCN Table 5 (7 on VOC).
        batch_size: consecutive images of one size predicted together (scores do not
            depend on it).

    Returns:
        A dict: ``miou``, ``per_class_iou`` (None for a class absent from labels and
        predictions), ``pixel_accuracy``, ``mean_class_accuracy``,
        ``boundary_accuracy``, ``internal_accuracy``, ``num_images``.

    Raises:
        ValueError: when the split has no labelled pixel (no image, or only ignore
            labels), instead of reporting NaN scores.
    """
    from keras_lk import data

    num_classes = model.num_classes
    matrix = np.zeros((num_classes, num_classes), np.int64)
    regions = BoundaryInternalAccuracy(distance=boundary_distance,
                                       ignore_label=model.ignore_label)
    num_images = 0

    def predict(images):
        return predict_labels(model, images, scales=scales, flip=flip, tile=tile,
                              overlap=overlap, crf=crf)

    def score(images, labels):
        predictions = predict(np.stack(images))
        for label, prediction in zip(labels, predictions):
            matrix[...] += confusion_matrix(label, prediction, num_classes,
                                            ignore_label=model.ignore_label)
            regions.update(label, prediction)

    # Consecutive images of one size share a forward pass.
    images, labels = [], []
    for example in examples.as_numpy_iterator():
        image, mask = example["image"], example["segmentation_mask"]
        name = example.get("file_name", b"?")
        data.validate_example(image, mask, num_classes, model.ignore_label,
                              name=name.decode() if isinstance(name, bytes) else str(name))
        if images and (image.shape != images[0].shape or len(images) == batch_size):
            score(images, labels)
            images, labels = [], []
        images.append(image)
        labels.append(mask[..., 0])
        num_images += 1
    if images:
        score(images, labels)
    if not matrix.sum():
        raise ValueError(f"the split has no labelled pixel to evaluate ({num_images} images, "
                         "none with a label other than the ignore label).")
    scores = scores_from_confusion(matrix)
    return {
        "miou": float(scores["mean_iou"]),
        "per_class_iou": [None if np.isnan(v) else float(v) for v in scores["iou"]],
        "pixel_accuracy": float(scores["pixel_accuracy"]),
        "mean_class_accuracy": float(scores["mean_class_accuracy"]),
        **{key: float(value) for key, value in regions.result().items()},
        "num_images": num_images,
    }


def predict_labels(model, images, *, scales=(1.0,), flip=False, tile=None, overlap=1 / 3,
                   crf=None):
    """Label maps of a batch of same-size images under a test-time protocol.

    Args:
        model: a `keras_lk.models.SegmentationModel`.
        images: uint8 (or float 0..255, not normalized) N×H×W×3 images of one size.
        scales, flip, tile, overlap, crf: as in `evaluate_segmentation`.

    Returns:
        int N×H×W class indices.
    """
    from keras_lk import data

    images = np.asarray(images)
    if tuple(scales) == (1.0,) and not flip and tile is None and crf is None:
        inputs = np.asarray(data.normalize_image(images.astype("float32"), model.normalization))
        # The compiled predict function (traced once per input shape), not an eager call:
        # a small model's eager forward pass is mostly Python dispatch.
        return np.argmax(np.asarray(model.main_logits(model.predict_on_batch(inputs))), -1)
    return np.argmax(predict_probabilities(model, images, scales=scales, flip=flip, tile=tile,
                                           overlap=overlap, crf=crf), axis=-1)


def predict_probabilities(model, images, *, scales=(1.0,), flip=False, tile=None,
                          overlap=1 / 3, crf=None):
    """Class probabilities N×H×W×C (float32) of a batch of same-size images under a
    test-time protocol (see `predict_labels`); with `crf`, the CRF's marginals."""
    from keras_lk import data
    from keras_lk.evaluation.crf import dense_crf
    from keras_lk.evaluation.tta import predict_multiscale

    images = np.asarray(images)
    inputs = np.asarray(data.normalize_image(images.astype("float32"), model.normalization))
    probabilities = predict_multiscale(model, inputs, scales=scales, flip=flip, tile=tile,
                                       overlap=overlap)
    if crf is not None:
        probabilities = np.stack([dense_crf(image.astype(np.uint8), p, **crf)
                                  for image, p in zip(images, probabilities)])
    return probabilities
