"""ADE20K SceneParsing (the MIT Scene Parsing Benchmark, 150 classes), read from the
official ``ADEChallengeData2016.zip``.

Splits: `train` (20,210 images) and `val` (2,000), from the zip's layout::

    ADEChallengeData2016/images/{training,validation}/ADE_{train,val}_NNNNNNNN.jpg
    ADEChallengeData2016/annotations/{training,validation}/ADE_{train,val}_NNNNNNNN.png
    ADEChallengeData2016/objectInfo150.txt, sceneCategories.txt

An annotation is a grey PNG of class indices: 0 is "other" (pixels of none of the 150
classes), 1..150 the classes of ``objectInfo150.txt``. Labels are stored as SegNeXt and
every mmsegmentation config trains on them (``reduce_zero_label=True``): 0 → 255
(ignored), k → k − 1, so the 150 classes are 0..149 (`reduce_zero_label`). Images are
stored as the original JPEG bytes (the few grey or CMYK ones converted to RGB); members
are read straight from the zip (no 1 GB extraction).

Why not TFDS's own `scene_parse150` (TFDS 4.9.10): it downloads the 2017 *instance*
challenge (``ChallengeData2017/images.tar`` and ``annotations_instance.tar``, whose PNGs
encode instances, not the 150 class indices), names the validation images "test", has
no manual directory for the official 2016 zip and applies no label reduction. The
papers' numbers are on ADEChallengeData2016's class annotations, which only a builder
of that zip reads.

The test images (3,352, ``release_test.zip``) have no public labels and are not read.
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
from keras_lk.data.palettes import ADE20K_COLORS
from keras_lk.data.validation import validate_mask

ARCHIVE = "ADEChallengeData2016.zip"
URL = "http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip"
ROOT = "ADEChallengeData2016"
NUM_CLASSES = 150
IGNORE_LABEL = 255
# The first name of each class of the official objectInfo150.txt, in its order (class k
# there is label k − 1 here), as mmsegmentation's ADE20KDataset lists them.
CLASS_NAMES = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane",
    "grass", "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant",
    "curtain", "chair", "car", "water", "painting", "sofa", "shelf", "house", "sea",
    "mirror", "rug", "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe",
    "lamp", "bathtub", "railing", "cushion", "base", "box", "column", "signboard",
    "chest of drawers", "counter", "sand", "sink", "skyscraper", "fireplace",
    "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table",
    "pillow", "screen door", "stairway", "river", "bridge", "bookcase", "blind",
    "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove",
    "palm", "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine",
    "hovel", "bus", "towel", "light", "truck", "tower", "chandelier", "awning",
    "streetlight", "booth", "television receiver", "airplane", "dirt track", "apparel",
    "pole", "land", "bannister", "escalator", "ottoman", "bottle", "buffet", "poster",
    "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer", "plaything",
    "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag", "minibike",
    "cradle", "oven", "ball", "food", "step", "tank", "trade name", "microwave", "pot",
    "animal", "bicycle", "lake", "dishwasher", "screen", "blanket", "sculpture", "hood",
    "sconce", "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen",
    "plate", "monitor", "bulletin board", "shower", "radiator", "glass", "clock", "flag",
)  # fmt: skip
# The zip's folder of each split.
SPLIT_FOLDERS = {"train": "training", "val": "validation"}


def reduce_zero_label(mask):
    """ADE20K's raw labels → training labels: 0 ("other") → 255, k → k − 1.

    mmsegmentation's ``reduce_zero_label=True`` (SegNeXt's configs): the 150 classes
    become 0..149 and the unlabelled pixels are ignored by the loss and the metrics.

    Args:
        mask: integer NumPy array of raw labels in 0..150.

    Returns:
        uint8 array of the same shape with values in 0..149 or 255.

    Example:
    >>> reduce_zero_label(np.array([0, 1, 150], np.uint8))
    array([255,   0, 149], dtype=uint8)
    """
    mask = np.asarray(mask)
    if mask.size and (mask.min() < 0 or mask.max() > NUM_CLASSES):
        raise ValueError(f"ADE20K labels must be in [0, {NUM_CLASSES}], received "
                         f"[{mask.min()}, {mask.max()}].")
    table = np.arange(-1, 255, dtype=np.int64).astype(np.uint8)  # k → k − 1, 0 → 255
    return table[mask.astype(np.int64)]


def _layout_error(what):
    return ValueError(
        f"{ARCHIVE}: {what}. Expected the official layout: {ROOT}/images/{{training,"
        f"validation}}/ADE_{{train,val}}_NNNNNNNN.jpg with the same names as .png under "
        f"{ROOT}/annotations/{{training,validation}}/ (download {URL})."
    )


class Ade20k(ArchiveBuilder):
    """ADE20K SceneParsing, 150 classes with ``reduce_zero_label`` (`ade20k`)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict] = {
        "1.0.0": "train and val from ADEChallengeData2016.zip, labels reduced (0 → 255)."
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
    Place the official zip, unmodified, in the manual directory:
      {ARCHIVE}  from {URL}
    """
    EXPECTED_SPLIT_SIZES: ClassVar[dict] = {"train": 20210, "val": 2000}

    def _info(self) -> tfds.core.DatasetInfo:
        return segmentation_info(self, __doc__, "jpeg", "http://sceneparsing.csail.mit.edu/")

    def _split_generators(self, dl_manager):
        archive = require_archive(dl_manager.manual_dir, ARCHIVE, "zip", URL)
        with zipfile.ZipFile(archive) as zipped:
            names = set(zipped.namelist())
        items = {}
        for split, folder in SPLIT_FOLDERS.items():
            pattern = re.compile(rf"^{ROOT}/images/{folder}/([^/]+)\.jpg$")
            stems = sorted(m.group(1) for m in map(pattern.match, names) if m)
            if not stems:
                raise _layout_error(f"no image of split {split!r} under "
                                    f"{ROOT}/images/{folder}/")
            items[split] = []
            for stem in stems:
                label = f"{ROOT}/annotations/{folder}/{stem}.png"
                if label not in names:
                    raise _layout_error(f"example {stem!r} has no annotation {label}")
                items[split].append((stem, f"{ROOT}/images/{folder}/{stem}.jpg", label))
        self.check_split_sizes({split: len(v) for split, v in items.items()},
                               self.EXPECTED_SPLIT_SIZES, ARCHIVE)
        return {split: self._generate_examples(archive, split_items)
                for split, split_items in items.items()}

    def _generate_examples(self, archive, items):
        from PIL import Image

        with zipfile.ZipFile(archive) as zipped:
            for stem, image_name, label_name in items:
                image_bytes = zipped.read(image_name)
                with load_image(io.BytesIO(image_bytes), name=image_name) as image:
                    size = image.size[::-1]
                    # A few official images are grey or CMYK JPEGs; the feature is RGB.
                    stored = (io.BytesIO(image_bytes) if image.mode == "RGB"
                              else np.array(image.convert("RGB")))
                with Image.open(io.BytesIO(zipped.read(label_name))) as label:
                    if label.mode not in ("L", "P"):
                        raise ValueError(f"Example {stem!r}: {label_name} must be a grey PNG "
                                         f"of class indices, received mode {label.mode!r}.")
                    raw = np.array(label, dtype=np.uint8)
                if raw.size and raw.max() > NUM_CLASSES:
                    raise ValueError(f"Example {stem!r}: {label_name} has label {raw.max()}; "
                                     f"ADE20K's are 0 (other) and 1..{NUM_CLASSES}.")
                mask = reduce_zero_label(raw)[..., None]
                validate_mask(mask, NUM_CLASSES, IGNORE_LABEL, name=stem, image_size=size)
                yield stem, {"image": stored, "segmentation_mask": mask,
                             "file_name": image_name.rsplit("/", 1)[-1]}


DATASET = DatasetInfo(
    name="ade20k",
    num_classes=NUM_CLASSES,
    class_names=CLASS_NAMES,
    splits=tuple(Ade20k.EXPECTED_SPLIT_SIZES),
    train_split="train",
    eval_split="val",
    loader=tfds_loader(Ade20k),
    ignore_label=IGNORE_LABEL,
    palette=ADE20K_COLORS,
    description="ADE20K SceneParsing, 150 classes, 0 ignored (train 20,210, val 2,000), "
                "TFDS from ADEChallengeData2016.zip",
)
