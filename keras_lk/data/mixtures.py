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

from keras_lk.data.dataset_info import DatasetInfo


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a mixture: a registered dataset and the split it contributes."""

    dataset: str
    split: str


def mixture(name, parts, evaluation, description):
    """A `DatasetInfo` whose ``train`` split mixes `parts` and whose ``val`` is `evaluation`.

    Args:
        name: registry name of the mixture.
        parts: `Part`s whose splits make the training set; all must share classes and
            ignore label (checked on first load).
        evaluation: the `Part` evaluated as ``val``.
        description: one line for ``--help``.
    """
    def load(split, *, data_dir, manual_dir, num_images, image_size, shuffle_files):
        from keras_lk.data.registry import DATASETS

        infos = [DATASETS[part.dataset] for part in (*parts, evaluation)]
        first = infos[0]
        for info in infos[1:]:
            if (info.num_classes, info.ignore_label) != (first.num_classes, first.ignore_label):
                raise ValueError(
                    f"mixture {name!r}: {info.name!r} has {info.num_classes} classes and "
                    f"ignore label {info.ignore_label}, {first.name!r} {first.num_classes} "
                    f"and {first.ignore_label}; the parts must agree.")
        if split == "val":
            return DATASETS[evaluation.dataset].load(
                evaluation.split, data_dir=data_dir, manual_dir=manual_dir,
                num_images=num_images, image_size=image_size, shuffle_files=shuffle_files)
        datasets = [DATASETS[part.dataset].load(
            part.split, data_dir=data_dir, manual_dir=manual_dir, image_size=image_size,
            shuffle_files=shuffle_files) for part in parts]
        mixed = _sample_by_size(datasets, name)
        return mixed if num_images is None else mixed.take(num_images)

    first = _registered(parts[0].dataset)
    return DatasetInfo(
        name=name, num_classes=first.num_classes, class_names=first.class_names,
        splits=("train", "val"), train_split="train", eval_split="val", loader=load,
        ignore_label=first.ignore_label, palette=first.palette,
        needs_data_dir=first.needs_data_dir, description=description,
    )


def _registered(dataset):
    """The `DatasetInfo` of a part, read from the dataset files (not the registry, which
    imports this module)."""
    from keras_lk.data.builders import cityscapes, coco_voc, voc_sbd

    known = {info.name: info for info in (voc_sbd.DATASET, coco_voc.DATASET,
                                          *cityscapes.DATASETS)}
    if dataset not in known:
        raise ValueError(f"mixture part must be one of {tuple(known)}, received {dataset!r}.")
    return known[dataset]


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
            (Part("coco_voc", "train"), Part("voc_sbd", "train_aug")), Part("voc_sbd", "val"),
            "GCN VOC stage 1: COCO (VOC classes) + VOC + SBD train_aug; val = VOC 2012 val, "
            "TFDS"),
    mixture("cityscapes_fine_coarse",
            (Part("cityscapes_train_ids/fine", "train"),
             Part("cityscapes_train_ids/coarse", "train_extra")),
            Part("cityscapes_train_ids/fine", "val"),
            "Cityscapes train-fine + train-extra coarse (22,973 images); val = fine val, TFDS"),
)
