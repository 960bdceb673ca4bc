"""Cityscapes with the 19 training classes (trainIds), read from the official zips.

Configs:
- `fine`: `train` (2,975) and `val` (500) from `leftImg8bit_trainvaltest.zip` and
  `gtFine_trainvaltest.zip`.
- `coarse`: `train_extra` (19,998) from `leftImg8bit_trainextra.zip` and `gtCoarse.zip`.

The zips hold `*_labelIds.png` (raw ids 0..33); labels are mapped to the 19 trainIds
(everything else → 255) while preparing, so stored masks are ready for training. The
images are stored as the original PNG bytes (no re-encoding); members are read straight
from the zips (no 11 GB extraction).

`labelids_to_trainids` also serves the TFDS `cityscapes` builder, whose labels are raw
labelIds: see `from_tfds_cityscapes`.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from keras_lk.data.builders._archives import (
    ArchiveBuilder,
    load_image,
    require_archive,
    segmentation_info,
)
from keras_lk.data.builders._loader import tfds_loader
from keras_lk.data.dataset_info import DatasetInfo
from keras_lk.data.palettes import CITYSCAPES_COLORS
from keras_lk.data.validation import validate_mask

URL = "https://www.cityscapes-dataset.com/downloads/ (login required)"
NUM_CLASSES = 19
IGNORE_LABEL = 255
TRAIN_CLASSES = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
    "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
    "bus", "train", "motorcycle", "bicycle",
)  # fmt: skip
LABEL_ID_TO_TRAIN_ID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11,
    25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}  # fmt: skip


def _lookup_table() -> np.ndarray:
    table = np.full(256, IGNORE_LABEL, dtype=np.uint8)
    for label_id, train_id in LABEL_ID_TO_TRAIN_ID.items():
        table[label_id] = train_id
    return table


def labelids_to_trainids(mask):
    """Maps Cityscapes labelIds (0..33) to the 19 trainIds; every other id → 255.

    Args:
        mask: integer NumPy array or TF tensor of labelIds, values in [0, 255].

    Returns:
        uint8 array / tensor of the same shape with values in 0..18 or 255.

    Example:
    >>> labelids_to_trainids(np.array([7, 26, 0, 33], np.uint8))
    array([  0,  13, 255,  18], dtype=uint8)
    """
    table = _lookup_table()
    if isinstance(mask, np.ndarray):
        if mask.size and (mask.min() < 0 or mask.max() > 255):
            raise ValueError(
                f"Cityscapes labelIds must be in [0, 255], received [{mask.min()}, {mask.max()}]."
            )
        return table[mask.astype(np.int64)]
    import tensorflow as tf

    return tf.gather(tf.constant(table), tf.cast(mask, tf.int32))


def from_tfds_cityscapes(dataset):
    """Maps examples of TFDS's own `cityscapes` builder to keras_lk examples.

    Args:
        dataset: `tf.data.Dataset` from `tfds.load("cityscapes/semantic_segmentation")`
            (keys `image_id`, `image_left`, `segmentation_label` with labelIds).

    Returns:
        Dataset of `{"image", "segmentation_mask" (trainIds, uint8), "file_name"}`.
    """
    import tensorflow as tf

    return dataset.map(
        lambda ex: {
            "image": ex["image_left"],
            "segmentation_mask": labelids_to_trainids(ex["segmentation_label"]),
            "file_name": ex["image_id"],
        },
        num_parallel_calls=tf.data.AUTOTUNE,
    )


_IMAGE_NAME = re.compile(r"^leftImg8bit/([^/]+)/([^/]+)/([^/]+)_leftImg8bit\.png$")  # bad-honnef


class CityscapesTrainIdsConfig(tfds.core.BuilderConfig):
    """Which zips, annotation kind and splits a config reads."""

    def __init__(self, *, image_zip, label_zip, annotation, splits, **kwargs):
        super().__init__(version=tfds.core.Version("1.0.0"), **kwargs)
        self.image_zip = image_zip
        self.label_zip = label_zip
        self.annotation = annotation
        self.splits = splits


class CityscapesTrainIds(ArchiveBuilder):
    """Cityscapes semantic segmentation with trainId labels (`cityscapes_train_ids`)."""

    BUILDER_CONFIGS: ClassVar[list] = [
        CityscapesTrainIdsConfig(
            name="fine",
            description="Fine annotations, train and val.",
            image_zip="leftImg8bit_trainvaltest.zip",
            label_zip="gtFine_trainvaltest.zip",
            annotation="gtFine",
            splits=("train", "val"),
        ),
        CityscapesTrainIdsConfig(
            name="coarse",
            description="Coarse annotations of the 19,998 extra training images.",
            image_zip="leftImg8bit_trainextra.zip",
            label_zip="gtCoarse.zip",
            annotation="gtCoarse",
            splits=("train_extra",),
        ),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
    Place the official zips, unmodified, in the manual directory ({URL}):
      fine:   leftImg8bit_trainvaltest.zip, gtFine_trainvaltest.zip
      coarse: leftImg8bit_trainextra.zip, gtCoarse.zip
    """
    EXPECTED_SPLIT_SIZES: ClassVar[dict] = {"train": 2975, "val": 500, "train_extra": 19998}

    def _info(self) -> tfds.core.DatasetInfo:
        return segmentation_info(self, __doc__, "png", "https://www.cityscapes-dataset.com/")

    def _split_generators(self, dl_manager):
        config = self.builder_config
        image_zip = require_archive(dl_manager.manual_dir, config.image_zip, "zip", URL)
        label_zip = require_archive(dl_manager.manual_dir, config.label_zip, "zip", URL)
        with zipfile.ZipFile(image_zip) as archive:
            names = archive.namelist()
        with zipfile.ZipFile(label_zip) as archive:
            label_names = set(archive.namelist())
        items = {split: [] for split in config.splits}
        for name in sorted(names):
            match = _IMAGE_NAME.match(name)
            if not match or match.group(1) not in items:
                continue
            split, city, stem = match.groups()
            label = f"{config.annotation}/{split}/{city}/{stem}_{config.annotation}_labelIds.png"
            if label not in label_names:
                raise ValueError(
                    f"Example {stem!r}: no {label} in {config.label_zip}; the zip is incomplete."
                )
            items[split].append((stem, name, label))
        self.check_split_sizes(
            {split: len(v) for split, v in items.items()},
            {split: self.EXPECTED_SPLIT_SIZES[split] for split in config.splits},
            f"{config.image_zip}, {config.label_zip}",
        )
        return {
            split: self._generate_examples(image_zip, label_zip, split_items)
            for split, split_items in items.items()
        }

    def _generate_examples(self, image_zip, label_zip, items):
        from PIL import Image

        with zipfile.ZipFile(image_zip) as images, zipfile.ZipFile(label_zip) as labels:
            for stem, image_name, label_name in items:
                image_bytes = images.read(image_name)
                with load_image(io.BytesIO(image_bytes), name=image_name) as image:
                    if image.mode != "RGB":
                        raise ValueError(
                            f"Example {stem!r}: {image_name} must be an RGB PNG, received "
                            f"mode {image.mode!r}."
                        )
                    size = image.size[::-1]
                with Image.open(io.BytesIO(labels.read(label_name))) as label:
                    mask = labelids_to_trainids(np.array(label, dtype=np.uint8))[..., None]
                validate_mask(mask, NUM_CLASSES, IGNORE_LABEL, name=stem, image_size=size)
                yield (
                    stem,
                    {
                        "image": io.BytesIO(image_bytes),
                        "segmentation_mask": mask,
                        "file_name": image_name.rsplit("/", 1)[-1],
                    },
                )


def _dataset(config, train_split, description):
    splits = tuple(CityscapesTrainIds.builder_configs[config].splits)
    loader = tfds_loader(CityscapesTrainIds, config)
    if "val" not in splits:  # coarse has no val: its val is fine's (the 500 val images)
        splits += ("val",)
        loader = _with_fine_val(loader)
    return DatasetInfo(
        name=f"cityscapes_train_ids/{config}",
        num_classes=NUM_CLASSES,
        class_names=TRAIN_CLASSES,
        splits=splits,
        train_split=train_split,
        eval_split="val",
        loader=loader,
        ignore_label=IGNORE_LABEL,
        palette=CITYSCAPES_COLORS,
        description=description,
    )


def _with_fine_val(loader):
    fine = tfds_loader(CityscapesTrainIds, "fine")

    def load(split, **kwargs):
        return (fine if split == "val" else loader)(split, **kwargs)

    return load


FINE = _dataset("fine", "train", "Cityscapes fine, 19 trainIds (train 2,975, val 500), TFDS")
COARSE = _dataset("coarse", "train_extra",
                  "Cityscapes coarse, 19 trainIds (train_extra 19,998; val: fine's 500), TFDS")
DATASETS = (FINE, COARSE)
