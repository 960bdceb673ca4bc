"""tf.data training and evaluation pipelines for semantic segmentation.

Both take a dataset of examples `{"image": uint8 H×W×3, "segmentation_mask": integer
H×W×1, "file_name": string (optional)}` (the TFDS builders of `keras_lk.data` and the
built-in scenes yield these) and return `(images, masks)` batches for `model.fit` /
`model.evaluate`: images float32 normalised for the backbone, masks int32 with the
ignore label kept.

Training (GCN, GALD, FCRN recipes): random scale in `scale_range` → normalise → pad to
the crop size (images with 0, i.e. the mean pixel after normalisation; masks with the
ignore label) → random crop → random horizontal flip (`keras.layers.RandomFlip`, which
flips `{"images", "segmentation_masks"}` together). Evaluation: normalise only, full
size; batches of different sizes are padded the same way.
"""

from __future__ import annotations

import numpy as np

from keras_lk.data.validation import (
    IMAGE_KEY,
    MASK_KEY,
    check_element_spec,
    check_example,
)
from keras_lk.layers.preprocessing import NORMALIZATIONS
from keras_lk.layers.preprocessing import normalize_image as normalize_float_image


def normalize_image(image, normalization: str = "caffe"):
    """Normalises RGB images for a backbone (`keras_lk.layers.normalize_image`), in
    float32.

    Args:
        image: uint8 or float RGB tensor (…×H×W×3), values in [0, 255].
        normalization: one of `NORMALIZATIONS` (see `keras_lk.layers.normalize_image`).

    Returns:
        float32 tensor of the same shape.
    """
    import tensorflow as tf

    return normalize_float_image(tf.cast(image, tf.float32), normalization)


def _pair(value, name):
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    if len(value) != 2 or min(value) < 1:
        raise ValueError(f"`{name}` must be a positive int or (height, width), received {value!r}.")
    return tuple(int(v) for v in value)


def random_scale(image, mask, scale_range, seed):
    """Resizes image (bilinear) and mask (nearest) by one random factor.

    Args:
        image: float32 H×W×3.
        mask: integer H×W×1.
        scale_range: `(min, max)` factor, drawn uniformly.
        seed: stateless seed, int32/int64 tensor of shape [2].

    Returns:
        `(image, mask)` of size `round(H·s)×round(W·s)`; the mask keeps its dtype and values.
    """
    import tensorflow as tf

    scale = tf.random.stateless_uniform([], seed, scale_range[0], scale_range[1])
    size = tf.cast(tf.round(tf.cast(tf.shape(image)[:2], tf.float32) * scale), tf.int32)
    size = tf.maximum(size, 1)
    image = tf.image.resize(image, size, method="bilinear")
    mask = tf.image.resize(mask, size, method="nearest")
    return image, mask


def pad_to_size(image, mask, size, ignore_label: int = 255, image_value: float = 0.0):
    """Pads bottom/right to at least `size`: images with `image_value`, masks with the ignore label.

    Args:
        image: H×W×3 tensor (normalised, so that 0 is the mean pixel).
        mask: integer H×W×1 tensor.
        size: `(height, width)` minimum size.
        ignore_label: padding value of the mask, excluded from the loss.
        image_value: padding value of the image.

    Returns:
        `(image, mask)` of size `max(H, height)×max(W, width)`.
    """
    import tensorflow as tf

    shape = tf.shape(image)
    pad_h = tf.maximum(size[0] - shape[0], 0)
    pad_w = tf.maximum(size[1] - shape[1], 0)
    paddings = [[0, pad_h], [0, pad_w], [0, 0]]
    image = tf.pad(image, paddings, constant_values=image_value)
    mask = tf.pad(mask, paddings, constant_values=tf.cast(ignore_label, mask.dtype))
    return image, mask


def random_crop(image, mask, size, seed):
    """Crops image and mask at the same random offset.

    Args:
        image: H×W×C tensor with H ≥ size[0], W ≥ size[1].
        mask: H×W×1 tensor.
        size: `(height, width)`.
        seed: stateless seed tensor of shape [2].

    Returns:
        `(image, mask)` of static size `height×width`.
    """
    import tensorflow as tf

    shape = tf.shape(image)
    limit = tf.stack([shape[0] - size[0] + 1, shape[1] - size[1] + 1])
    offset = tf.random.stateless_uniform([2], seed, 0, tf.int32.max, dtype=tf.int32) % limit
    image = tf.slice(image, [offset[0], offset[1], 0], [size[0], size[1], -1])
    mask = tf.slice(mask, [offset[0], offset[1], 0], [size[0], size[1], -1])
    image.set_shape([size[0], size[1], 3])
    mask.set_shape([size[0], size[1], 1])
    return image, mask


