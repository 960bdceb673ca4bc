"""COCO 2017 restricted to the 20 PASCAL VOC classes (GCN training stage 1).

GCN (Peng et al., 2017, §4.1) pre-trains on COCO mapped to the VOC classes, then on SBD +
VOC. This builder reads the official `train2017.zip`, `val2017.zip` and
`annotations_trainval2017.zip` and, per image:

- keeps the annotations of the 20 VOC classes (`COCO_TO_VOC`); other objects become
  background;
- rasterises them with pycocotools; a pixel covered by two or more kept instances, or by
  a kept crowd region, is set to 255 (void);
- drops the image if fewer than `MIN_VOC_PIXELS` (1,000) pixels carry a VOC class.

Labels are uint8 H×W×1 (0..20, 255). GCN's stage 1 mixes this with `voc_sbd/train_aug`
(`keras_lk.data.mixtures`, dataset ``gcn_voc_stage1``).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from keras_lk._moved import moved_attributes
from keras_lk.data.builders._archives import (
    ArchiveBuilder,
    load_image,
    require_archive,
    segmentation_info,
)
from keras_lk.data.builders._loader import tfds_loader
from keras_lk.data.builders.voc_sbd import VOC_CLASSES
from keras_lk.data.dataset_info import DatasetInfo
from keras_lk.data.palettes import voc_colors
from keras_lk.data.validation import validate_mask

URL = "https://cocodataset.org/#download"
ANNOTATIONS_ZIP = "annotations_trainval2017.zip"
IMAGE_ZIPS = {"train": "train2017.zip", "val": "val2017.zip"}
NUM_CLASSES = 21
IGNORE_LABEL = 255
MIN_VOC_PIXELS = 1000
# VOC index → COCO category id, in VOC order (aeroplane … tvmonitor).
VOC_TO_COCO = {
    1: 5, 2: 2, 3: 16, 4: 9, 5: 44, 6: 6, 7: 3, 8: 17, 9: 62, 10: 21, 11: 67, 12: 18,
    13: 19, 14: 4, 15: 1, 16: 64, 17: 20, 18: 63, 19: 7, 20: 72,
}  # fmt: skip
COCO_TO_VOC = {coco: voc for voc, coco in VOC_TO_COCO.items()}
EXPECTED_IMAGES = {"train": 118287, "val": 5000}


def rasterize_voc_mask(coco, image_info) -> np.ndarray:
    """VOC-class mask of one COCO image.

    Args:
        coco: a `pycocotools.coco.COCO` index.
        image_info: the image's entry of `coco.imgs`.

    Returns:
        uint8 H×W: 0 background (incl. non-VOC objects), 1..20 VOC classes, 255 where two
        or more kept instances overlap or a kept crowd region lies.
    """
    height, width = image_info["height"], image_info["width"]
    label = np.zeros((height, width), dtype=np.uint8)
    cover = np.zeros((height, width), dtype=np.uint8)
    crowd = np.zeros((height, width), dtype=bool)
    for annotation in coco.loadAnns(coco.getAnnIds(imgIds=image_info["id"])):
        voc_class = COCO_TO_VOC.get(annotation["category_id"])
        if voc_class is None:
            continue
        inside = coco.annToMask(annotation).astype(bool)
        if annotation.get("iscrowd", 0):
            crowd |= inside
            continue
        label[inside] = voc_class
        cover[inside] = np.minimum(cover[inside], 254) + 1
    label[(cover > 1) | crowd] = IGNORE_LABEL
    return label


def _load_coco(annotations_zip, split):
    from pycocotools.coco import COCO

    member = f"annotations/instances_{split}2017.json"
    with zipfile.ZipFile(annotations_zip) as archive:
        if member not in archive.namelist():
            raise ValueError(f"{annotations_zip} has no {member}: not the official archive.")
        with archive.open(member) as file:
            dataset = json.load(file)
    coco = COCO()
    coco.dataset = dataset
    coco.createIndex()
    return coco


class CocoVoc(ArchiveBuilder):
    """COCO 2017 with the 20 VOC classes, for GCN stage 1 (`coco_voc`)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict] = {"1.0.0": "train and val from the official COCO 2017 zips."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
    Place the official COCO 2017 zips, unmodified, in the manual directory ({URL}):
      train2017.zip, val2017.zip, annotations_trainval2017.zip
    """
    EXPECTED_IMAGES: ClassVar[dict] = EXPECTED_IMAGES

    def _info(self) -> tfds.core.DatasetInfo:
        return segmentation_info(self, __doc__, "jpeg", "https://cocodataset.org/")

    def _split_generators(self, dl_manager):
        annotations = require_archive(dl_manager.manual_dir, ANNOTATIONS_ZIP, "zip", URL)
        splits = {}
        for split, zip_name in IMAGE_ZIPS.items():
            images = require_archive(dl_manager.manual_dir, zip_name, "zip", URL)
            coco = _load_coco(annotations, split)
            self.check_count(f"instances_{split}2017.json", len(coco.imgs),
                        self.EXPECTED_IMAGES[split], ANNOTATIONS_ZIP)
            splits[split] = self._generate_examples(coco, images, split)
        return splits

    def _generate_examples(self, coco, images_zip, split):

        with zipfile.ZipFile(images_zip) as archive:
            members = set(archive.namelist())
            for image_id in sorted(coco.imgs):
                info = coco.imgs[image_id]
                mask = rasterize_voc_mask(coco, info)
                if np.sum((mask > 0) & (mask != IGNORE_LABEL)) < MIN_VOC_PIXELS:
                    continue
                member = f"{split}2017/{info['file_name']}"
                if member not in members:
                    raise ValueError(f"Example {info['file_name']!r}: no {member} in {images_zip}.")
                image_bytes = archive.read(member)
                with load_image(io.BytesIO(image_bytes), name=member) as image:
                    size = image.size[::-1]
                    if image.mode != "RGB":  # a few COCO JPEGs are grey
                        image_value = np.array(image.convert("RGB"))
                    else:
                        image_value = io.BytesIO(image_bytes)
                validate_mask(
                    mask[..., None], NUM_CLASSES, IGNORE_LABEL, name=member, image_size=size
                )
                yield (
                    image_id,
                    {
                        "image": image_value,
                        "segmentation_mask": mask[..., None],
                        "file_name": info["file_name"],
                    },
                )


DATASET = DatasetInfo(
    name="coco_voc",
    num_classes=NUM_CLASSES,
    class_names=VOC_CLASSES,
    splits=tuple(EXPECTED_IMAGES),
    train_split="train",
    eval_split="val",
    loader=tfds_loader(CocoVoc),
    ignore_label=IGNORE_LABEL,
    palette=voc_colors(NUM_CLASSES),
    description="COCO 2017 restricted to the 20 VOC classes (GCN stage 1), TFDS",
)


__getattr__ = moved_attributes(__name__)
