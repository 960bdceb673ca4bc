"""Datasets that are several registered datasets at once: one run over COCO + SBD + VOC.

GCN's first VOC stage trains on COCO (restricted to the VOC classes) together with VOC +
SBD, and its first Cityscapes stage on the coarse and the fine training images (GCN
Sec. 4.1.3, 4.2; GALD Table 2 "fine + coarse"). A mixture is one registry entry: its
``train`` split samples every part's training split in proportion to its size, so each
image is drawn equally often whatever part it comes from, and its ``val`` split is one
part's evaluation split (the VOC or Cityscapes val set the paper reports on).
"""

from __future__ import annotations

import dataclasses

from keras_lk.data.builders import cityscapes, coco_voc, voc_sbd
from keras_lk.data.dataset_info import DatasetInfo


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a mixture: a dataset (its registry entry) and the split it contributes."""

    dataset: DatasetInfo
    split: str


def mixture(name, parts, evaluation, description):
    """A `DatasetInfo` whose ``train`` split mixes `parts` and whose ``val`` is `evaluation`.

    Args:
        name: registry name of the mixture.
        parts: `Part`s whose splits make the training set; all must share classes and
            ignore label.
        evaluation: the `Part` evaluated as ``val``.
        description: one line for ``--help``.
    """
    first = parts[0].dataset
    for part in (*parts[1:], evaluation):
        info = part.dataset
        if (info.num_classes, info.ignore_label) != (first.num_classes, first.ignore_label):
            raise ValueError(
                f"mixture {name!r}: {info.name!r} has {info.num_classes} classes and ignore "
                f"label {info.ignore_label}, {first.name!r} {first.num_classes} and "
                f"{first.ignore_label}; the parts must agree.")

    def load(split, *, num_images, **kwargs):  # kwargs: `DatasetInfo.load`'s, allow_subset too
        if split == "val":
            return evaluation.dataset.load(evaluation.split, num_images=num_images, **kwargs)
        mixed = _sample_by_size([part.dataset.load(part.split, **kwargs) for part in parts],
                                name)
        return mixed if num_images is None else mixed.take(num_images)

    return DatasetInfo(
        name=name, num_classes=first.num_classes, class_names=first.class_names,
        splits=("train", "val"), train_split="train", eval_split="val", loader=load,
        ignore_label=first.ignore_label, palette=first.palette,
        needs_data_dir=first.needs_data_dir, description=description,
    )


def _sample_by_size(datasets, name):
    """The examples of every dataset, each drawn with probability ∝ its size; a finite
    dataset of all their examples (sizes from the TFDS cardinality)."""
    import tensorflow as tf

    sizes = [int(d.cardinality()) for d in datasets]
    if min(sizes) < 0:  # unknown or infinite: concatenate; the pipeline shuffles
        return datasets[0] if len(datasets) == 1 else _concatenate(datasets)
    if min(sizes) == 0:
        raise ValueError(f"mixture {name!r}: a part has no examples (sizes {sizes}).")
    weights = [size / sum(sizes) for size in sizes]
    # A fixed seed: the same order of sources in every run; the training pipeline's own
    # seeded shuffle then orders the examples.
    return tf.data.Dataset.sample_from_datasets(datasets, weights=weights, seed=0,
                                                stop_on_empty_dataset=False)


def _concatenate(datasets):
    mixed = datasets[0]
    for dataset in datasets[1:]:
        mixed = mixed.concatenate(dataset)
    return mixed


DATASETS = (
    mixture("gcn_voc_stage1",
            (Part(coco_voc.DATASET, "train"), Part(voc_sbd.DATASET, "train_aug")),
            Part(voc_sbd.DATASET, "val"),
            "GCN VOC stage 1: COCO (VOC classes) + VOC + SBD train_aug; val = VOC 2012 val, "
            "TFDS"),
    mixture("cityscapes_fine_coarse",
            (Part(cityscapes.FINE, "train"), Part(cityscapes.COARSE, "train_extra")),
            Part(cityscapes.FINE, "val"),
            "Cityscapes train-fine + train-extra coarse (22,973 images); val = fine val, TFDS"),
)
