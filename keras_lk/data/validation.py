"""Checks of every example that enters a pipeline or a builder.

A wrong label (a palette PNG decoded as RGB, a Cityscapes labelId left unmapped, a mask
resized with bilinear interpolation) does not crash training: it gives a NaN or a
silently wrong loss many steps later. These checks fail at the example instead, with
its name.

- `validate_example` (NumPy) raises `ValueError`; builders call it while preparing.
- `check_example` (TensorFlow, graph-safe) is mapped over `tf.data` pipelines. Static
  problems (dtype, rank, missing key) raise `ValueError` when the pipeline is built;
  per-example problems raise `tf.errors.InvalidArgumentError` while iterating, whose
  message holds the example's `file_name` and the offending values.
"""

from __future__ import annotations

import numpy as np

IMAGE_KEY = "image"
MASK_KEY = "segmentation_mask"
NAME_KEY = "file_name"


def validate_example(image, mask, num_classes: int, ignore_label: int = 255, name: str = "?"):
    """Validates one example held in NumPy arrays.

    Args:
        image: H×W×3 uint8 array.
        mask: H×W×1 (or H×W) integer array of class ids and `ignore_label`.
        num_classes: valid labels are `0..num_classes-1` and `ignore_label`.
        ignore_label: the void label.
        name: the example's file name or id, quoted in the error.

    Returns:
        `None`; raises `ValueError` naming the example if a check fails.

    Example:
    >>> keras_lk.data.validate_example(np.zeros((4, 4, 3), np.uint8),
    ...                                np.zeros((4, 4, 1), np.uint8), num_classes=21)
    """
    image, mask = np.asarray(image), np.asarray(mask)
    if image.dtype != np.uint8:
        raise ValueError(f"Example {name!r}: image dtype must be uint8, received {image.dtype}.")
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"Example {name!r}: image must be H×W×3, received shape {image.shape}.")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"Example {name!r}: image is empty, shape {image.shape}.")
    validate_mask(mask, num_classes, ignore_label, name, image_size=image.shape[:2])


def validate_mask(
    mask, num_classes: int, ignore_label: int = 255, name: str = "?", image_size=None
):
    """Validates a mask (and its size against `image_size`); see `validate_example`.

    Args:
        mask: H×W×1 (or H×W) integer array.
        num_classes: valid labels are `0..num_classes-1` and `ignore_label`.
        ignore_label: the void label.
        name: the example's file name or id, quoted in the error.
        image_size: optional `(height, width)` of the image the mask labels.

    Returns:
        `None`; raises `ValueError` naming the example if a check fails.
    """
    mask = np.asarray(mask)
    if not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(
            f"Example {name!r}: mask dtype must be an integer type, received {mask.dtype}."
        )
    if mask.ndim == 2:
        mask = mask[..., None]
    if mask.ndim != 3 or mask.shape[-1] != 1:
        raise ValueError(f"Example {name!r}: mask must be H×W×1, received shape {mask.shape}.")
    if mask.shape[0] == 0 or mask.shape[1] == 0:
        raise ValueError(f"Example {name!r}: mask is empty, shape {mask.shape}.")
    if image_size is not None and tuple(image_size) != mask.shape[:2]:
        raise ValueError(
            f"Example {name!r}: image size {tuple(image_size)} differs from mask size "
            f"{mask.shape[:2]}."
        )
    bad = (mask >= num_classes) & (mask != ignore_label) | (mask < 0)
    if np.any(bad):
        values = np.unique(mask[bad])[:10].tolist()
        raise ValueError(
            f"Example {name!r}: mask holds labels {values} outside [0, {num_classes}) ∪ "
            f"{{{ignore_label}}} ({int(bad.sum())} pixels)."
        )


def check_element_spec(element_spec, where: str = "dataset"):
    """Checks statically that a dataset yields `{"image", "segmentation_mask"}` examples.

    Args:
        element_spec: `dataset.element_spec`.
        where: a name for the dataset, quoted in the error.

    Returns:
        `None`; raises `ValueError` if a key is missing or a dtype / rank is wrong.
    """
    import tensorflow as tf

    if (
        not isinstance(element_spec, dict)
        or IMAGE_KEY not in element_spec
        or (MASK_KEY not in element_spec)
    ):
        raise ValueError(
            f"{where} must yield dicts with keys {IMAGE_KEY!r} and {MASK_KEY!r} (and "
            f"optionally {NAME_KEY!r}), received element_spec {element_spec}."
        )
    image, mask = element_spec[IMAGE_KEY], element_spec[MASK_KEY]
    if image.dtype != tf.uint8:
        raise ValueError(f"{where}: {IMAGE_KEY!r} must be uint8, received {image.dtype.name}.")
    if image.shape.rank != 3:
        raise ValueError(
            f"{where}: {IMAGE_KEY!r} must have rank 3 (H×W×3), received shape {image.shape}."
        )
    if image.shape[-1] is not None and image.shape[-1] != 3:
        raise ValueError(f"{where}: {IMAGE_KEY!r} must have 3 channels, received {image.shape}.")
    if not mask.dtype.is_integer:
        raise ValueError(
            f"{where}: {MASK_KEY!r} must have an integer dtype, received {mask.dtype.name}."
        )
    if mask.shape.rank != 3 or (mask.shape[-1] is not None and mask.shape[-1] != 1):
        raise ValueError(f"{where}: {MASK_KEY!r} must be H×W×1, received shape {mask.shape}.")


def check_example(example, num_classes: int, ignore_label: int = 255):
    """Graph-safe per-example checks; returns `example` with the checks as dependencies.

    Args:
        example: dict with `image` (uint8 H×W×3), `segmentation_mask` (integer H×W×1) and
            optionally `file_name`.
        num_classes: valid labels are `0..num_classes-1` and `ignore_label`.
        ignore_label: the void label.

    Returns:
        The same dict; iterating raises `tf.errors.InvalidArgumentError` naming the
        example if its image is empty, its sizes differ or a label is out of range.
    """
    import tensorflow as tf

    name = example.get(NAME_KEY, tf.constant("<no file_name>"))
    image, mask = example[IMAGE_KEY], example[MASK_KEY]
    image_size, mask_size = tf.shape(image)[:2], tf.shape(mask)[:2]
    labels = tf.cast(mask, tf.int32)
    bad = tf.logical_and(labels >= num_classes, labels != ignore_label) | (labels < 0)
    checks = [
        tf.debugging.Assert(
            tf.reduce_all(image_size > 0), ["Example", name, "has an empty image:", image_size]
        ),
        tf.debugging.Assert(
            tf.reduce_all(tf.equal(image_size, mask_size)),
            ["Example", name, "image size", image_size, "differs from mask size", mask_size],
        ),
        tf.debugging.Assert(
            tf.logical_not(tf.reduce_any(bad)),
            [
                "Example",
                name,
                f"has mask labels outside [0, {num_classes}) and {{{ignore_label}}}, e.g.",
                tf.boolean_mask(labels, bad)[:5],
            ],
        ),
    ]
    with tf.control_dependencies(checks):
        example = dict(example)
        example[IMAGE_KEY] = tf.identity(image)
        example[MASK_KEY] = tf.identity(mask)
    return example
