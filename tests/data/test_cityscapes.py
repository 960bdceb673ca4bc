import archives
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_lk.data.builders import cityscapes

# The 34 labelIds of the official label table (0..33) and their trainIds.
EXPECTED_TRAIN_IDS = {
    7: 0,
    8: 1,
    11: 2,
    12: 3,
    13: 4,
    17: 5,
    19: 6,
    20: 7,
    21: 8,
    22: 9,
    23: 10,
    24: 11,
    25: 12,
    26: 13,
    27: 14,
    28: 15,
    31: 16,
    32: 17,
    33: 18,
}


def test_label_id_to_train_id_mapping():
    ids = np.arange(256, dtype=np.uint8)
    mapped = cityscapes.labelids_to_trainids(ids)
    expected = np.array([EXPECTED_TRAIN_IDS.get(i, 255) for i in range(256)], np.uint8)
    np.testing.assert_array_equal(mapped, expected)
    np.testing.assert_array_equal(
        cityscapes.labelids_to_trainids(tf.constant(ids)).numpy(), expected
    )
    assert sorted(set(mapped.tolist()) - {255}) == list(range(19))
    assert len(cityscapes.TRAIN_CLASSES) == 19
    assert cityscapes.TRAIN_CLASSES[13] == "car" and mapped[26] == 13


def _label_ids(seed):
    # Every labelId 0..33 appears; shape 8×16 like a (tiny) 1:2 Cityscapes frame.
    rng = np.random.default_rng(seed)
    return rng.permutation(np.resize(np.arange(34, dtype=np.uint8), 128)).reshape(8, 16)


FRAMES = {
    "train": ["aachen_000000_000019", "aachen_000001_000019", "bochum_000000_000313"],
    "val": ["frankfurt_000000_000294", "lindau_000000_000019"],
    "test": ["berlin_000000_000019"],
    "train_extra": ["augsburg_000000_000000", "bad-honnef_000000_000000"],
}


def write_cityscapes(manual_dir, annotation, image_zip, label_zip, splits, truncate=None):
    manual_dir.mkdir(parents=True, exist_ok=True)
    images, labels = {}, {}
    for split in splits:
        for k, stem in enumerate(FRAMES[split]):
            city = stem.split("_")[0]
            rgb = np.full((8, 16, 3), 10 * k, np.uint8)
            png = archives.rgb_png_bytes(rgb)
            images[f"leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png"] = (
                png[: len(png) // 2] if stem == truncate else png)
            base = f"{annotation}/{split}/{city}/{stem}_{annotation}_"
            labels[base + "labelIds.png"] = archives.png_bytes(_label_ids(k))
            labels[base + "color.png"] = archives.rgb_png_bytes(rgb)
    images["license.txt"] = b"tiny"
    archives.write_zip(manual_dir / image_zip, images)
    archives.write_zip(manual_dir / label_zip, labels)


def test_fine_and_coarse_builders(tmp_path, monkeypatch):
    monkeypatch.setattr(
        cityscapes.CityscapesTrainIds,
        "EXPECTED_SPLIT_SIZES",
        {"train": 3, "val": 2, "train_extra": 2},
    )
    manual = tmp_path / "manual"
    write_cityscapes(
        manual,
        "gtFine",
        "leftImg8bit_trainvaltest.zip",
        "gtFine_trainvaltest.zip",
        ["train", "val", "test"],
    )
    write_cityscapes(
        manual, "gtCoarse", "leftImg8bit_trainextra.zip", "gtCoarse.zip", ["train_extra"]
    )
    config = tfds.download.DownloadConfig(manual_dir=str(manual))
    fine = tfds.load(
        "cityscapes_train_ids/fine",
        data_dir=str(tmp_path / "data"),
        download_and_prepare_kwargs={"download_config": config},
    )
    assert {k: len(list(v)) for k, v in fine.items()} == {"train": 3, "val": 2}
    for example in fine["train"].as_numpy_iterator():
        name = example["file_name"].decode()
        stem = name.replace("_leftImg8bit.png", "")
        k = FRAMES["train"].index(stem)
        np.testing.assert_array_equal(
            example["segmentation_mask"][..., 0], cityscapes.labelids_to_trainids(_label_ids(k))
        )
        assert example["image"].shape == (8, 16, 3) and np.all(example["image"] == 10 * k)
    coarse = tfds.load(
        "cityscapes_train_ids/coarse",
        split="train_extra",
        data_dir=str(tmp_path / "data"),
        download_and_prepare_kwargs={"download_config": config},
    )
    assert len(list(coarse)) == 2


def test_missing_label_and_wrong_counts(tmp_path, monkeypatch):
    manual = tmp_path / "manual"
    write_cityscapes(
        manual,
        "gtFine",
        "leftImg8bit_trainvaltest.zip",
        "gtFine_trainvaltest.zip",
        ["train", "val"],
    )
    config = tfds.download.DownloadConfig(manual_dir=str(manual))
    builder = cityscapes.CityscapesTrainIds(config="fine", data_dir=str(tmp_path / "a"))
    with pytest.raises(ValueError, match="'train' has 3 examples, expected 2975"):
        builder.download_and_prepare(download_config=config)
    (manual / "gtFine_trainvaltest.zip").unlink()
    builder = cityscapes.CityscapesTrainIds(config="fine", data_dir=str(tmp_path / "b"))
    with pytest.raises(ValueError, match="Missing archive 'gtFine_trainvaltest.zip'.*cityscapes"):
        builder.download_and_prepare(download_config=config)


def test_from_tfds_cityscapes():
    ds = tf.data.Dataset.from_tensors(
        {
            "image_id": "aachen_000000_000019",
            "image_left": tf.zeros((8, 16, 3), tf.uint8),
            "segmentation_label": tf.constant(_label_ids(0)[..., None]),
        }
    )
    example = next(iter(cityscapes.from_tfds_cityscapes(ds)))
    np.testing.assert_array_equal(
        example["segmentation_mask"].numpy()[..., 0], cityscapes.labelids_to_trainids(_label_ids(0))
    )
    assert example["file_name"].numpy() == b"aachen_000000_000019"


def test_truncated_image_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(cityscapes.CityscapesTrainIds, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_extra": 2})
    manual = tmp_path / "manual"
    write_cityscapes(manual, "gtFine", "leftImg8bit_trainvaltest.zip",
                     "gtFine_trainvaltest.zip", ["train", "val"], truncate="lindau_000000_000019")
    builder = cityscapes.CityscapesTrainIds(config="fine", data_dir=str(tmp_path / "data"))
    with pytest.raises(ValueError, match=r"lindau_000000_000019_leftImg8bit\.png in the "
                                         r"archive is corrupt or truncated"):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))

