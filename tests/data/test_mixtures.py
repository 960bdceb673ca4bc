"""Mixtures: one registered dataset whose train split is several datasets' (GCN stage 1,
Cityscapes fine + coarse), read from tiny archives of the official layouts."""

import collections

import pytest
from test_cityscapes import write_cityscapes
from test_coco_voc import write_coco
from test_voc_sbd import write_voc_sbd

from keras_lk.data import DATASETS
from keras_lk.data.builders import cityscapes, coco_voc, voc_sbd

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools


def _names(dataset):
    return [example["file_name"].decode() for example in dataset.as_numpy_iterator()]


def test_cityscapes_fine_coarse_trains_on_both_and_evaluates_on_fine_val(tmp_path, monkeypatch):
    monkeypatch.setattr(cityscapes.CityscapesTrainIds, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_extra": 2})
    manual = tmp_path / "manual"
    write_cityscapes(manual, "gtFine", "leftImg8bit_trainvaltest.zip", "gtFine_trainvaltest.zip",
                     ["train", "val", "test"])
    write_cityscapes(manual, "gtCoarse", "leftImg8bit_trainextra.zip", "gtCoarse.zip",
                     ["train_extra"])
    info = DATASETS["cityscapes_fine_coarse"]
    assert (info.num_classes, info.splits, info.class_names) == (
        19, ("train", "val"), DATASETS["cityscapes_train_ids/fine"].class_names)
    kwargs = {"data_dir": str(tmp_path / "data"), "manual_dir": str(manual)}
    fine = _names(DATASETS["cityscapes_train_ids/fine"].load("train", **kwargs))
    coarse = _names(DATASETS["cityscapes_train_ids/coarse"].load("train_extra", **kwargs))
    mixed = _names(info.load("train", **kwargs))
    assert collections.Counter(mixed) == collections.Counter(fine + coarse)  # each image once
    assert sorted(_names(info.load("val", **kwargs))) == sorted(
        _names(DATASETS["cityscapes_train_ids/fine"].load("val", **kwargs)))
    assert len(_names(info.load("train", num_images=2, **kwargs))) == 2


def test_gcn_voc_stage1_is_coco_plus_train_aug(tmp_path, monkeypatch):
    monkeypatch.setattr(voc_sbd.VocSbd, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_aug": 6})
    monkeypatch.setattr(coco_voc.CocoVoc, "EXPECTED_IMAGES", {"train": 4, "val": 2})
    manual = tmp_path / "manual"
    write_voc_sbd(manual)
    write_coco(manual)
    kwargs = {"data_dir": str(tmp_path / "data"), "manual_dir": str(manual)}
    mixed = _names(DATASETS["gcn_voc_stage1"].load("train", **kwargs))
    coco = _names(DATASETS["coco_voc"].load("train", **kwargs))
    voc = _names(DATASETS["voc_sbd"].load("train_aug", **kwargs))
    assert len(coco) == 2 and len(voc) == 6  # COCO drops images without VOC objects
    assert collections.Counter(mixed) == collections.Counter(coco + voc)
    assert len(_names(DATASETS["gcn_voc_stage1"].load("val", **kwargs))) == 2


def test_an_unknown_split_of_a_mixture_is_refused():
    with pytest.raises(ValueError, match="must be one of \\('train', 'val'\\)"):
        DATASETS["cityscapes_fine_coarse"].load("test", data_dir="/nonexistent")


def test_sampling_by_size_draws_every_example_once_interleaved():
    import tensorflow as tf

    from keras_lk.data.mixtures import _sample_by_size

    coco = tf.data.Dataset.from_tensor_slices({"file_name": [f"c{i}" for i in range(30)]})
    voc = tf.data.Dataset.from_tensor_slices({"file_name": [f"v{i}" for i in range(10)]})
    mixed = _names(_sample_by_size([coco, voc], "test"))
    assert sorted(mixed) == sorted([f"c{i}" for i in range(30)] + [f"v{i}" for i in range(10)])
    assert mixed[:20] != [f"c{i}" for i in range(20)]  # interleaved, not concatenated
    unknown = coco.filter(lambda x: True)  # cardinality unknown: concatenated
    assert len(_names(_sample_by_size([unknown, voc], "test"))) == 40


def test_removed_stage1_mixture_names_the_registered_mixture():
    from keras_lk.data import builders

    with pytest.raises(AttributeError, match="gcn_voc_stage1"):
        builders.stage1_mixture  # noqa: B018
