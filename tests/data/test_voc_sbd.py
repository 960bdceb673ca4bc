import archives
import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_lk.data.builders import voc_sbd

VOC_TRAIN = ["2007_000001", "2007_000002", "2007_000003"]
VOC_VAL = ["2007_000010", "2007_000011"]
SBD_TRAIN = ["2007_000001", "2008_000100", "2008_000101", "2007_000010"]  # 1 VOC val id
SBD_VAL = ["2008_000200", "2007_000002", "2007_000011"]
TRAIN_AUG = {
    "2007_000001",
    "2007_000002",
    "2007_000003",
    "2008_000100",
    "2008_000101",
    "2008_000200",
}


def _mask(image_id, source):
    """Distinct per id and per source (VOC PNG vs SBD .mat), so the test sees which was used."""
    seed = int(image_id.replace("_", "")) % 1000
    mask = np.full((20, 24), seed % 20 + 1, np.uint8)
    mask[:, :8] = 0
    if source == "voc":
        mask[5:7] = 255  # VOC void band
    else:
        mask[:, 20:] = 15  # person, only in SBD
    return mask


def write_voc_sbd(manual_dir, truncate=None):
    """The tiny archives; `truncate` names an image id whose JPEG is cut in half."""
    manual_dir.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)
    voc = "VOCdevkit/VOC2012/"
    files = {
        voc + "ImageSets/Segmentation/train.txt": archives.lines(VOC_TRAIN),
        voc + "ImageSets/Segmentation/val.txt": archives.lines(VOC_VAL),
        voc + "ImageSets/Segmentation/trainval.txt": archives.lines(VOC_TRAIN + VOC_VAL),
    }
    for image_id in VOC_TRAIN + VOC_VAL + ["2009_999999"]:  # + a JPEG without label
        jpeg = archives.jpeg_bytes(rgb)
        files[voc + f"JPEGImages/{image_id}.jpg"] = (
            jpeg[: len(jpeg) // 2] if image_id == truncate else jpeg)
    for image_id in VOC_TRAIN + VOC_VAL:
        files[voc + f"SegmentationClass/{image_id}.png"] = archives.png_bytes(
            _mask(image_id, "voc"), palette=True
        )
    archives.write_tar(manual_dir / voc_sbd.VOC_ARCHIVE, files)
    sbd = "benchmark_RELEASE/dataset/"
    files = {sbd + "train.txt": archives.lines(SBD_TRAIN), sbd + "val.txt": archives.lines(SBD_VAL)}
    for image_id in SBD_TRAIN + SBD_VAL:
        files[sbd + f"img/{image_id}.jpg"] = archives.jpeg_bytes(rgb)
        files[sbd + f"cls/{image_id}.mat"] = archives.mat_bytes(_mask(image_id, "sbd"))
    archives.write_tar(manual_dir / voc_sbd.SBD_ARCHIVE, files, mode="w:gz")


@pytest.fixture
def tiny_sizes(monkeypatch):
    monkeypatch.setattr(
        voc_sbd.VocSbd, "EXPECTED_SPLIT_SIZES", {"train": 3, "val": 2, "train_aug": 6}
    )


def _config(manual_dir):
    return tfds.download.DownloadConfig(manual_dir=str(manual_dir))


def test_voc_sbd_builder_splits_and_labels(tmp_path, tiny_sizes):
    write_voc_sbd(tmp_path / "manual")
    splits = tfds.load(
        "voc_sbd",
        data_dir=str(tmp_path / "data"),
        download_and_prepare_kwargs={"download_config": _config(tmp_path / "manual")},
    )
    assert {name: len(list(ds)) for name, ds in splits.items()} == {
        "train": 3,
        "val": 2,
        "train_aug": 6,
    }
    aug = {ex["file_name"].decode(): ex for ex in splits["train_aug"].as_numpy_iterator()}
    assert {name[:-4] for name in aug} == TRAIN_AUG  # no VOC-val id leaks in
    for name, example in aug.items():
        image_id = name[:-4]
        source = "voc" if image_id in VOC_TRAIN else "sbd"
        assert example["segmentation_mask"].dtype == np.uint8
        assert example["segmentation_mask"].shape == (20, 24, 1)
        assert example["image"].shape == (20, 24, 3)
        np.testing.assert_array_equal(example["segmentation_mask"][..., 0], _mask(image_id, source))
    val = {ex["file_name"].decode(): ex for ex in splits["val"].as_numpy_iterator()}
    assert set(val) == {"2007_000010.jpg", "2007_000011.jpg"}
    # Palette indices, not colours: 255 and the class index survive.
    values = np.unique(val["2007_000010.jpg"]["segmentation_mask"])
    assert values.tolist() == [0, 11, 255]


def test_wrong_split_sizes_are_reported(tmp_path):
    write_voc_sbd(tmp_path / "manual")
    builder = voc_sbd.VocSbd(data_dir=str(tmp_path / "data"))
    with pytest.raises(ValueError, match="'train' has 3 examples, expected 1464"):
        builder.download_and_prepare(download_config=_config(tmp_path / "manual"))


def test_missing_truncated_and_wrong_archives(tmp_path, tiny_sizes):
    manual = tmp_path / "manual"
    write_voc_sbd(manual)
    sbd = manual / voc_sbd.SBD_ARCHIVE
    content = sbd.read_bytes()

    def prepare(name):
        builder = voc_sbd.VocSbd(data_dir=str(tmp_path / name))
        builder.download_and_prepare(download_config=_config(manual))

    sbd.unlink()
    with pytest.raises(ValueError, match="Missing archive 'benchmark.tgz'.*semantic_contours"):
        prepare("a")
    sbd.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match="benchmark.tgz is truncated or corrupt"):
        prepare("b")
    sbd.write_bytes(archives.json_bytes({"not": "a tar"}))
    with pytest.raises(ValueError, match="benchmark.tgz is not a tar archive"):
        prepare("c")


def test_bad_label_names_the_file(tmp_path, tiny_sizes):
    manual = tmp_path / "manual"
    write_voc_sbd(manual)
    bad = _mask("2008_000100", "sbd")
    bad[0, 0] = 40
    sbd = "benchmark_RELEASE/dataset/"
    files = {sbd + "train.txt": archives.lines(SBD_TRAIN), sbd + "val.txt": archives.lines(SBD_VAL)}
    for image_id in SBD_TRAIN + SBD_VAL:
        files[sbd + f"img/{image_id}.jpg"] = archives.jpeg_bytes(np.zeros((20, 24, 3), np.uint8))
        mask = bad if image_id == "2008_000100" else _mask(image_id, "sbd")
        files[sbd + f"cls/{image_id}.mat"] = archives.mat_bytes(mask)
    archives.write_tar(manual / voc_sbd.SBD_ARCHIVE, files, mode="w:gz")
    builder = voc_sbd.VocSbd(data_dir=str(tmp_path / "data"))
    with pytest.raises(ValueError, match=r"2008_000100.jpg.*labels \[40\]"):
        builder.download_and_prepare(download_config=_config(manual))


def test_truncated_image_names_the_file(tmp_path, tiny_sizes):
    manual = tmp_path / "manual"
    write_voc_sbd(manual, truncate="2007_000003")
    builder = voc_sbd.VocSbd(data_dir=str(tmp_path / "data"))
    with pytest.raises(ValueError, match=r"2007_000003\.jpg in the archive is corrupt or "
                                         r"truncated"):
        builder.download_and_prepare(download_config=_config(manual))


def test_load_dataset_helper(tmp_path, tiny_sizes):
    from keras_lk import data

    write_voc_sbd(tmp_path / "manual")
    ds = data.load_dataset(
        "voc_sbd", "val", data_dir=tmp_path / "data", manual_dir=tmp_path / "manual"
    )
    batches = list(data.eval_pipeline(ds, num_classes=21))
    assert len(batches) == 2 and batches[0][1].shape == (1, 20, 24, 1)
    with pytest.raises(ValueError, match="name"):
        data.load_dataset("voc", "val", data_dir=tmp_path)


def test_an_empty_manual_dir_says_which_archives_it_must_hold(tmp_path):
    from keras_lk.data import load_dataset

    (tmp_path / "manual").mkdir()
    with pytest.raises(ValueError, match=r"--manual-dir .* is empty or missing.*"
                                         r"VOCtrainval_11-May-2012\.tar"):
        load_dataset("voc_sbd", "val", data_dir=str(tmp_path / "data"),
                     manual_dir=str(tmp_path / "manual"))
    with pytest.raises(ValueError, match="is not prepared in --data-dir .* give --manual-dir"):
        load_dataset("voc_sbd", "val", data_dir=str(tmp_path / "data"))


def test_a_replaced_archive_is_extracted_again(tmp_path, tiny_sizes):
    """Extraction is keyed by the archive's checksum, not its name (issue 10 case 6):
    after the user replaces a broken archive, the same --data-dir prepares from the new
    one instead of repeating the old error."""
    manual = tmp_path / "manual"
    write_voc_sbd(manual, truncate="2007_000003")
    with pytest.raises(ValueError, match=r"2007_000003\.jpg"):
        voc_sbd.VocSbd(data_dir=str(tmp_path / "data")).download_and_prepare(
            download_config=_config(manual))
    write_voc_sbd(manual)  # the good archive, same file name
    builder = voc_sbd.VocSbd(data_dir=str(tmp_path / "data"))
    builder.download_and_prepare(download_config=_config(manual))
    assert builder.info.splits["val"].num_examples == 2
    extracted = sorted(p.name for p in (tmp_path / "data" / "downloads" /
                                        "keras_lk_extracted").iterdir())
    assert len(extracted) == 3 and all(name.count(".") >= 2 for name in extracted)


def test_an_interrupted_extraction_is_redone(tmp_path):
    from keras_lk.data.builders._archives import archive_checksum, extract_tar

    class Manager:
        download_dir = tmp_path / "downloads"

    write_voc_sbd(tmp_path / "manual")
    archive = tmp_path / "manual" / voc_sbd.VOC_ARCHIVE
    target = extract_tar(Manager, archive)
    assert target.name.endswith(archive_checksum(archive)[:16])
    (target / ".complete").unlink()  # as if killed before the end
    image = next(target.rglob("*.jpg"))
    image.write_bytes(b"")
    assert extract_tar(Manager, archive) == target and image.stat().st_size > 0


@pytest.mark.slow
def test_a_subset_is_built_only_on_purpose_and_never_passes_for_the_official(tmp_path):
    """The tiny archives hold fewer images than the official ones: refused by default,
    built with allow_subset (a warning per split, a marker), and a dataset prepared so is
    refused again unless allowed."""
    from keras_lk.data import load_dataset
    from keras_lk.training import TrainConfig, train

    write_voc_sbd(tmp_path / "manual")
    kwargs = {"data_dir": str(tmp_path / "data"), "manual_dir": str(tmp_path / "manual")}
    with pytest.raises(ValueError, match="has 3 examples, expected 1464 .*--allow-subset"):
        load_dataset("voc_sbd", "train", **kwargs)
    with pytest.warns(UserWarning, match="Building a subset on purpose: Split 'train' has 3 of "
                                         "the official 1464"):
        assert len(list(load_dataset("voc_sbd", "val", allow_subset=True, **kwargs))) == 2
    with pytest.raises(ValueError, match="was prepared from a subset .*Split 'train': 3 of 1464"):
        load_dataset("voc_sbd", "val", **kwargs)
    result = train(TrainConfig(
        output_dir=str(tmp_path / "run"), dataset="voc_sbd", allow_subset=True,
        backbone="resnet10_narrow", model_options={"k": 3}, crop_size=32, batch_size=2,
        steps=1, steps_per_epoch=1, tensorboard=False, verbose=0, **kwargs))
    assert result.step == 1