def _shard_and_batch_size(dataset, batch_size, input_context):
    if input_context is None:
        return dataset, batch_size
    dataset = dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    return dataset, input_context.get_per_replica_batch_size(batch_size)


def train_pipeline(
    dataset,
    *,
    crop_size,
    batch_size: int,
    num_classes: int,
    ignore_label: int = 255,
    scale_range=(0.5, 2.0),
    flip: bool = True,
    normalization: str = "caffe",
    shuffle_buffer: int = 1000,
    repeat: bool = True,
    seed: int | None = None,
    validate: bool = True,
    input_context=None,
):
    """Training pipeline: validate, random scale, normalise, pad, random crop, flip, batch.

    Args:
        dataset: `tf.data.Dataset` of examples (see module docstring).
        crop_size: int or `(height, width)` of the training crops, e.g. 512 (VOC),
            640 (GCN stage 1), 769 / 800 (Cityscapes).
        batch_size: global batch size; with `input_context`, the per-replica batch is
            `input_context.get_per_replica_batch_size(batch_size)`.
        num_classes: number of classes (labels `0..num_classes-1`).
        ignore_label: void label, used to pad masks; excluded from losses/metrics.
        scale_range: `(min, max)` random scale factor, or `None` for no scaling.
        flip: random horizontal flip.
        normalization: see `normalize_image`.
        shuffle_buffer: shuffle buffer size; 0 disables shuffling.
        repeat: repeat forever (use `steps_per_epoch` in `fit`).
        seed: makes shuffling and augmentation deterministic.
        validate: run `check_example` on every example.
        input_context: a `tf.distribute.InputContext`: the dataset is sharded per input
            pipeline before shuffling (see `distribute_dataset`).

    Returns:
        `tf.data.Dataset` of `(images float32 B×h×w×3, masks int32 B×h×w×1)` with static
        shapes and a fixed batch size (`drop_remainder=True`), prefetched.

    Example:
    >>> scenes = keras_lk.data.large_object_scenes("train", num_images=32)
    >>> ds = keras_lk.data.train_pipeline(scenes, crop_size=96, batch_size=8, num_classes=6)
    """
    import keras
    import tensorflow as tf

    crop = _pair(crop_size, "crop_size")
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be ≥ 1, received {batch_size!r}.")
    if scale_range is not None and not 0 < scale_range[0] <= scale_range[1]:
        raise ValueError(
            f"`scale_range` must be (min, max) with 0 < min ≤ max, received {scale_range!r}."
        )
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"`normalization` must be one of {NORMALIZATIONS}, received {normalization!r}."
        )
    check_element_spec(dataset.element_spec, "train_pipeline input")
    dataset, batch_size = _shard_and_batch_size(dataset, batch_size, input_context)
    autotune = tf.data.AUTOTUNE
    if validate:
        dataset = dataset.map(
            lambda example: check_example(example, num_classes, ignore_label),
            num_parallel_calls=autotune,
        )
    if shuffle_buffer:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    # One stateless seed per example: deterministic for a given `seed` even with a
    # parallel map.
    seeds = tf.data.Dataset.random(seed=seed).batch(2, drop_remainder=True)
    dataset = tf.data.Dataset.zip(dataset, seeds)

    def augment(example, pair_seed):
        image, mask = example[IMAGE_KEY], tf.cast(example[MASK_KEY], tf.int32)
        scale_seed, crop_seed = tf.unstack(
            tf.random.experimental.stateless_split(tf.cast(pair_seed, tf.int64), 2)
        )
        image = tf.cast(image, tf.float32)
        if scale_range is not None:
            image, mask = random_scale(image, mask, scale_range, scale_seed)
        image = normalize_image(image, normalization)
        image, mask = pad_to_size(image, mask, crop, ignore_label)
        image, mask = random_crop(image, mask, crop, crop_seed)
        return image, mask

    dataset = dataset.map(augment, num_parallel_calls=autotune, deterministic=seed is not None)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if flip:
        flipper = keras.layers.RandomFlip("horizontal", seed=seed)

        def random_flip(images, masks):
            # RandomFlip flips each image and its mask together; masks come back as
            # floats holding exact integers.
            out = flipper({"images": images, "segmentation_masks": masks})
            return out["images"], tf.cast(out["segmentation_masks"], tf.int32)

        # Sequential map: RandomFlip draws from a stateful SeedGenerator, which a parallel
        # map would consume in a nondeterministic order. A batched flip is cheap.
        dataset = dataset.map(random_flip)
    return dataset.prefetch(autotune)


