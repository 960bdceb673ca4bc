"""ImageNet pretraining of a backbone (GCN Table 6: ResNet50-GCN has no public weights).

`pretrain(config)` trains a registered backbone with a global-average-pool + 1000-way
classifier on ILSVRC-2012 through the TFDS ``imagenet2012`` builder (manual download:
``ILSVRC2012_img_train.tar`` and ``ILSVRC2012_img_val.tar`` in `manual_dir`), evaluates
top-1 / top-5 error as GCN Table 6 does (a 224² centre crop of the image resized to
256²), and writes ``backbone.weights.h5``: the file a segmentation run takes as
``backbone_weights`` (``keras-lk train --backbone-weights``).

The schedule defaults to He et al.'s ResNet recipe (batch 256, SGD momentum 0.9, lr 0.1
divided by 10 every 30 epochs, weight decay 1e-4, 90 epochs; scale + aspect-ratio
augmentation and flip). A run resumes after a kill from its backup, as `train` does
(same checks of the backup and of the configuration).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

from keras_lk.training.callbacks import (
    make_callbacks,
    save_model_atomically,
    trim_training_log,
    verify_backup,
    write_text_atomically,
)
from keras_lk.training.multi_worker import agree_on_backup
from keras_lk.training.precision import set_precision
from keras_lk.training.strategy import make_strategy

IMAGENET_ARCHIVES = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")
NUM_IMAGENET_CLASSES = 1000
BACKBONE_WEIGHTS = "backbone.weights.h5"


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """An ImageNet pretraining run.

    Args:
        output_dir: run directory: backbone.weights.h5, classifier.keras, metrics.json,
            backup/, training_log.csv, config.json.
        backbone: backbone of `keras_lk.backbones.BACKBONES` (e.g. ``"resnet50_gcn"``).
        data_dir: TFDS data directory.
        manual_dir: directory of the two ILSVRC-2012 tars (first use).
        num_train_images, num_eval_images: use only the first this many (None: all).
        image_size: training crop and evaluation centre crop (224).
        eval_resize: side the evaluation images are resized to before the crop (256).
        batch_size: global batch.
        steps, steps_per_epoch: training steps and steps between backups.
        learning_rate, momentum, l2: SGD (L2 on kernels only).
        step_size, step_gamma: the learning rate is multiplied by `step_gamma` every
            `step_size` steps.
        precision, strategy, num_cpu_devices: as in `TrainConfig`.
        seed: seed of the weights and the data order.
        tensorboard, verbose: as in `TrainConfig`.
    """

    output_dir: str = "runs/pretrain"
    backbone: str = "resnet50_gcn"
    data_dir: str | None = None
    manual_dir: str | None = None
    num_train_images: int | None = None
    num_eval_images: int | None = None
    image_size: int = 224
    eval_resize: int = 256
    batch_size: int = 256
    steps: int = 450_000
    steps_per_epoch: int = 5_000
    learning_rate: float = 0.1
    momentum: float = 0.9
    l2: float = 1e-4
    step_size: int = 150_000
    step_gamma: float = 0.1
    precision: str = "auto"
    strategy: str = "default"
    num_cpu_devices: int | None = None
    seed: int = 0
    tensorboard: bool = True
    verbose: int = 1

    IO_FIELDS = ("output_dir", "data_dir", "manual_dir", "tensorboard", "verbose")

    def __post_init__(self):
        from keras_lk.backbones import BACKBONES

        BACKBONES[self.backbone]  # a one-line error for an unknown name
        for field in ("image_size", "eval_resize", "batch_size", "steps", "steps_per_epoch",
                      "step_size"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{field}` must be an integer ≥ 1, received {value!r}.")
        if self.eval_resize < self.image_size:
            raise ValueError(f"`eval_resize` ({self.eval_resize}) must be ≥ `image_size` "
                             f"({self.image_size}).")
        if self.steps % self.steps_per_epoch:
            raise ValueError(f"`steps` ({self.steps}) must be a multiple of `steps_per_epoch` "
                             f"({self.steps_per_epoch}).")
        if not self.data_dir:
            raise ValueError("`data_dir` is required (the TFDS data directory).")

    def training_fields(self) -> dict:
        return {key: value for key, value in dataclasses.asdict(self).items()
                if key not in self.IO_FIELDS}

    def fingerprint(self) -> str:
        import hashlib

        text = json.dumps(self.training_fields(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def load_imagenet(split, data_dir, manual_dir=None, num_images=None, shuffle_files=False):
    """``{"image", "label"}`` examples of ILSVRC-2012 `split` (``"train"`` or
    ``"validation"``) through the TFDS ``imagenet2012`` builder."""
    import tensorflow_datasets as tfds

    builder = tfds.builder("imagenet2012", data_dir=str(data_dir))
    kwargs = {}
    if not builder.is_prepared():
        missing = [name for name in IMAGENET_ARCHIVES
                   if manual_dir is None or not os.path.isfile(os.path.join(manual_dir, name))]
        if missing:
            raise ValueError(
                f"imagenet2012 is not prepared in {data_dir!r} and --manual-dir "
                f"{manual_dir!r} lacks {', '.join(missing)}; register at "
                "https://image-net.org/download-images and place both tars there.")
        kwargs["download_and_prepare_kwargs"] = {
            "download_config": tfds.download.DownloadConfig(manual_dir=str(manual_dir))}
    dataset = tfds.load("imagenet2012", split=split, data_dir=str(data_dir),
                        shuffle_files=shuffle_files, **kwargs)
    return dataset if num_images is None else dataset.take(num_images)


def _random_crop(image, size, seed):
    """Inception-style crop: 8-100% of the area, aspect ratio 3/4-4/3, resized to size²."""
    import tensorflow as tf

    begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.shape(image), bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]), seed=seed,
        min_object_covered=0.0, aspect_ratio_range=(3 / 4, 4 / 3), area_range=(0.08, 1.0),
        max_attempts=10, use_image_if_no_bounding_boxes=True)
    crop = tf.slice(image, begin, extent)
    return tf.image.resize(crop, (size, size), method="bilinear")


def imagenet_train_pipeline(examples, config, normalization, skip_steps=0):
    """Seeded, repeated global batches of augmented, normalized crops and labels."""
    import tensorflow as tf

    from keras_lk.data import normalize_image

    def augment(index, example):
        seed = tf.stack([tf.cast(config.seed, tf.int64), index])
        image = _random_crop(example["image"], config.image_size, seed)
        image = tf.image.stateless_random_flip_left_right(image, seed + 1)
        return normalize_image(image, normalization), example["label"]

    dataset = examples.shuffle(10_000, seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.repeat().enumerate().map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(config.batch_size, drop_remainder=True)
    if skip_steps:
        dataset = dataset.skip(skip_steps)
    return dataset.prefetch(tf.data.AUTOTUNE)


def imagenet_eval_pipeline(examples, config, normalization, batch_size=64):
    """GCN Table 6's protocol: each image resized to eval_resize², its centre crop."""
    import tensorflow as tf

    from keras_lk.data import normalize_image

    offset = (config.eval_resize - config.image_size) // 2

    def centre(example):
        image = tf.image.resize(example["image"], (config.eval_resize, config.eval_resize))
        image = image[offset:offset + config.image_size, offset:offset + config.image_size]
        return normalize_image(image, normalization), example["label"]

    return examples.map(centre, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)


