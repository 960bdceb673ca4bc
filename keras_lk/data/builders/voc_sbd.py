"""PASCAL VOC 2012 segmentation + SBD ("train_aug"), read from the official archives.

Splits: `train` (1,464 VOC images), `val` (1,449) and `train_aug` (10,582 = VOC train ∪
SBD train ∪ SBD val − VOC val). `train_aug` takes the VOC PNG label for VOC-train ids and
the SBD `.mat` label for the others; no VOC-val id ever enters it.

Labels are palette indices (0..20, 255 void) decoded with PIL, stored as uint8 H×W×1.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from keras_lk.data.builders._archives import (
    ArchiveBuilder,
    extract_tar,
    load_image,
    read_ids,
    require_archive,
    segmentation_info,
)
from keras_lk.data.builders._loader import tfds_loader
from keras_lk.data.dataset_info import DatasetInfo
from keras_lk.data.palettes import voc_colors
from keras_lk.data.validation import validate_example

VOC_ARCHIVE = "VOCtrainval_11-May-2012.tar"
SBD_ARCHIVE = "benchmark.tgz"
VOC_URL = "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar"
SBD_URL = (
    "http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/semantic_contours/"
    "benchmark.tgz"
)
VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip
NUM_CLASSES = 21
IGNORE_LABEL = 255


def read_palette_png(path) -> np.ndarray:
    """Reads a VOC label PNG as palette indices, uint8 H×W×1.

    `tf.image.decode_png` would expand the palette to colours; PIL keeps the indices.
    """
    from PIL import Image

    with Image.open(path) as image:
        if image.mode not in ("P", "L"):
            raise ValueError(
                f"Label {path} must be a palette ('P') or grey ('L') PNG of class indices, "
                f"received mode {image.mode!r}."
            )
        return np.array(image, dtype=np.uint8)[..., None]


def read_sbd_mat(path) -> np.ndarray:
    """Reads an SBD `cls/*.mat` class segmentation, uint8 H×W×1."""
    import scipy.io

    try:
        content = scipy.io.loadmat(str(path))
        mask = content["GTcls"][0]["Segmentation"][0]
    except Exception as error:  # a broken .mat raises many types; name the file
        raise ValueError(f"Cannot read SBD label {path}: {error}") from error
    return np.asarray(mask, dtype=np.uint8)[..., None]


def read_rgb(path) -> np.ndarray:
    """Reads an image as RGB uint8 H×W×3; a corrupt or truncated file names itself."""
    with load_image(path, name=str(path)) as image:
        return np.array(image.convert("RGB"))


class VocSbd(ArchiveBuilder):
    """PASCAL VOC 2012 segmentation with the SBD augmented training set (`voc_sbd`)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict] = {
        "1.0.0": "train, val and train_aug from the official archives."
    }
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
    Place the two official archives, unmodified, in the manual directory:
      {VOC_ARCHIVE}  from {VOC_URL}
      {SBD_ARCHIVE}  from {SBD_URL}
    """
    EXPECTED_SPLIT_SIZES: ClassVar[dict] = {"train": 1464, "val": 1449, "train_aug": 10582}

    def _info(self) -> tfds.core.DatasetInfo:
        return segmentation_info(self, __doc__, "jpeg", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/")

    def _split_generators(self, dl_manager):
        voc_archive = require_archive(dl_manager.manual_dir, VOC_ARCHIVE, "tar", VOC_URL)
        sbd_archive = require_archive(dl_manager.manual_dir, SBD_ARCHIVE, "tar", SBD_URL)
        voc = extract_tar(dl_manager, voc_archive) / "VOCdevkit" / "VOC2012"
        sbd = extract_tar(dl_manager, sbd_archive) / "benchmark_RELEASE" / "dataset"
        sets = voc / "ImageSets" / "Segmentation"
        voc_train = read_ids(sets / "train.txt", "VOC train")
        voc_val = read_ids(sets / "val.txt", "VOC val")
        sbd_train = read_ids(sbd / "train.txt", "SBD train")
        sbd_val = read_ids(sbd / "val.txt", "SBD val")

        def voc_item(image_id):
            return (
                image_id,
                voc / "JPEGImages" / f"{image_id}.jpg",
                voc / "SegmentationClass" / f"{image_id}.png",
            )

        def sbd_item(image_id):
            return image_id, sbd / "img" / f"{image_id}.jpg", sbd / "cls" / f"{image_id}.mat"

        excluded = set(voc_val)
        in_voc_train = set(voc_train)
        aug_ids = sorted((set(voc_train) | set(sbd_train) | set(sbd_val)) - excluded)
        items = {
            "train": [voc_item(i) for i in voc_train],
            "val": [voc_item(i) for i in voc_val],
            "train_aug": [voc_item(i) if i in in_voc_train else sbd_item(i) for i in aug_ids],
        }
        self.check_split_sizes(
            {name: len(split) for name, split in items.items()},
            self.EXPECTED_SPLIT_SIZES,
            f"{VOC_ARCHIVE}, {SBD_ARCHIVE}",
        )
        return {name: self._generate_examples(split) for name, split in items.items()}

    def _generate_examples(self, items):
        for image_id, image_path, label_path in items:
            for path in (image_path, label_path):
                if not path.exists():
                    raise ValueError(f"Example {image_id!r}: missing file {path} in the archive.")
            if label_path.suffix == ".png":
                mask = read_palette_png(label_path)
            else:
                mask = read_sbd_mat(label_path)
            image = read_rgb(image_path)
            validate_example(image, mask, NUM_CLASSES, IGNORE_LABEL, name=str(image_path.name))
            yield (
                image_id,
                {
                    "image": image_path,
                    "segmentation_mask": mask,
                    "file_name": image_path.name,
                },
            )


DATASET = DatasetInfo(
    name="voc_sbd",
    num_classes=NUM_CLASSES,
    class_names=VOC_CLASSES,
    splits=tuple(VocSbd.EXPECTED_SPLIT_SIZES),
    train_split="train_aug",
    eval_split="val",
    loader=tfds_loader(VocSbd),
    ignore_label=IGNORE_LABEL,
    palette=voc_colors(NUM_CLASSES),
    description="PASCAL VOC 2012 + SBD (train_aug 10,582, val 1,449), TFDS from the archives",
)
