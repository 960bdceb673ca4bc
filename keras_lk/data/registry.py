"""The dataset registry: name → `DatasetInfo` (classes, ignore label, splits, palette,
loader).

Adding a dataset: write its file (a TFDS builder or a loader function, and its
`DatasetInfo` named ``DATASET``), then add it to the list below.
"""

from __future__ import annotations

from keras_lk.data import folder, mixtures, scenes
from keras_lk.data.builders import ade20k, cityscapes, coco_voc, voc_sbd
from keras_lk.registry import Registry

DATASETS = Registry("dataset", [
    scenes.DATASET,
    voc_sbd.DATASET,
    *cityscapes.DATASETS,
    coco_voc.DATASET,
    ade20k.DATASET,
    *mixtures.DATASETS,
    scenes.SMALL_OBJECTS_DATASET,
    scenes.RARE_CLASSES_DATASET,
    scenes.PRETEXT_DATASET,
    folder.DATASET,
])