def build_classifier(config):
    """``(classifier, backbone)``: the backbone, global average pooling and a
    1000-way dense layer (``predictions``, float32 logits)."""
    import keras

    from keras_lk.backbones import BACKBONES

    backbone = BACKBONES[config.backbone].build(weights=None, input_shape=(None, None, 3))
    inputs = keras.Input((config.image_size, config.image_size, 3), name="image")
    features = keras.layers.GlobalAveragePooling2D(name="avg_pool")(backbone(inputs)["res5"])
    logits = keras.layers.Dense(NUM_IMAGENET_CLASSES, name="predictions",
                                dtype="float32")(features)
    return keras.Model(inputs, logits, name=f"{config.backbone}_imagenet"), backbone


def evaluate_classifier(classifier, dataset) -> dict:
    """Top-1 and top-5 error (%) over `dataset` of ``(image, label)`` batches."""
    import numpy as np

    top1 = top5 = count = 0
    for images, labels in dataset.as_numpy_iterator():
        logits = np.asarray(classifier(images, training=False))
        ranked = np.argsort(-logits, axis=-1)[:, :5]
        top1 += int(np.sum(ranked[:, 0] == labels))
        top5 += int(np.sum(np.any(ranked == labels[:, None], axis=-1)))
        count += len(labels)
    if not count:
        raise ValueError("the evaluation split has no image.")
    return {"top1_error": 100.0 * (1 - top1 / count), "top5_error": 100.0 * (1 - top5 / count),
            "num_images": count}


