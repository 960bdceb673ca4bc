import archives
import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_lk.data import DATASETS
from keras_lk.data.builders import ade20k

ROOT = "ADEChallengeData2016/"
IMAGES = {"training": ["ADE_train_00000001", "ADE_train_00000002", "ADE_train_00000003"],
          "validation": ["ADE_val_00000001", "ADE_val_00000002"]}
SIZES = {"train": 3, "val": 2}
SHAPE = (12, 20)


def _raw_labels(k):
    """Raw labels 0..150, every value present across the examples; distinct per `k`."""
    return ((np.arange(SHAPE[0] * SHAPE[1]) + 7 * k) % 151).astype(np.uint8).reshape(SHAPE)


def write_ade20k(manual_dir, truncate=None, drop_label=None, grey=None, extra=None):
    """A tiny ADEChallengeData2016.zip of the official layout. `truncate`: an image cut
    in half; `drop_label`: an image without annotation; `grey`: a grey JPEG; `extra`:
    more members ({name: bytes})."""
    manual_dir.mkdir(parents=True, exist_ok=True)
    files = {ROOT + "objectInfo150.txt": b"Idx\tRatio\tTrain\tVal\tName\n1\t0.1\t1\t1\twall\n",
             ROOT + "sceneCategories.txt": b"ADE_train_00000001 airport_terminal\n"}
    for folder, stems in IMAGES.items():
        for k, stem in enumerate(stems):
            rgb = np.full((*SHAPE, 3), 30 * (k + 1), np.uint8)
            jpeg = archives.jpeg_bytes(rgb[..., 0] if stem == grey else rgb)
            files[f"{ROOT}images/{folder}/{stem}.jpg"] = (
                jpeg[: len(jpeg) // 2] if stem == truncate else jpeg)
            if stem != drop_label:
                files[f"{ROOT}annotations/{folder}/{stem}.png"] = archives.png_bytes(
                    _raw_labels(k))
    files.update(extra or {})
    archives.write_zip(manual_dir / ade20k.ARCHIVE, files)


def _prepare(tmp_path, manual):
    builder = ade20k.Ade20k(data_dir=str(tmp_path / "data"))
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    return builder


def test_reduce_zero_label():
    raw = np.arange(151, dtype=np.uint8)
    reduced = ade20k.reduce_zero_label(raw)
    assert reduced[0] == 255 and reduced.dtype == np.uint8
    np.testing.assert_array_equal(reduced[1:], np.arange(150))
    with pytest.raises(ValueError, match=r"must be in \[0, 150\], received \[0, 151\]"):
        ade20k.reduce_zero_label(np.array([0, 151]))


def test_registry_entry_has_the_150_classes_and_their_colours():
    info = DATASETS["ade20k"]
    assert info.num_classes == 150 and info.ignore_label == 255
    assert len(info.class_names) == len(set(info.class_names)) == 150
    assert info.class_names[:3] == ("wall", "building", "sky")
    assert info.class_names[12] == "person" and info.class_names[-1] == "flag"
    assert len(info.palette) == 150 and info.palette[0] == (120, 120, 120)
    assert info.splits == ("train", "val") and info.train_split == "train"


def test_builder_reads_the_official_layout_and_reduces_labels(tmp_path, monkeypatch):
    monkeypatch.setattr(ade20k.Ade20k, "EXPECTED_SPLIT_SIZES", SIZES)
    manual = tmp_path / "manual"
    write_ade20k(manual, grey="ADE_val_00000002")
    builder = _prepare(tmp_path, manual)
    for split, folder in (("train", "training"), ("val", "validation")):
        examples = list(builder.as_dataset(split=split).as_numpy_iterator())
        assert len(examples) == len(IMAGES[folder])
        for example in examples:
            name = example["file_name"].decode()
            k = IMAGES[folder].index(name.removesuffix(".jpg"))
            mask = example["segmentation_mask"][..., 0]
            np.testing.assert_array_equal(mask, ade20k.reduce_zero_label(_raw_labels(k)))
            assert set(np.unique(mask)) <= set(range(150)) | {255}
            assert example["image"].shape == (*SHAPE, 3)
            assert abs(int(example["image"].mean()) - 30 * (k + 1)) <= 2  # JPEG
    # Through the registry, as the trainer loads it (the dataset is prepared already).
    val = DATASETS["ade20k"].load("val", data_dir=str(tmp_path / "data"))
    assert len(list(val)) == 2


@pytest.mark.parametrize(("kind", "match"), [
    ("missing", r"Missing archive 'ADEChallengeData2016\.zip'.*ADEChallengeData2016\.zip"),
    ("not_zip", r"is not a zip archive"),
    ("layout", (r"no image of split 'train' under ADEChallengeData2016/images/training/\. "
               r"Expected the official layout: ADEChallengeData2016/images/")),
    ("no_label", (r"example 'ADE_train_00000002' has no annotation ADEChallengeData2016/"
                 r"annotations/training/ADE_train_00000002\.png\. Expected the official")),
    ("count", r"Split 'train' has 3 examples, expected 20210 with the official archives"),
    ("truncated", r"ADE_val_00000001\.jpg in the archive is corrupt or truncated"),
    ("label_range", r"ADE_train_00000001\.png has label 200; ADE20K's are 0 \(other\)"),
])
def test_a_bad_archive_names_what_was_expected(kind, match, tmp_path, monkeypatch):
    if kind != "count":
        monkeypatch.setattr(ade20k.Ade20k, "EXPECTED_SPLIT_SIZES", SIZES)
    manual = tmp_path / "manual"
    if kind == "missing":
        manual.mkdir()
        (manual / "something_else.zip").write_bytes(b"")
    elif kind == "not_zip":
        manual.mkdir()
        (manual / ade20k.ARCHIVE).write_bytes(b"not a zip")
    elif kind == "layout":  # the images one folder too high, as an unzipped-and-rezipped copy
        manual.mkdir()
        archives.write_zip(manual / ade20k.ARCHIVE, {
            "images/training/ADE_train_00000001.jpg": archives.jpeg_bytes(
                np.zeros((*SHAPE, 3), np.uint8))})
    elif kind == "label_range":
        labels = np.full(SHAPE, 200, np.uint8)  # replaces the member's labels
        write_ade20k(manual, extra={
            f"{ROOT}annotations/training/ADE_train_00000001.png": archives.png_bytes(labels)})
    else:
        write_ade20k(manual, truncate="ADE_val_00000001" if kind == "truncated" else None,
                     drop_label="ADE_train_00000002" if kind == "no_label" else None)
    with pytest.raises(ValueError, match=match):
        _prepare(tmp_path, manual)
