"""TFDS builders of keras_lk (importing this module registers them with TFDS)."""

from keras_lk.data.builders.cityscapes import (
    CityscapesTrainIds,
    from_tfds_cityscapes,
    labelids_to_trainids,
)
from keras_lk.data.builders.voc_sbd import VocSbd

__all__ = ["CityscapesTrainIds", "VocSbd", "from_tfds_cityscapes", "labelids_to_trainids"]
