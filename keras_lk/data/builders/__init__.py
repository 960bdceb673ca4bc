"""TFDS builders of keras_lk, each beside its `DatasetInfo` (listed by
`keras_lk/data/registry.py`), prepared from the official archives in a `manual_dir`:

- `voc_sbd`: PASCAL VOC 2012 segmentation + SBD (`train`, `val`, `train_aug`).
- `cityscapes_train_ids/fine`, `cityscapes_train_ids/coarse`: Cityscapes with trainIds.
- `coco_voc`: COCO 2017 restricted to the VOC classes (GCN stage 1).
- `ade20k`: ADE20K SceneParsing (ADEChallengeData2016), 150 classes, 0 ignored.

A builder's registry loader is `tfds_loader(Builder)`: it builds the class (not a TFDS
name) with the subset permission as an argument, prepares once and reads.
"""

from keras_lk._moved import moved_attributes
from keras_lk.data.builders._archives import ArchiveBuilder
from keras_lk.data.builders._loader import tfds_loader
from keras_lk.data.builders.ade20k import Ade20k, reduce_zero_label
from keras_lk.data.builders.cityscapes import (
    CityscapesTrainIds,
    from_tfds_cityscapes,
    labelids_to_trainids,
)
from keras_lk.data.builders.coco_voc import CocoVoc, rasterize_voc_mask
from keras_lk.data.builders.voc_sbd import VocSbd

__all__ = [
    "Ade20k",
    "ArchiveBuilder",
    "CityscapesTrainIds",
    "CocoVoc",
    "VocSbd",
    "from_tfds_cityscapes",
    "labelids_to_trainids",
    "rasterize_voc_mask",
    "reduce_zero_label",
    "tfds_loader",
]

__getattr__ = moved_attributes(__name__)