def eval_pipeline(
    dataset,
    *,
    batch_size: int = 1,
    num_classes: int,
    ignore_label: int = 255,
    normalization: str = "caffe",
    pad_to=None,
    validate: bool = True,
    input_context=None,
):
    """Evaluation pipeline: validate, normalise, batch at full size (no augmentation).

    Args:
        dataset: `tf.data.Dataset` of examples.
        batch_size: global batch size; images of different sizes in a batch are padded
            bottom/right (images 0, masks `ignore_label`), so metrics that skip the
            ignore label are unaffected. Batch size 1 keeps every image at its size.
        num_classes: number of classes.
        ignore_label: void label.
        normalization: see `normalize_image`.
        pad_to: optional `(height, width)` to pad every image to (e.g. 512 for VOC);
            larger images are kept whole.
        validate: run `check_example` on every example.
        input_context: optional `tf.distribute.InputContext` (sharding, per-replica batch).

    Returns:
        `tf.data.Dataset` of `(images float32 B×H×W×3, masks int32 B×H×W×1)`, each
        example exactly once, in order.

    Example:
    >>> scenes = keras_lk.data.large_object_scenes("val", num_images=8)
    >>> ds = keras_lk.data.eval_pipeline(scenes, batch_size=4, num_classes=6)
    """
    import tensorflow as tf

    if batch_size < 1:
        raise ValueError(f"`batch_size` must be ≥ 1, received {batch_size!r}.")
    pad = None if pad_to is None else _pair(pad_to, "pad_to")
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"`normalization` must be one of {NORMALIZATIONS}, received {normalization!r}."
        )
    check_element_spec(dataset.element_spec, "eval_pipeline input")
    dataset, batch_size = _shard_and_batch_size(dataset, batch_size, input_context)

    def prepare(example):
        if validate:
            example = check_example(example, num_classes, ignore_label)
        image = normalize_image(example[IMAGE_KEY], normalization)
        mask = tf.cast(example[MASK_KEY], tf.int32)
        if pad is not None:
            image, mask = pad_to_size(image, mask, pad, ignore_label)
        return image, mask

    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.padded_batch(
        batch_size,
        padded_shapes=([None, None, 3], [None, None, 1]),
        padding_values=(0.0, ignore_label),
    )
    return dataset.prefetch(tf.data.AUTOTUNE)


def distribute_dataset(strategy, dataset_fn, global_batch_size: int):
    """Builds one input pipeline per worker and distributes its batches to the replicas.

    Args:
        strategy: a `tf.distribute.Strategy`.
        dataset_fn: `fn(input_context, global_batch_size) -> tf.data.Dataset`, typically
            `lambda ctx, b: train_pipeline(raw, batch_size=b, input_context=ctx, ...)`;
            the pipelines shard the raw examples per input pipeline and batch per replica.
        global_batch_size: batch size summed over replicas; must be divisible by the
            number of replicas.

    Returns:
        A `tf.distribute.DistributedDataset` for `model.fit` / custom loops.

    Example:
    >>> strategy = tf.distribute.MirroredStrategy()
    >>> ds = keras_lk.data.distribute_dataset(
    ...     strategy,
    ...     lambda ctx, b: keras_lk.data.train_pipeline(
    ...         scenes, crop_size=96, batch_size=b, num_classes=6, input_context=ctx),
    ...     global_batch_size=16)
    """
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(
            f"`global_batch_size` must be divisible by the {replicas} replicas, received "
            f"{global_batch_size}."
        )
    return strategy.distribute_datasets_from_function(
        lambda context: dataset_fn(context, global_batch_size),
        options=tf.distribute.InputOptions(experimental_fetch_to_device=True),
    )
