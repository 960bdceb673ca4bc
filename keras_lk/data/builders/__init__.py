"""TFDS builders of keras_lk (importing this module registers them with TFDS).

- `voc_sbd`: PASCAL VOC 2012 segmentation + SBD (`train`, `val`, `train_aug`).
- `cityscapes_train_ids/fine`, `cityscapes_train_ids/coarse`: Cityscapes with trainIds.
- `coco_voc`: COCO 2017 restricted to the VOC classes (GCN stage 1).
"""

from keras_lk.data.builders.cityscapes import (
    CityscapesTrainIds,
    from_tfds_cityscapes,
    labelids_to_trainids,
)
from keras_lk.data.builders.coco_voc import CocoVoc, rasterize_voc_mask, stage1_mixture
from keras_lk.data.builders.voc_sbd import VocSbd

__all__ = [
    "CityscapesTrainIds",
    "CocoVoc",
    "VocSbd",
    "from_tfds_cityscapes",
    "labelids_to_trainids",
    "rasterize_voc_mask",
    "stage1_mixture",
]