def pretrain(config: PretrainConfig, strategy=None) -> dict:
    """Trains, evaluates and saves the backbone; returns ``metrics.json``'s content
    (top-1 / top-5 error, the weights file)."""
    import keras

    from keras_lk.backbones import BACKBONES
    from keras_lk.training.optimizers import SegmentationSGD
    from keras_lk.training.schedules import StepDecay
    from keras_lk.training.trainer import seed_everything

    seed_everything(config.seed)
    set_precision(config.precision)
    if strategy is None:
        strategy = make_strategy(config.strategy, config.num_cpu_devices)
    os.makedirs(config.output_dir, exist_ok=True)
    backup_dir = os.path.join(config.output_dir, "backup")
    normalization = BACKBONES[config.backbone].normalization
    with strategy.scope():
        classifier, backbone = build_classifier(config)
        optimizer = SegmentationSGD(
            StepDecay(config.learning_rate, config.step_size, gamma=config.step_gamma),
            momentum=config.momentum, l2=config.l2)
        classifier.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5")])
    verify_backup(backup_dir, config.fingerprint(), config.training_fields())
    write_text_atomically(os.path.join(config.output_dir, "config.json"), config.to_json())
    initial_epoch = agree_on_backup(strategy, backup_dir)
    trim_training_log(config.output_dir, initial_epoch)
    train = imagenet_train_pipeline(
        load_imagenet("train", config.data_dir, config.manual_dir, config.num_train_images,
                      shuffle_files=True),
        config, normalization, skip_steps=initial_epoch * config.steps_per_epoch)
    classifier.fit(train, epochs=config.steps // config.steps_per_epoch,
                   steps_per_epoch=config.steps_per_epoch, initial_epoch=initial_epoch,
                   callbacks=make_callbacks(config.output_dir, tensorboard=config.tensorboard,
                                            fingerprint=config.fingerprint()),
                   verbose=config.verbose, shuffle=False)
    weights_path = os.path.join(config.output_dir, BACKBONE_WEIGHTS)
    backbone.save_weights(weights_path + ".partial.weights.h5")
    os.replace(weights_path + ".partial.weights.h5", weights_path)
    save_model_atomically(classifier, os.path.join(config.output_dir, "classifier.keras"))
    shutil.rmtree(backup_dir, ignore_errors=True)
    validation = imagenet_eval_pipeline(
        load_imagenet("validation", config.data_dir, config.manual_dir,
                      config.num_eval_images), config, normalization)
    metrics = {**evaluate_classifier(classifier, validation), "backbone_weights": weights_path,
               "steps": config.steps}
    write_text_atomically(os.path.join(config.output_dir, "metrics.json"),
                          json.dumps(metrics, indent=1) + "\n")
    keras.mixed_precision.set_global_policy("float32")
    return metrics
